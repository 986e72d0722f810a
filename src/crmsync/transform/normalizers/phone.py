"""Phone numbers to E.164 ("+14155550142"), with phonenumbers' verdict but not its cost.

phonenumbers costs about 13 µs a value; a million distinct numbers would take 13 s. The shapes
people mostly type are decided vectorized by `phone_fast`, from the library's own metadata;
everything else goes to the library, once per distinct value, remembered across calls.

"Possible" (right length for the country) is the test, not "valid" (an assigned range):
555 numbers and new ranges must not fail a contact. An extension is kept after the number,
"+14155550142 ext. 123", since E.164 has no place for it and dropping it loses data.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
import polars as pl
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

from crmsync.transform.normalizers.names import blank_as_null, trimmed
from crmsync.transform.normalizers.phone_fast import (
    EXTENSION_LABEL,
    LOCAL_ONLY,
    TOO_LONG,
    fast_plan,
)

_CACHE_SIZE = 1 << 18
UNSTABLE = "ambiguous: a national prefix inside the number"
NO_REGION = "no country code (set a default region)"
UNKNOWN_CODE = "unknown country code"
_PARSE_ERRORS = {
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: TOO_LONG,
}
_LENGTH_ERRORS = {
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: LOCAL_ONLY,
    ValidationResult.INVALID_COUNTRY_CODE: UNKNOWN_CODE,
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.TOO_LONG: TOO_LONG,
    ValidationResult.INVALID_LENGTH: "wrong number of digits for its country",
}
_STARTS_WITH_PLUS = re.compile(r"[^+＋\d]*[+＋]")  # where the parser looks for its "+"


@lru_cache(maxsize=_CACHE_SIZE)
def parse_phone(value: str, default_region: str | None) -> tuple[str | None, str | None]:
    """(E.164, None) or (None, why not) for one value, by phonenumbers. Its international
    prefix is the default region's (from the library's metadata), so "00" is one only where
    it is dialled out with. Digits the default region cannot read that make a valid number
    with a "+" before them are that number (`without_plus`)."""
    text = value.strip()
    try:
        number = phonenumbers.parse(text, default_region)
    except NumberParseException as exc:
        return without_plus(text) or (None, _parse_error(exc, text, default_region))
    verdict = phonenumbers.is_possible_number_with_reason(number)
    if verdict != ValidationResult.IS_POSSIBLE:
        why = _LENGTH_ERRORS.get(verdict, "not a possible phone number")
        return without_plus(text) or (None, why)
    formatted = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if _e164_again(formatted) != formatted:
        return None, UNSTABLE
    if number.extension:
        formatted += EXTENSION_LABEL + number.extension
    return formatted, None


# Digits alone, as exports of messaging and marketing tools write an international number
# without its "+" ("4915112345678", "33612345678"): a country code needs 1 to 3 of them, and
# E.164 allows 15 in all.
_DIGITS_ONLY = re.compile(r"[0-9][0-9 ().\-]*")
_COUNTRY_DIGITS = range(8, 16)


def without_plus(text: str) -> tuple[str, None] | None:
    """The number `text` is with a "+" before it, when the default region could not read it:
    digits alone (no "+", no letters) that make a valid number (an assigned range, not only a
    possible length) in the country their first digits name. None otherwise."""
    if not _DIGITS_ONLY.fullmatch(text):
        return None
    digits = re.sub(r"[^0-9]", "", text)
    if len(digits) not in _COUNTRY_DIGITS:
        return None
    try:
        number = phonenumbers.parse("+" + digits, None)
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    formatted = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return (formatted, None) if _e164_again(formatted) == formatted else None


def _parse_error(exc: NumberParseException, text: str, region: str | None) -> str:
    """What is missing, in words. A country-code failure is the number's when it names one
    (after "+" or an international prefix), else the missing (or unknown) default region's."""
    if exc.error_type != NumberParseException.INVALID_COUNTRY_CODE:
        return _PARSE_ERRORS.get(exc.error_type, "not a phone number")
    if region in phonenumbers.SUPPORTED_REGIONS or _STARTS_WITH_PLUS.match(text):
        return UNKNOWN_CODE
    if region is None:
        return NO_REGION
    return f"no country code, and the default region {region} is not one phonenumbers knows"


def _e164_again(formatted: str) -> str | None:
    """What the library makes of its own output. A national prefix inside the number (the
    "0" of "+49 0 30...") can be stripped once more, so the result would not be stable."""
    try:
        again = phonenumbers.parse(formatted, None)
    except NumberParseException:
        return None
    return phonenumbers.format_number(again, PhoneNumberFormat.E164)


def phone_input(expr: pl.Expr) -> pl.Expr:
    """What the phone normalizers read: trimmed text, blank as null."""
    return blank_as_null(trimmed(expr.cast(pl.String)))


def phone_plan(values: pl.LazyFrame, default_region: str | None) -> pl.LazyFrame:
    """The vectorized part of `normalize_phone` as a lazy plan over a "value" column that is
    `phone_input`'s output; finish it with `finish_phones`."""
    return fast_plan(values, _region(default_region))


def finish_phones(
    values: pl.Series, decided: pl.DataFrame, default_region: str | None
) -> tuple[pl.Series, pl.Series]:
    """Ask phonenumbers about what the plan left undecided (each distinct value once).

    Each answer is written where its row is (`scatter`): only the undecided rows are looked
    up, never the whole column (a million phones: 87 to 40 ms)."""
    region = _region(default_region)
    fast = decided.filter(pl.col("fast").is_not_null())
    failed = decided.filter(pl.col("fast_error").is_not_null())
    settled = pl.repeat(False, len(values), dtype=pl.Boolean, eager=True)
    either = pl.col("fast").is_not_null() | pl.col("fast_error").is_not_null()
    settled.scatter(decided.filter(either)["position"], True)
    positions = (values.is_not_null() & ~settled).arg_true()
    pending = values.gather(positions)
    slow = pending.unique()
    answers = [parse_phone(value, region) for value in slow.to_list()]
    formatted = pl.Series([answer[0] for answer in answers], dtype=pl.String)
    reasons = pl.Series([answer[1] for answer in answers], dtype=pl.String)
    looked_up = pending.replace_strict(slow, formatted, default=None, return_dtype=pl.String)
    reason = pending.replace_strict(slow, reasons, default=None, return_dtype=pl.String)
    result = values.clone()  # what nothing could read stays as given
    result.scatter(fast["position"], fast["fast"])
    read = looked_up.is_not_null()
    result.scatter(positions.filter(read), looked_up.filter(read))
    error = pl.repeat(None, len(values), dtype=pl.String, eager=True).alias("error")
    error.scatter(failed["position"], failed["fast_error"])
    refused = reason.is_not_null()
    error.scatter(positions.filter(refused), reason.filter(refused))
    return result, error


def _region(default_region: str | None) -> str | None:
    return default_region.upper() if default_region else None


def normalize_phone(series: pl.Series, default_region: str | None) -> tuple[pl.Series, pl.Series]:
    """(E.164, or the trimmed original where it cannot be read; the reason, or null).

    Blank is null, without a reason. Decided by `phone_fast` where it can, by phonenumbers
    (once per distinct value) where it cannot.
    """
    values = pl.DataFrame({"value": series}).select(phone_input(pl.col("value")))
    decided = phone_plan(values.lazy(), default_region).collect()
    return finish_phones(values["value"].alias(series.name), decided, default_region)
