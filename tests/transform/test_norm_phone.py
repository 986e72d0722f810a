"""Phones to E.164: a table of real-world shapes. The fast path against phonenumbers, on the
library's own numbers and generated ones, is in test_oracle_phone.py."""

from __future__ import annotations

import polars as pl
import pytest

from crmsync.transform.normalizers import phone as phone_module
from crmsync.transform.normalizers.phone import normalize_phone

CASES = [
    ("(415) 555-0142", "US", "+14155550142"),
    ("415.555.0142", "US", "+14155550142"),
    ("1-415-555-0142", "US", "+14155550142"),
    ("+1 415 555 0142", None, "+14155550142"),
    ("+44 20 7946 0958", "US", "+442079460958"),
    ("020 7946 0958", "GB", "+442079460958"),
    ("+44 (0)20 7946 0958", None, "+442079460958"),
    ("0049 30 123456", "DE", "+4930123456"),
    ("011 49 30 123456", "US", "+4930123456"),
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
        "011 33 1 23 45 67 89",
    ]
    values, errors = normalize_phone(pl.Series(common), "US")
    assert values.to_list() == [
        "+14155550142", "+14155550142", "+14155550142", "+442079460958", "+33123456789",
    ]  # fmt: skip
    assert errors.null_count() == len(common)
