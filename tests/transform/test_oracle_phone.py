"""phonenumbers as the oracle of `normalize_phone` and its fast path.

Every `(number, region)` phonenumbers' own unit tests parse (tests/data/oracles), its example
numbers written a dozen ways in their own region and a foreign one, and 20,000 seeded
mutations of those go through `normalize_phone` and `phone_fast.fast_path`. The answer must
be the library's (`parse`, then `is_possible_number_with_reason`, E.164) up to the
deliberate deviations of `DELIBERATE`, and the fast path must decide only what the library
path decides the same way.
"""

from __future__ import annotations

import re
from collections import defaultdict

import phonenumbers
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult
from tests.transform.oracle_inputs import FOREIGN_REGIONS, phone_inputs
from tests.transform.oracles import Tally, library_keys, same_version, vectors

from crmsync.transform.normalizers.phone import (
    UNSTABLE,
    finish_phones,
    normalize_phone,
    phone_input,
    phone_plan,
)
from crmsync.transform.normalizers.phone_fast import EXTENSION_LABEL, spread

VECTORS = [(v["number"], v["region"]) for v in vectors("phonenumbers")]
GENERATED = phone_inputs()

# The words crmsync gives each of the library's reasons.
_PARSE_WORDS = {
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}
_LENGTH_WORDS = {
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "a local number without its area code",
    ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.TOO_LONG: "too long",
    ValidationResult.INVALID_LENGTH: "wrong number of digits for its country",
}


def _region(region: str | None) -> str | None:
    return region.upper() if region else None


def library_phone(value: str, region: str | None) -> tuple[str | None, str | None, str | None]:
    """(E.164, extension, None) or (None, None, crmsync's words for the library's reason)."""
    text = value.strip()
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        if exc.error_type != NumberParseException.INVALID_COUNTRY_CODE:
            return None, None, _PARSE_WORDS[exc.error_type]
        start = re.search(r"[+＋\d]", text)  # where the parser starts reading
        if region in phonenumbers.SUPPORTED_REGIONS or (start and start.group() in "+＋"):
            return None, None, "unknown country code"  # the number named an unknown one
        if region is None:
            return None, None, "no country code (set a default region)"
        return (
            None,
            None,
            f"no country code, and the default region {region} is not one "
            + ("phonenumbers knows"),
        )
    verdict = phonenumbers.is_possible_number_with_reason(number)
    if verdict != ValidationResult.IS_POSSIBLE:
        return None, None, _LENGTH_WORDS[verdict]
    return phonenumbers.format_number(number, PhoneNumberFormat.E164), number.extension, None


def _reads_back(e164: str) -> bool:
    again = phonenumbers.parse(e164, None)
    return phonenumbers.format_number(again, PhoneNumberFormat.E164) == e164


def with_plus(value: str) -> str | None:
    """E.164 of digits alone (8 to 15 of them, nothing but spaces, dots, dashes and brackets
    between) read with a "+" before them, when the library holds that a valid number and
    reads its E.164 back the same; else None."""
    text = value.strip()
    if not re.fullmatch(r"[0-9][0-9 ().\-]*", text):
        return None
    digits = re.sub(r"[^0-9]", "", text)
    if not 8 <= len(digits) <= 15:
        return None
    try:
        number = phonenumbers.parse("+" + digits, None)
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return e164 if _reads_back(e164) else None


def expected(value: str, region: str | None) -> tuple[str | None, str | None, str | None]:
    """What `normalize_phone` must answer for `value`, from the library and `DELIBERATE`
    alone: (value, reason, the deviation that applies or None)."""
    if not value.strip():
        return None, None, None
    e164, extension, reason = library_phone(value, region)
    if reason is not None:
        plus = with_plus(value)
        if plus is not None:
            return plus, None, "phone-international-without-plus"
        return value.strip(), reason, None
    assert e164 is not None
    if not _reads_back(e164):
        return value.strip(), UNSTABLE, "phone-national-prefix-inside-international"
    if extension:
        return f"{e164}{EXTENSION_LABEL}{extension}", None, "phone-extension-kept"
    return e164, None, None


def _by_region(pairs: list[tuple[str, str | None]]) -> dict[str | None, list[str]]:
    grouped: dict[str | None, list[str]] = defaultdict(list)
    for value, region in pairs:
        grouped[_region(region)].append(value)
    return grouped


def _tally(pairs: list[tuple[str, str | None]]) -> Tally:
    """Each answer judged against `expected`; the fast path's decisions are answers too, so
    it is held to the library as well. Counts what it decided as "fast path"."""
    tally = Tally()
    for region, values in _by_region(pairs).items():
        inputs = pl.DataFrame({"value": pl.Series(values, dtype=pl.String)})
        trimmed = inputs.select(phone_input(pl.col("value")))
        decided = phone_plan(trimmed.lazy(), region).collect()
        fast = spread(decided, len(values))
        ours, why = finish_phones(trimmed["value"], decided, region)
        answers = zip(values, ours, why, fast["fast"], fast["fast_error"], strict=True)
        for value, answer, reason, fast_answer, fast_reason in answers:
            want, want_reason, key = expected(value, region)
            if fast_answer is not None or fast_reason is not None:
                tally.counts["fast path"] += 1
                if (fast_answer or answer, fast_reason) != (answer, reason):
                    tally.disagreed(f"{value!r} in {region}: fast path {fast_answer!r}")
            if (answer, reason) != (want, want_reason):
                tally.disagreed(
                    f"{value!r} in {region}: crmsync {answer!r} {reason!r}, "
                    f"library {want!r} {want_reason!r}"
                )
            elif key is None:
                tally.agreed()
            else:
                tally.deliberate(key)
    return tally


def test_vectors_are_the_library_suite() -> None:
    assert len(VECTORS) == 2224


@pytest.mark.skipif(not same_version("phonenumbers"), reason="vectors from another version")
def test_vectors_agree_with_the_library() -> None:
    tally = _tally(VECTORS)
    tally.check()
    assert tally.used <= library_keys("phonenumbers")
    assert tally.counts["fast path"] > 150


@pytest.mark.slow  # ~40,000 numbers through the library: the whole suite runs it
def test_generated_agree_with_the_library() -> None:
    """Both deviations are needed and none other: the table is exact for phones."""
    tally = _tally(GENERATED)
    tally.check()
    assert tally.used == library_keys("phonenumbers")
    assert tally.counts["fast path"] > len(GENERATED) // 3


# Shapes the issue names, pinned.
CASES = [
    ("587-5004", "BS", "+12425875004", None),  # a one-area-code region fills it in
    ("587-5004", "US", "587-5004", "a local number without its area code"),
    ("0011 16502530000", "AU", "+16502530000", None),  # Australia dials out with 0011
    ("0081-650-253-0000", "SG", "+16502530000", None),  # 008 is Singapore's prefix, then +1
    ("011 44 20 7946 0958", "US", "+442079460958", None),
    ("0049 30 123456", "US", "0049 30 123456", "too long"),  # 00 dials out nowhere in the US
    ("0049 30 123456", "DE", "+4930123456", None),
    ("0049 30 123456", None, "0049 30 123456", "no country code (set a default region)"),
    ("+999 555 0100", "US", "+999 555 0100", "unknown country code"),
    ("00020000", "JP", "+8100020000", None),
    # another country's number without its "+", as Brevo and WhatsApp exports write them
    ("33612345678", "US", "+33612345678", None),
    ("49 151 12345678", None, "+4915112345678", None),
    ("99999999999", "US", "99999999999", "too long"),  # no valid number with a "+" either
]


@pytest.mark.parametrize(
    ("raw", "region", "value", "reason"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES]
)
def test_named_shapes(raw: str, region: str | None, value: str, reason: str | None) -> None:
    values, reasons = normalize_phone(pl.Series([raw]), region)
    assert (values.to_list(), reasons.to_list()) == ([value], [reason])


def _digits(prefix: str, body: str, seps: list[str]) -> str:
    out = prefix
    for index, digit in enumerate(body):
        out += digit + (seps[index % len(seps)] if index % 3 == 2 else "")
    return out


_SHAPED = st.builds(
    _digits,
    st.sampled_from(["", "+", "00", "011", "0011", "010", "008", "1", "1-", "(", "+1 ", "+44 (0)"]),
    st.text(alphabet="0123456789", min_size=3, max_size=18),
    st.lists(st.sampled_from(["", " ", "-", ".", ") ", "("]), min_size=1, max_size=3),
)
_WITH_EXTENSION = st.builds(lambda base, ext: f"{base} x{ext}", _SHAPED, st.integers(0, 99999))


@pytest.mark.slow  # generated inputs by the thousand: the whole suite runs it
@settings(max_examples=100, deadline=None, derandomize=True)
@given(
    st.lists(st.one_of(_SHAPED, _WITH_EXTENSION), min_size=1, max_size=20),
    st.sampled_from([*FOREIGN_REGIONS, "CA", "FR", "PR", "VI", "NZ", "IT"]),
)
def test_fast_path_and_library_agree_on_every_generated_input(
    values: list[str], region: str | None
) -> None:
    _tally([(value, region) for value in values]).check()


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.one_of(_SHAPED, _WITH_EXTENSION), max_size=10), st.sampled_from(["US", "AU"]))
def test_normalizing_is_idempotent(values: list[str], region: str) -> None:
    once, _ = normalize_phone(pl.Series(values, dtype=pl.String), region)
    twice, _ = normalize_phone(once, region)
    assert twice.to_list() == once.to_list()
