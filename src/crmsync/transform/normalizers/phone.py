"""Phone numbers to E.164 ("+14155550142"), with phonenumbers' verdict but not its cost.

phonenumbers costs about 13 µs a value; a million distinct numbers would take 13 s. The shapes
people mostly type are decided vectorized by `phone_fast`, from the library's own metadata;
everything else goes to the library, once per distinct value, remembered across calls.

"Possible" (right length for the country) is the test, not "valid" (an assigned range):
555 numbers and new ranges must not fail a contact. An extension is kept after the number,
"+14155550142 ext. 123", since E.164 has no place for it and dropping it loses data.
"""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
import polars as pl
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

from crmsync.transform.normalizers.phone_fast import EXTENSION_LABEL, LOCAL_ONLY, fast_path

_CACHE_SIZE = 1 << 18
_PARSE_ERRORS = {
    NumberParseException.INVALID_COUNTRY_CODE: "no country code (set a default region)",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}
_LENGTH_ERRORS = {
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: LOCAL_ONLY,
    ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.TOO_LONG: "too long",
    ValidationResult.INVALID_LENGTH: "wrong number of digits for its country",
}


@lru_cache(maxsize=_CACHE_SIZE)
def parse_phone(value: str, default_region: str | None) -> tuple[str | None, str | None]:
    """(E.164, None) or (None, why not) for one value, by phonenumbers."""
    text = value.strip()
    if text.startswith("00"):
        text = "+" + text[2:]  # "00" is the international prefix nearly everywhere but NANP
    try:
        number = phonenumbers.parse(text, default_region)
    except NumberParseException as exc:
        return None, _PARSE_ERRORS.get(exc.error_type, "not a phone number")
    verdict = phonenumbers.is_possible_number_with_reason(number)
    if verdict != ValidationResult.IS_POSSIBLE:
        return None, _LENGTH_ERRORS.get(verdict, "not a possible phone number")
    formatted = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if number.extension:
        formatted += EXTENSION_LABEL + number.extension
    return formatted, None


def normalize_phone(series: pl.Series, default_region: str | None) -> tuple[pl.Series, pl.Series]:
    """(E.164, or the trimmed original where it cannot be read; the reason, or null).

    Blank is null, without a reason. Decided by `phone_fast` where it can, by phonenumbers
    (once per distinct value) where it cannot.
    """
    region = default_region.upper() if default_region else None
    trimmed = pl.col("value").str.strip_chars()
    frame = pl.DataFrame({"value": series.cast(pl.String)}).select(
        pl.when(trimmed.str.len_bytes() > 0).then(trimmed).alias("value")
    )
    frame = pl.concat([frame, fast_path(frame["value"], region)], how="horizontal")
    undecided = (
        pl.col("value").is_not_null() & pl.col("fast").is_null() & pl.col("fast_error").is_null()
    )
    slow = frame.filter(undecided)["value"].unique()
    answers = [parse_phone(value, region) for value in slow.to_list()]
    formatted = pl.Series([answer[0] for answer in answers], dtype=pl.String)
    errors = pl.Series([answer[1] for answer in answers], dtype=pl.String)
    looked_up = pl.col("value").replace_strict(
        slow, formatted, default=None, return_dtype=pl.String
    )
    reason = pl.col("value").replace_strict(slow, errors, default=None, return_dtype=pl.String)
    result = (
        frame.lazy()
        .select(
            pl.coalesce(pl.col("fast"), looked_up, pl.col("value")).alias(series.name),
            pl.coalesce(pl.col("fast_error"), pl.when(pl.col("fast").is_null()).then(reason)).alias(
                "error"
            ),
        )
        .collect()
    )
    return result[series.name], result["error"]
