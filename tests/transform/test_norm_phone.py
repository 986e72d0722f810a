"""Phones to E.164: table of real-world shapes, and the fast path agreeing with phonenumbers."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync.transform.normalizers import phone as phone_module
from crmsync.transform.normalizers.phone import normalize_phone, parse_phone

CASES = [
    ("(415) 555-0142", "US", "+14155550142"),
    ("415.555.0142", "US", "+14155550142"),
    ("1-415-555-0142", "US", "+14155550142"),
    ("+1 415 555 0142", None, "+14155550142"),
    ("+44 20 7946 0958", "US", "+442079460958"),
    ("020 7946 0958", "GB", "+442079460958"),
    ("+44 (0)20 7946 0958", None, "+442079460958"),
    ("0049 30 123456", "DE", "+4930123456"),
    ("0049 30 123456", "US", "+4930123456"),
    ("+49 030 123456", None, "+4930123456"),
    ("+39 06 1234 5678", None, "+390612345678"),
    ("415-555-0142 x123", "US", "+14155550142 ext. 123"),
    ("+14155550142", None, "+14155550142"),
]


@pytest.mark.parametrize(
    ("raw", "region", "expected"), CASES, ids=[f"{raw}-{region}" for raw, region, _ in CASES]
)
def test_normalize_phone_to_e164(raw: str, region: str | None, expected: str) -> None:
    values, errors = normalize_phone(pl.Series([raw]), region)
    assert values.to_list() == [expected]
    assert errors.to_list() == [None]


FAILURES = [
    ("garbage", "US", "not a phone number"),
    ("555-0142", "US", "a local number without its area code"),
    ("(415) 555-0142", None, "no country code (set a default region)"),
    ("+1 415 555", None, "too short"),
    ("+1 415 555 0142 9999 99", None, "too long"),
]


@pytest.mark.parametrize(
    ("raw", "region", "reason"), FAILURES, ids=[f"{raw}-{region}" for raw, region, _ in FAILURES]
)
def test_unreadable_phone_is_kept_with_a_reason(raw: str, region: str | None, reason: str) -> None:
    values, errors = normalize_phone(pl.Series([f"  {raw} "]), region)
    assert values.to_list() == [raw]
    assert errors.to_list() == [reason]


def test_nulls_stay_null_without_error() -> None:
    values, errors = normalize_phone(pl.Series([None, "+14155550142"], dtype=pl.String), "US")
    assert values.to_list() == [None, "+14155550142"]
    assert errors.to_list() == [None, None]


def test_common_shapes_never_reach_the_library(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(value: str, region: str | None) -> tuple[str | None, str | None]:
        raise AssertionError(f"library called for {value!r}")

    monkeypatch.setattr(phone_module, "parse_phone", refuse)
    common = [
        "(415) 555-0142",
        "415-555-0142",
        "1 415 555 0142",
        "+44 20 7946 0958",
        "0033 1 23 45 67 89",
    ]
    values, errors = normalize_phone(pl.Series(common), "US")
    assert values.to_list() == [
        "+14155550142", "+14155550142", "+14155550142", "+442079460958", "+33123456789",
    ]  # fmt: skip
    assert errors.null_count() == len(common)


def _shape(digits: str, prefix: str, seps: list[str]) -> str:
    out = prefix
    for index, digit in enumerate(digits):
        out += digit + (seps[index % len(seps)] if index % 3 == 2 else "")
    return out


_SHAPED = st.builds(
    _shape,
    st.text(alphabet="0123456789", min_size=3, max_size=16),
    st.sampled_from(["", "+", "00", "+1 ", "1-", "(", "+44 (0)", "+61 ", "+49 0", "011 "]),
    st.lists(st.sampled_from(["", " ", "-", ".", ") ", "("]), min_size=1, max_size=3),
)
_EXTENSION = st.builds(
    lambda label, digits: f"{label}{digits}",
    st.sampled_from([" x", "x", " ext. ", " ext", " extension ", ", x", " X "]),
    st.integers(0, 9999999).map(str),
)
_PHONEISH = st.one_of(
    _SHAPED,
    st.builds(lambda base, ext: base + ext, _SHAPED, _EXTENSION),
    st.text(alphabet="0123456789 +-().x", min_size=1, max_size=20),
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(_PHONEISH, min_size=1, max_size=15),
    st.sampled_from(["US", "CA", "GB", "DE", "FR", "AU", "JP", None]),
)
def test_fast_path_agrees_with_phonenumbers(values: list[str], region: str | None) -> None:
    got_values, got_errors = normalize_phone(pl.Series(values), region)
    for raw, value, error in zip(values, got_values.to_list(), got_errors.to_list(), strict=True):
        if not raw.strip():
            assert (value, error) == (None, None)
            continue
        formatted, reason = parse_phone(raw.strip(), region)
        assert error == reason, raw
        assert value == (formatted if reason is None else raw.strip()), raw


@settings(max_examples=150, deadline=None)
@given(st.lists(_PHONEISH, min_size=1, max_size=10), st.sampled_from(["US", "GB", None]))
def test_normalize_phone_is_idempotent(values: list[str], region: str | None) -> None:
    once, _ = normalize_phone(pl.Series(values), region)
    twice, _ = normalize_phone(once, region)
    assert twice.to_list() == once.to_list()
