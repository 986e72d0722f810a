"""Numbers, booleans and timestamps from the ways people type them into spreadsheets."""

from __future__ import annotations

import polars as pl

from crmsync.transform.normalizers.names import clean_text
from crmsync.transform.normalizers.unique import Prepare, on_unique

# "45M" is 45e6: a suffix becomes a decimal exponent, so float parsing stays exact ("1.2k" is
# parsed as "1.2e3", which is exactly 1200.0, not 1.2 * 1000 = 1200.0000000000002).
_MAGNITUDES = {"k": "e3", "m": "e6", "mm": "e6", "mn": "e6", "b": "e9", "bn": "e9"}
_TEXT = "text"
_SUFFIX = r"(?i)(k|mm|mn|m|bn|b)$"
_CURRENCY = r"(?i)^(usd|eur|gbp|chf|cad|aud)|(usd|eur|gbp|chf|cad|aud)$|[$€£¥\s]"
_MANTISSA = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?|\.[0-9]+"
_NUMBER = rf"^[+-]?(?:{_MANTISSA})(?:[eE][+-]?[0-9]+)?$"
_PLAIN_INTEGER = r"^[+-]?[0-9]+$"
# Beyond 2**53 a float no longer holds every integer exactly.
MAX_EXACT_FLOAT_INTEGER = 2**53

TRUE_WORDS = ("true", "t", "yes", "y", "1", "on")
FALSE_WORDS = ("false", "f", "no", "n", "0", "off")

UTC = "UTC"
_ISO_WITH_OFFSET = ("%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M%z")
_ISO_NAIVE = ("%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M")
_DATE_ONLY = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d")
_MONTH_FIRST = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M")
_DAY_FIRST = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d.%m.%Y %H:%M")
_MONTH_FIRST_DATES = ("%m/%d/%Y",)
_DAY_FIRST_DATES = ("%d/%m/%Y", "%d.%m.%Y")
# The earliest year read: "%Y" takes "24" in "1/2/24" as the year 24, and "%Y/%m/%d" reads
# "1/2/24" as 0001-02-24. No date a CRM holds is that old: such a reading is refused, and a
# two-digit year is read by the "%y" forms of the slashed formats instead: 00-69 are 2000 to
# 2069, 70-99 are 1970 to 1999.
MIN_YEAR = 1000
FORMAT_SECONDS = "%Y-%m-%dT%H:%M:%SZ"
FORMAT_MILLISECONDS = "%Y-%m-%dT%H:%M:%S%.3fZ"


def parse_number(
    expr: pl.Expr, *, integer: bool, clean: bool = False, decimal_comma: bool = False
) -> pl.Expr:
    """Int64 (when `integer`) or Float64 from "$45,000,000", "45M", "4.5e7", "1.2k", " 12 ".

    Null where the text is not such a number, or (for integers) not a whole one. Commas
    must group thousands: "1,5" is refused rather than guessed, unless `decimal_comma`: then
    the comma is the decimal point and dots group thousands ("1.234,50" is 1234.5). `clean`:
    `clean_text` first (done per distinct value with the rest, not per row).
    """
    dtype = pl.Int64 if integer else pl.Float64

    def number(text: pl.Expr) -> pl.Expr:
        if decimal_comma:
            text = text.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True)
        return _number(text, integer=integer)

    return on_unique(expr.cast(pl.String), number, dtype, prepare=_cleaner(clean))


def _cleaner(clean: bool) -> Prepare | None:
    """`clean_text` of a series, when `clean`: a step of its own before the parse, which
    reads the cleaned text many times."""
    if not clean:
        return None

    def cleaned(series: pl.Series) -> pl.Series:
        return series.to_frame(_TEXT).select(clean_text(pl.col(_TEXT))).to_series()

    return cleaned


def _number(expr: pl.Expr, *, integer: bool) -> pl.Expr:
    text = expr.cast(pl.String).str.replace_all(_CURRENCY, "")
    suffix = text.str.extract(_SUFFIX, 1).str.to_lowercase()
    core = text.str.replace(_SUFFIX, "")
    readable = core.str.contains(_NUMBER) & ~(suffix.is_not_null() & core.str.contains("[eE]"))
    plain = core.str.replace_all(",", "")
    exponent = suffix.replace_strict(_MAGNITUDES, default="", return_dtype=pl.String)
    value = pl.concat_str(plain, exponent.fill_null("")).cast(pl.Float64, strict=False)
    value = pl.when(readable & value.is_finite()).then(value)
    if not integer:
        return value
    exact = plain.str.to_integer(strict=False)
    # a fraction written out is never whole, however close a float rounds it ("0.99...9")
    fraction = suffix.is_null() & plain.str.contains(r"^[^eE]*\.[0-9]*[1-9][0-9]*$")
    whole = (value == value.floor()) & (value.abs() < MAX_EXACT_FLOAT_INTEGER) & ~fraction
    return (
        pl.when(readable & suffix.is_null() & plain.str.contains(_PLAIN_INTEGER))
        .then(exact)
        .when(whole)
        .then(value.cast(pl.Int64, strict=False))
        .otherwise(None)
        .cast(pl.Int64)
    )


def parse_bool(expr: pl.Expr, *, clean: bool = False) -> pl.Expr:
    """Boolean from yes/no, true/false, y/n, 1/0, on/off (any case); else null. `clean`: as
    for `parse_number`."""
    return on_unique(expr.cast(pl.String), _bool, pl.Boolean, prepare=_cleaner(clean))


def _bool(expr: pl.Expr) -> pl.Expr:
    word = expr.cast(pl.String).str.strip_chars().str.to_lowercase()
    return (
        pl.when(word.is_in(TRUE_WORDS))
        .then(pl.lit(True))
        .when(word.is_in(FALSE_WORDS))
        .then(pl.lit(False))
        .otherwise(pl.lit(None, pl.Boolean))
    )


def parse_datetime(expr: pl.Expr, *, day_first: bool = False, clean: bool = False) -> pl.Expr:
    """Datetime in UTC from ISO-8601 (with an offset, "Z", or none: then taken as UTC), a date
    ("2025-07-15" is midnight UTC) or a slashed date ("07/15/2025", month first unless
    `day_first`). Null where none of these fits. `clean`: as for `parse_number`.
    """
    return on_unique(
        expr.cast(pl.String),
        lambda e: _datetime(e, day_first=day_first),
        pl.Datetime("us", UTC),
        prepare=_cleaner(clean),
    )


def _datetime(expr: pl.Expr, *, day_first: bool) -> pl.Expr:
    text = (
        expr.cast(pl.String)
        .str.strip_chars()
        .str.replace(r"^([0-9]{4}-[0-9]{2}-[0-9]{2})[ ]+", "${1}T")
        .str.replace(r"(?i)(z|\s*utc|\s*gmt)$", "+00:00")
    )
    times, dates = (
        (_DAY_FIRST, _DAY_FIRST_DATES) if day_first else (_MONTH_FIRST, _MONTH_FIRST_DATES)
    )
    attempts = [text.str.to_datetime(f, strict=False, time_zone=UTC) for f in _ISO_WITH_OFFSET]
    attempts += [
        text.str.to_datetime(f, strict=False).dt.replace_time_zone(UTC)
        for f in (*_ISO_NAIVE, *times, *_two_digit_years(times))
    ]
    attempts += [
        text.str.to_date(f, strict=False).cast(pl.Datetime("us")).dt.replace_time_zone(UTC)
        for f in (*_DATE_ONLY, *dates, *_two_digit_years(dates))
    ]
    return pl.coalesce(
        [
            pl.when(attempt.dt.year() >= MIN_YEAR).then(attempt.cast(pl.Datetime("us", UTC)))
            for attempt in attempts
        ]
    )


def _two_digit_years(formats: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f.replace("%Y", "%y") for f in formats)


def format_datetime(expr: pl.Expr) -> pl.Expr:
    """ISO-8601 UTC text, "2025-07-15T17:00:00Z" (milliseconds only when there are some)."""
    return (
        pl.when(expr.dt.millisecond() == 0)
        .then(expr.dt.strftime(FORMAT_SECONDS))
        .otherwise(expr.dt.strftime(FORMAT_MILLISECONDS))
    )
