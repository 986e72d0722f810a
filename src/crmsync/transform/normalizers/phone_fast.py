"""The vectorized half of phone parsing: phonenumbers' own rules, run by polars.

Replays, for the shapes people mostly type, what `phonenumbers.parse` then
`is_possible_number_with_reason` decide, from the library's metadata (country codes, national
prefixes, international prefixes, number patterns, possible lengths):
- "+<country> <number>", and "<international prefix><country> <number>" with the default
  region's own prefix ("00", "011", "0011", "010", ...; none without a region): the country
  code, then the national prefix the parser strips (e.g. the "0" of "+44 (0)20 ..."), with
  its viability and length rules;
- national numbers when the default region is in country code 1: ten digits (or eleven with
  the leading 1), and seven-digit local numbers where the region does not fill in an area
  code (the library does that for one-area-code regions such as BS: 587-5004 is
  +12425875004);
- a trailing "x123" / "ext. 123" extension on any of those.
What it cannot decide stays null and goes to the library: it never answers differently.
Tests compare the two on the library's own test numbers and on generated ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import phonenumbers
import polars as pl
from phonenumbers import PhoneMetadata

NANP_COUNTRY_CODE = 1
NANP_NATIONAL_DIGITS = (10,)
NANP_LOCAL_DIGITS = (7,)
EXTENSION_LABEL = " ext. "
LOCAL_ONLY = "a local number without its area code"
TOO_LONG = "too long"
# Only these characters may surround the digits for the fast path to apply.
FAST_SHAPE = r"^\+?[0-9 ().\-]+$"
_EXTENSION = r"(?i)^(.*?[0-9)])[ ,]*(?:x|ext\.?|extension)[ .:]*([0-9]{1,6})$"
_FAST_SHAPE_PUNCTUATION = [" ", "(", ")", ".", "-", "+"]
_LITERALS = r"[0-9]+(?:\|[0-9]+)*"


@dataclass(frozen=True)
class CountryRule:
    code: str
    possible: tuple[int, ...]
    local: tuple[int, ...]
    prefix_pattern: str | None  # national_prefix_for_parsing
    literal_prefixes: tuple[str, ...] | None  # when that pattern is plain digits, and no transform
    general_pattern: str | None  # the national number pattern (viability)


@cache
def country_rules() -> dict[str, CountryRule]:
    rules: dict[str, CountryRule] = {}
    for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
        region = phonenumbers.region_code_for_country_code(code)
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, region)
        if metadata is None or metadata.general_desc is None:
            continue
        desc = metadata.general_desc
        possible = tuple(n for n in desc.possible_length or () if n > 0)
        if not possible:
            continue
        prefix = metadata.national_prefix_for_parsing or None
        literal = (
            tuple(prefix.split("|"))
            if prefix is not None
            and re.fullmatch(_LITERALS, prefix)
            and not metadata.national_prefix_transform_rule
            else None
        )
        rules[str(code)] = CountryRule(
            code=str(code),
            possible=possible,
            local=tuple(desc.possible_length_local_only or ()),
            prefix_pattern=prefix,
            literal_prefixes=literal,
            general_pattern=desc.national_number_pattern or None,
        )
    return rules


@cache
def _rules_frame() -> pl.DataFrame:
    rules = country_rules().values()
    depth = max((len(r.literal_prefixes or ()) for r in rules), default=0)
    columns: dict[str, list[object]] = {
        "code": [r.code for r in rules],
        "prefix_re": [f"^(?:{r.prefix_pattern})" if r.prefix_pattern else None for r in rules],
        "literal": [r.literal_prefixes is not None for r in rules],
        "general_re": [f"^(?:{r.general_pattern})$" if r.general_pattern else None for r in rules],
        "max_length": [max(r.possible) for r in rules],
    }
    for index in range(depth):
        columns[f"p{index}"] = [
            (r.literal_prefixes or ())[index] if len(r.literal_prefixes or ()) > index else None
            for r in rules
        ]
    return pl.DataFrame(columns)


@cache
def _lengths_frame() -> pl.DataFrame:
    """(code, length) -> is the length a possible one / a local-only one."""
    rows = [
        (r.code, n, n in r.possible and n not in r.local, n in r.local)
        for r in country_rules().values()
        for n in sorted({*r.possible, *r.local})
    ]
    return pl.DataFrame(
        rows,
        schema={
            "code": pl.String,
            "length": pl.UInt32,
            "possible": pl.Boolean,
            "local": pl.Boolean,
        },
        orient="row",
    )


def _with_lengths(frame: pl.LazyFrame, column: str, prefix: str) -> pl.LazyFrame:
    """Join the possible/local flags of len(column) as <prefix>possible, <prefix>local."""
    lengths = (
        _lengths_frame().lazy().rename({"possible": f"{prefix}possible", "local": f"{prefix}local"})
    )
    return (
        frame.with_columns(pl.col(column).str.len_bytes().alias(f"{prefix}length"))
        .join(lengths, left_on=["code", f"{prefix}length"], right_on=["code", "length"], how="left")
        .with_columns(pl.col(f"{prefix}possible", f"{prefix}local").fill_null(False))
    )


@cache
def _country_code_pattern() -> str:
    """The country codes as one anchored alternation: a regex finds the code in one look at
    the first digits, where slicing one, two and three digits and looking each up took twice
    as long."""
    return "^(" + "|".join(sorted(country_rules(), key=lambda code: (-len(code), code))) + ")"


def country_code(digits: pl.Expr) -> pl.Expr:
    """The country code `digits` start with (codes are prefix-free), or null."""
    return digits.str.extract(_country_code_pattern(), 1)


def has_country_code(digits: pl.Expr) -> pl.Expr:
    """Whether `digits` start with a country code."""
    return digits.str.contains(_country_code_pattern())


def _international(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Columns position, extension, fast, fast_error for "+" numbers and those dialled out (digits
    from `cut` on: after the international prefix)."""
    code = country_code(pl.col("digits"))
    literals = [name for name in _rules_frame().columns if re.fullmatch(r"p[0-9]+", name)]
    national = pl.col("national")
    matched: pl.Expr = pl.lit(None, pl.String)
    for name in reversed(literals):  # the first alternative that matches wins, as in `re`
        matched = (
            pl.when(national.str.starts_with(pl.col(name)).fill_null(False))
            .then(pl.col(name))
            .otherwise(matched)
        )
    matches = pl.col("prefix_re").is_not_null() & national.str.contains(pl.col("prefix_re"))
    viable = national.str.contains(pl.col("general_re")).fill_null(False)
    stripped_viable = pl.col("stripped").str.contains(pl.col("general_re")).fill_null(False)
    # parse() keeps the stripped number unless its length test is short/local-only/invalid.
    keeps_stripped = (pl.col("s_possible") | (pl.col("s_length") > pl.col("max_length"))) & ~pl.col(
        "s_local"
    )
    strip = pl.col("matches") & pl.col("literal") & ~(viable & ~stripped_viable) & keeps_stripped
    # A stripped number that starts with a prefix again would read differently a second time.
    restrips = pl.col("stripped").str.contains(pl.col("prefix_re")).fill_null(False)
    staged = (
        frame.with_columns(pl.col("digits").str.slice(pl.col("cut")))
        .with_columns(code.alias("code"))
        .filter(pl.col("code").is_not_null())
        .with_columns(pl.col("digits").str.slice(pl.col("code").str.len_bytes()).alias("national"))
        .join(_rules_frame().lazy(), on="code", how="left")
        .with_columns(matches.fill_null(False).alias("matches"), matched.alias("matched"))
        .with_columns(
            national.str.slice(pl.col("matched").str.len_bytes().fill_null(0)).alias("stripped")
        )
    )
    staged = _with_lengths(staged, "stripped", "s_")
    staged = staged.with_columns(
        pl.when(~pl.col("matches"))
        .then(national)
        .when(pl.col("matches") & pl.col("literal"))
        .then(
            pl.when(strip & ~restrips)
            .then(pl.col("stripped"))
            .when(~strip)
            .then(national)  # else null: stripping twice is the library's call (and unstable)
        )
        .alias("nsn")
    )
    staged = _with_lengths(staged, "nsn", "n_")
    return staged.select(
        "position",
        "extension",
        pl.when(pl.col("n_possible"))
        .then(pl.concat_str(pl.lit("+"), pl.col("code"), pl.col("nsn")))
        .alias("fast"),
        pl.lit(None, pl.String).alias("fast_error"),
    )


def _nanp_region(region: str | None) -> bool:
    if region is None or phonenumbers.country_code_for_region(region) != NANP_COUNTRY_CODE:
        return False
    metadata = PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.general_desc is None:
        return False
    desc = metadata.general_desc
    return (
        tuple(desc.possible_length) == NANP_NATIONAL_DIGITS
        and tuple(desc.possible_length_local_only) == NANP_LOCAL_DIGITS
    )


def _fills_in_area_code(region: str) -> bool:
    """Whether the region's national prefix rule turns a local number into a full one (the
    one-area-code NANP regions: "587-5004" in BS is +1 242 587 5004)."""
    metadata = PhoneMetadata.metadata_for_region(region)
    return metadata is None or bool(metadata.national_prefix_transform_rule)


def _national_nanp(frame: pl.LazyFrame, region: str | None) -> pl.LazyFrame:
    """Columns position, extension, fast, fast_error for numbers written nationally.

    Ten digits, or eleven starting with the national prefix 1, are the number. Seven digits
    are a local number the library refuses, unless the region fills in its area code (then
    the library decides). Eleven or more digits not starting with 1 are too long for the
    plan (the library says so by length), unless they start with a country code: then they
    may be that country's number written without its "+", which the library path decides
    (`phone.without_plus`).
    """
    if region is None or not _nanp_region(region):
        return frame.select(
            "position",
            "extension",
            pl.lit(None, pl.String).alias("fast"),
            pl.lit(None, pl.String).alias("fast_error"),
        )
    # ASCII digits only (FAST_SHAPE), so lengths and leading digits say what regexes would
    digits = pl.col("digits")
    length = digits.str.len_bytes()
    one = digits.str.starts_with("1")
    area_start = ~digits.str.starts_with("0") & ~one  # [2-9]: an area code or exchange
    after_one = one & ~digits.str.starts_with("10") & ~digits.str.starts_with("11")
    local = pl.lit(False) if _fills_in_area_code(region) else (length == 7) & area_start
    return frame.select(
        "position",
        "extension",
        pl.when((length == 10) & area_start)
        .then(pl.concat_str(pl.lit("+1"), digits))
        .when((length == 11) & after_one)
        .then(pl.concat_str(pl.lit("+"), digits))
        .alias("fast"),
        pl.when(local)
        .then(pl.lit(LOCAL_ONLY))
        .when((length > max(NANP_NATIONAL_DIGITS)) & ~one & ~has_country_code(digits))
        .then(pl.lit(TOO_LONG))
        .alias("fast_error"),
    )


@cache
def international_prefix(region: str | None) -> str | None:
    """The default region's international prefix pattern from phonenumbers' metadata ("00",
    "011", "0011", "010", ...), or None without a (known) region: then only "+" is one."""
    metadata = PhoneMetadata.metadata_for_region(region) if region else None
    return metadata.international_prefix if metadata is not None else None


def _dialled_out(digits: pl.Expr, plus: pl.Expr, region: str | None) -> tuple[pl.Expr, pl.Expr]:
    """(is international, how many leading digits are its international prefix).

    As the parser does: a leading "+", or else the region's prefix at the start of the
    digits, unless a 0 follows it (country codes never start with 0). The digits are cut
    later, on the international rows only."""
    prefix = international_prefix(region)
    if prefix is None:
        return plus, pl.lit(0)
    if prefix.isdigit():  # most regions: a plain "00", "011", "810"...
        dialled = digits.str.starts_with(prefix) & ~digits.str.starts_with(prefix + "0")
        cut = pl.lit(len(prefix))
    else:  # a pattern, e.g. Australia's "001[14-689]|14(?:1[14]|34|...)0011"
        found = digits.str.extract(f"^({prefix})", 1)
        cut = found.str.len_bytes().fill_null(0)
        dialled = found.is_not_null() & ~digits.str.slice(cut, 1).eq("0").fill_null(False)
    idd = ~plus & dialled
    return plus | idd, pl.when(idd).then(cut).otherwise(0)


def fast_plan(values: pl.LazyFrame, region: str | None) -> pl.LazyFrame:
    """The fast path as a lazy plan over a frame with one column "value" (trimmed, blank as
    null): rows position, fast, fast_error for the values it decides. Lazy, so callers can
    run it beside other work (`pl.collect_all`)."""
    value = pl.col("value")
    indexed = values.with_row_index("position")
    plain = indexed.filter(value.str.contains(FAST_SHAPE)).select(
        "position", value.alias("base"), pl.lit(None, pl.String).alias("extension")
    )
    labelled = indexed.filter(value.str.contains(_EXTENSION)).select(
        "position",
        value.str.extract(_EXTENSION, 1).alias("base"),
        value.str.extract(_EXTENSION, 2).alias("extension"),
    )
    base = pl.col("base")
    # FAST_SHAPE allows only these beside digits: dropping them (one pass) leaves the digits
    digits = base.str.replace_many(_FAST_SHAPE_PUNCTUATION, [""] * len(_FAST_SHAPE_PUNCTUATION))
    staged = pl.concat([plain, labelled.filter(base.str.contains(FAST_SHAPE))]).with_columns(
        digits.alias("digits")
    )
    international, cut = _dialled_out(pl.col("digits"), base.str.starts_with("+"), region)
    staged = staged.with_columns(international.alias("plus"), cut.alias("cut"))
    decided = pl.concat(  # each row carries its extension: no join back by position
        [
            _international(staged.filter(pl.col("plus"))),
            _national_nanp(staged.filter(~pl.col("plus")), region),
        ]
    )
    return decided.select(
        "position",
        pl.when(pl.col("extension").is_null())
        .then(pl.col("fast"))
        .otherwise(pl.concat_str(pl.col("fast"), pl.lit(EXTENSION_LABEL), pl.col("extension")))
        .alias("fast"),
        pl.when(pl.col("extension").is_null()).then(pl.col("fast_error")).alias("fast_error"),
    )


def spread(decided: pl.DataFrame, height: int) -> pl.DataFrame:
    """A `fast_plan` result as full-length columns fast, fast_error (null where undecided)."""
    result = {}
    for column in ("fast", "fast_error"):
        full = pl.repeat(None, height, dtype=pl.String, eager=True).alias(column)
        full.scatter(decided["position"], decided[column])
        result[column] = full
    return pl.DataFrame(result)


def fast_path(values: pl.Series, region: str | None) -> pl.DataFrame:
    """Per value (trimmed, non-blank): columns fast (E.164) and fast_error; both null where the
    library has to decide."""
    decided = fast_plan(pl.DataFrame({"value": values}).lazy(), region).collect()
    return spread(decided, len(values))
