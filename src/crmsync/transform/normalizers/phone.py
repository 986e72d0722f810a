"""Phone numbers to E.164 ("+14155550142"), with phonenumbers' verdict but not its cost.

phonenumbers costs about 13 µs a value; a million distinct numbers would take 13 s. Two shapes
are decided without it, vectorized, from phonenumbers' own metadata, and tests check they
agree with the library:
- international numbers ("+44 20 7946 0958", "0049 30 123456") whose country strips no
  national prefix from the digits given;
- NANP numbers in national form ("(415) 555-0142", "1-415-555-0142") when the default region
  is in country code 1.
Everything else goes to the library, once per UNIQUE value, remembered across calls.

"Possible" (right length for the country) is the test, not "valid" (an assigned range):
555 numbers and new ranges must not fail a contact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

import phonenumbers
import polars as pl
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumberFormat, ValidationResult

NANP_COUNTRY_CODE = 1
NANP_NATIONAL_DIGITS = 10
MAX_COUNTRY_CODE_DIGITS = 3
EXTENSION_LABEL = " ext. "
_CACHE_SIZE = 1 << 18
# Only these characters may surround the digits for the fast path to apply.
_FAST_SHAPE = r"^\+?[0-9 ().\-]+$"
_NON_DIGITS = r"[^0-9]"
_PARSE_ERRORS = {
    NumberParseException.INVALID_COUNTRY_CODE: "no country code (set a default region)",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}
_LENGTH_ERRORS = {
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "a local number without its area code",
    ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.TOO_LONG: "too long",
    ValidationResult.INVALID_LENGTH: "wrong number of digits for its country",
}


@dataclass(frozen=True)
class _CountryRule:
    lengths: tuple[int, ...]  # national significant number lengths that are IS_POSSIBLE
    prefixes: tuple[str, ...]  # plain-digit national prefixes the parser would strip


@cache
def _country_rules() -> dict[int, _CountryRule]:
    """Country codes the fast path may decide, with their possible lengths (from metadata)."""
    rules: dict[int, _CountryRule] = {}
    for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
        region = phonenumbers.region_code_for_country_code(code)
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, region)
        if metadata is None or metadata.general_desc is None:
            continue
        prefix = metadata.national_prefix_for_parsing
        if prefix is not None and not re.fullmatch(r"[0-9]+(\|[0-9]+)*", prefix):
            continue  # a pattern or carrier-code rule: leave it to the library
        if metadata.national_prefix_transform_rule is not None:
            continue
        desc = metadata.general_desc
        local_only = set(desc.possible_length_local_only or ())
        lengths = tuple(n for n in desc.possible_length or () if n > 0 and n not in local_only)
        if lengths:
            rules[code] = _CountryRule(lengths, tuple(prefix.split("|")) if prefix else ())
    return rules


def _region_country_code(region: str | None) -> int | None:
    if region is None:
        return None
    code = phonenumbers.country_code_for_region(region.upper())
    return code or None


@cache
def _nanp_national_lengths(region: str) -> tuple[int, ...]:
    metadata = PhoneMetadata.metadata_for_region(region.upper())
    if metadata is None or metadata.general_desc is None:
        return ()
    return tuple(metadata.general_desc.possible_length or ())


def _international(digits: pl.Expr) -> pl.Expr:
    """E.164 for "+<country><number>" digits where the country's rule decides, else null."""
    rules = _country_rules()
    code: pl.Expr = pl.lit(None, pl.String)
    for size in range(MAX_COUNTRY_CODE_DIGITS, 0, -1):
        head = digits.str.slice(0, size)
        sized = [str(c) for c in rules if len(str(c)) == size]
        code = pl.when(head.is_in(sized)).then(head).otherwise(code)  # codes are prefix-free
    national = digits.str.slice(code.str.len_bytes())
    allowed = [f"{c}:{n}" for c, rule in rules.items() for n in rule.lengths]
    length_ok = pl.concat_str(code, pl.lit(":"), national.str.len_bytes().cast(pl.String)).is_in(
        allowed
    )
    strips_prefix: pl.Expr = pl.lit(False)
    depth = max((len(rule.prefixes) for rule in rules.values()), default=0)
    for index in range(depth):  # the index-th alternative of each country's prefix pattern
        table = {str(c): r.prefixes[index] for c, r in rules.items() if len(r.prefixes) > index}
        prefix = code.replace_strict(
            list(table), list(table.values()), default=None, return_dtype=pl.String
        )
        strips_prefix = strips_prefix | national.str.starts_with(prefix).fill_null(False)
    return pl.when(length_ok & ~strips_prefix).then(pl.concat_str(pl.lit("+"), digits))


def _national_nanp(digits: pl.Expr, default_region: str | None) -> pl.Expr:
    """E.164 for a NANP number written nationally, when the default region is NANP."""
    if default_region is None or _region_country_code(default_region) != NANP_COUNTRY_CODE:
        return pl.lit(None, pl.String)
    if _nanp_national_lengths(default_region) != (NANP_NATIONAL_DIGITS,):
        return pl.lit(None, pl.String)
    return (
        pl.when(digits.str.contains(r"^[2-9][0-9]{9}$"))
        .then(pl.concat_str(pl.lit("+1"), digits))
        .when(digits.str.contains(r"^1[2-9][0-9]{9}$"))
        .then(pl.concat_str(pl.lit("+"), digits))
    )


def _fast_path(text: pl.Expr, default_region: str | None) -> pl.Expr:
    """E.164 where the vectorized rules decide, else null (meaning: ask the library)."""
    digits = text.str.replace_all(_NON_DIGITS, "")
    return (
        pl.when(~text.str.contains(_FAST_SHAPE))
        .then(None)
        .when(text.str.starts_with("+"))
        .then(_international(digits))
        .otherwise(_national_nanp(digits, default_region))
    )


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
    """(E.164, or the trimmed original where it cannot be read; the reason, or null)."""
    region = default_region.upper() if default_region else None
    trimmed = pl.col("value").str.strip_chars()
    value = pl.col("value")
    text = pl.when(value.str.starts_with("00")).then(pl.concat_str(pl.lit("+"), value.str.slice(2)))
    text = text.otherwise(value)
    frame = (
        pl.DataFrame({"value": series.cast(pl.String)})
        .select(pl.when(trimmed.str.len_bytes() > 0).then(trimmed).alias("value"))
        .with_columns(_fast_path(text, region).alias("fast"))
    )
    slow = frame.filter(pl.col("value").is_not_null() & pl.col("fast").is_null())["value"].unique()
    answers = [parse_phone(value, region) for value in slow.to_list()]
    formatted = pl.Series([answer[0] for answer in answers], dtype=pl.String)
    errors = pl.Series([answer[1] for answer in answers], dtype=pl.String)
    result = frame.select(
        pl.coalesce(
            pl.col("fast"),
            pl.col("value").replace_strict(slow, formatted, default=None, return_dtype=pl.String),
            pl.col("value"),
        ).alias(series.name),
        pl.when(pl.col("fast").is_null())
        .then(pl.col("value").replace_strict(slow, errors, default=None, return_dtype=pl.String))
        .alias("error"),
    )
    return result[series.name], result["error"]
