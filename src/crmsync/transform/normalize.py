"""Normalization of a mapped frame: every wire field of a Rally object to its canonical form.

Pure: a frame in, a frame and its issues out; the same rows, in the same order, each keeping its
`_source`/`_row` and every internal "_" column. Which normalizer a field gets is read from the
request model (`crmsync.transform.spec`): its type for numbers, booleans, times and lists, its
markers for email; phones, tags and the company domain are known by wire name. A cell holding
several emails or phones is first reduced to its first (`crmsync.transform.several`), and a
company's name given as Notion relations to its first page's title
(`crmsync.transform.normalizers.relations`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import polars as pl

from crmsync.schema import RallyObject
from crmsync.transform.issues import (
    MATCH_KEY,
    WARNING,
    Message,
    concat_issues,
    is_internal,
    issues_from_messages,
    issues_where,
    quoted,
)
from crmsync.transform.keys import name_key
from crmsync.transform.normalizers import (
    clean_text,
    format_datetime,
    is_free_mail,
    normalize_email,
    normalize_tags,
    parse_bool,
    parse_datetime,
    parse_number,
    registrable_domain,
    split_full_name,
)
from crmsync.transform.normalizers.company_names import first_company
from crmsync.transform.normalizers.email import fold_gmail_address
from crmsync.transform.normalizers.fallback_names import complete_names
from crmsync.transform.normalizers.names import FIRST_NAME, LAST_NAME, trimmed
from crmsync.transform.normalizers.phone import phone_input, phone_plan
from crmsync.transform.normalizers.ranges import bands_left_out
from crmsync.transform.normalizers.relations import first_relations
from crmsync.transform.normalizers.tags import tags_as_text
from crmsync.transform.phone_field import phone_field
from crmsync.transform.placeholders import without_text_mark
from crmsync.transform.several import split_several
from crmsync.transform.spec import FieldSpec, Kind, spec_by_wire

PHONE_FIELDS = frozenset({"phone", "mobile"})
TAG_FIELDS = frozenset({"tags"})
DOMAIN_FIELD = "domain"
NAME_FIELD = "name"  # a company's: its dedupe key when it has no domain
NAME_KEY_PREFIX = "name:"
WEBSITE_FIELD = "website"  # where a company's domain comes from when its domain is empty
FREE_TEXT_FIELDS = frozenset({"notes", "body", "description", "address"})  # keep line breaks
# Codes written '02110 (Shopify's export, so that Excel keeps the zero): read without the
# apostrophe. Only here: a title or a name keeps one, as the file has it.
POSTAL_CODE_FIELDS = frozenset({"postalCode"})
FULL_NAME_COLUMN = "fullName"  # a mapped full name: split into firstName/lastName
FULL_NAME_KEPT_AS = "_fullName"  # not a ContactCreate field, so it rides along as internal
_NEW = "__normalized__"
# Rows normalized at once. Each pass over a slice costs some 50 ms however few its rows (every
# expression's plan made again), and the working buffers of a million rows are small beside
# the frame itself (peak 1,287 against 1,260 MiB for slices of 200,000, and 1.25 against
# 1.55 s): a library caller's big frame goes through in slices this size.
SLICE_ROWS = 1_000_000


@dataclass(frozen=True)
class NormalizeOptions:
    """Choices the data cannot make for itself."""

    default_region: str | None = None  # phonenumbers region for numbers without a country code
    phone_policy: Literal["keep", "fail"] = "keep"  # unreadable phone: warn and keep, or fail
    fold_gmail: bool = False  # match key only: gmail dots and +tags folded
    day_first: bool = False  # "03/04/2025" is 3 April (else March 4)
    decimal_comma: bool = False  # "1.234,50" is 1234.5 (else "1,5" is refused)
    names_from_email: bool = False  # a contact without names gets them from first.last@
    # firstName/lastName -> the mapping's default, applied after the other ways to a name
    name_defaults: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class _Conversion:
    """A vectorized field conversion; a non-null input that comes out null is an issue."""

    field: str
    expr: pl.Expr
    message: Callable[[pl.Expr], pl.Expr] | None = None  # None: cannot fail (only blanks go)


def _is_text(dtype: pl.DataType) -> bool:
    return dtype in (pl.String, pl.Null)


MAX_INT64_DIGITS = 18  # every number of 18 digits fits in 64 bits


def _conversion(spec: FieldSpec, dtype: pl.DataType, options: NormalizeOptions) -> _Conversion:
    column = pl.col(spec.wire)
    is_text = _is_text(dtype)  # text is parsed, cleaned on the way, once per distinct value
    if spec.kind in (Kind.INTEGER, Kind.DECIMAL):
        integer = spec.kind is Kind.INTEGER
        target = pl.Int64 if integer else pl.Float64
        expr = (
            parse_number(column, integer=integer, clean=True, decimal_comma=options.decimal_comma)
            if is_text
            else column.cast(target)
        )
        what = "a whole number" if integer else "a number"

        grouping = "." if options.decimal_comma else ","  # what separates thousands

        def message(raw: pl.Expr) -> pl.Expr:
            # digits that did not convert are a number too large to hold (above 2**63)
            text = raw.cast(pl.String)
            digits = text.str.contains(rf"^\s*[+-]?[0-9][0-9{grouping}]*\s*$") & (
                text.str.count_matches(r"[0-9]") > MAX_INT64_DIGITS
            )
            return (
                pl.when(digits)
                .then(pl.format("{} is a number too large to hold", quoted(raw)))
                .otherwise(pl.format("{} is not {}", quoted(raw), pl.lit(what)))
            )

        return _Conversion(spec.wire, expr, message)
    if spec.kind is Kind.BOOLEAN:
        expr = parse_bool(column, clean=True) if is_text else column.cast(pl.Boolean)
        return _Conversion(
            spec.wire, expr, lambda raw: pl.format("{} is not yes or no", quoted(raw))
        )
    if spec.kind is Kind.DATETIME:
        when = (
            parse_datetime(column, day_first=options.day_first, clean=True) if is_text else column
        )
        expr = format_datetime(when.cast(pl.Datetime("us", "UTC")))
        return _Conversion(
            spec.wire, expr, lambda raw: pl.format("{} is not a date or time", quoted(raw))
        )
    if spec.kind is Kind.TEXT_LIST or spec.wire in TAG_FIELDS:
        expr = normalize_tags(tags_as_text(column, dtype), as_list=spec.kind is Kind.TEXT_LIST)
        return _Conversion(spec.wire, expr)
    if spec.email:
        expr = normalize_email(column)
    elif spec.choices is not None:
        lowered = clean_text(column).str.to_lowercase()
        expr = pl.when(lowered.is_in(spec.choices)).then(lowered).otherwise(clean_text(column))
    elif spec.wire in POSTAL_CODE_FIELDS:
        expr = without_text_mark(clean_text(column))
    else:
        expr = clean_text(column, collapse=spec.wire not in FREE_TEXT_FIELDS)
    return _Conversion(spec.wire, expr)


def _apply(
    frame: pl.DataFrame,
    conversions: list[_Conversion],
    others: list[pl.Expr],
    phone_fields: list[str],
    options: NormalizeOptions,
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, pl.DataFrame]]:
    """Run every conversion, and the vectorized part of the phones, in one parallel pass;
    report inputs that did not survive. Returns the phones' plan results for `_phones`."""
    # the phones' input is computed once, shared by the frame and their plans
    phones = frame.lazy().with_columns(phone_input(pl.col(f)).alias(f) for f in phone_fields)
    staged_plan = phones.with_columns(others).with_columns(
        c.expr.alias(_NEW + c.field) for c in conversions
    )
    plans = [
        phone_plan(phones.select(pl.col(f).alias("value")), options.default_region)
        for f in phone_fields
    ]
    staged, *decided = pl.collect_all([staged_plan, *plans])
    messages: dict[str, Message] = {}
    for c in conversions:
        if c.message is None:
            continue
        raw = pl.col(c.field)
        given = trimmed(raw.cast(pl.String)).str.len_bytes() > 0
        failed = raw.is_not_null() & given & pl.col(_NEW + c.field).is_null()
        messages[c.field] = Message(failed, c.message(raw))
    issues = issues_from_messages(staged, messages)
    renamed = staged.drop([c.field for c in conversions]).rename(
        {_NEW + c.field: c.field for c in conversions}
    )
    return renamed.select(frame.columns), issues, dict(zip(phone_fields, decided, strict=True))


def _domain_of(frame: pl.DataFrame, column: str) -> tuple[pl.Series, pl.Series]:
    """(cleaned text, its registrable domain unless it is a free-mail address) of a column."""
    if column not in frame.columns:
        empty = pl.Series(column, [None] * frame.height, dtype=pl.String)
        return empty, empty
    text = frame.select(clean_text(pl.col(column))).to_series()
    found = registrable_domain(text)
    address = pl.col("text").str.contains("@")
    # a free-mail address says nothing of a company, and a broken one (x@@y.com, "a b@c.com")
    # is no address to take a domain from
    broken = address & ~pl.col("text").str.contains(r"^[^@\s]+@[^@\s]+$")
    mailbox = (address & is_free_mail(pl.col("found"))) | broken
    usable = (  # lazily: the address's domain, read three times, is computed once
        pl.LazyFrame({"text": text, "found": found})
        .select(pl.when(~mailbox.fill_null(False)).then(pl.col("found")))
        .collect()
    )
    return text, usable.to_series()


def _domains(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Company domain: the registrable domain of `domain`, else of `website`.

    A free-mail address says nothing about the company, so it never becomes the domain, and
    silently: a domain taken from people's emails meets gmail.com on many rows, and such a
    company is then found by its name. The fallback also applies when `domain` is unusable, so
    normalizing twice changes nothing.
    """
    given_text, given_found = _domain_of(frame, DOMAIN_FIELD)
    site_text, site_found = _domain_of(frame, WEBSITE_FIELD)
    staged = frame.with_columns(
        given_text.alias(_NEW + "given"),
        given_found.alias(_NEW + "given_domain"),
        site_text.alias(_NEW + "site"),
        site_found.alias(_NEW + "site_domain"),
    )
    given, given_domain = pl.col(_NEW + "given"), pl.col(_NEW + "given_domain")
    site, site_domain = pl.col(_NEW + "site"), pl.col(_NEW + "site_domain")
    unusable = given.is_not_null() & given_domain.is_null()
    free = given.str.contains("@") & is_free_mail(given).fill_null(False)
    outcome = pl.when(site_domain.is_not_null()).then(
        pl.format("; used the website's, {}", site_domain)
    )
    issues = [
        issues_where(
            staged,
            unusable & ~free & site_domain.is_null(),
            DOMAIN_FIELD,
            pl.format("no domain found in {}; loaded without a domain", quoted(given)),
            WARNING,
        ),
        issues_where(
            staged,
            unusable & ~free & site_domain.is_not_null(),
            DOMAIN_FIELD,
            pl.format("no domain found in {}{}", quoted(given), outcome),
            WARNING,
        ),
        issues_where(
            staged,
            given.is_null() & site.is_not_null() & site_domain.is_null(),
            DOMAIN_FIELD,
            pl.format("no domain found in website {}; loaded without a domain", quoted(site)),
            WARNING,
        ),
    ]
    result = staged.with_columns(pl.coalesce(given_domain, site_domain).alias(DOMAIN_FIELD))
    helpers = [name for name in result.columns if name.startswith(_NEW)]
    return result.drop(helpers), concat_issues(issues)


def company_match_key(frame: pl.DataFrame) -> pl.Expr:
    """A company's dedupe key: its domain; without one, the domain of an earlier row of the
    same name (so "Acme" without a website joins "Acme" with one), else its name compared the
    way lookups compare names (`keys.name_key`: case, punctuation, legal form and a leading
    "The" ignored), prefixed NAME_KEY_PREFIX so it never equals a domain."""
    domain = pl.col(DOMAIN_FIELD) if DOMAIN_FIELD in frame.columns else pl.lit(None, pl.String)
    named = name_key(pl.col(NAME_FIELD).cast(pl.String))
    same_name = domain.drop_nulls().first().over(named)
    by_name = pl.format("{}{}", pl.lit(NAME_KEY_PREFIX), named)
    return pl.coalesce(domain, pl.when(named.is_not_null()).then(same_name), by_name)


def _match_key(frame: pl.DataFrame, obj: RallyObject, options: NormalizeOptions) -> pl.Expr:
    key = obj.match_key
    if key == DOMAIN_FIELD and NAME_FIELD in frame.columns:
        return company_match_key(frame).alias(MATCH_KEY)
    if key is None or key not in frame.columns:
        return pl.lit(None, pl.String).alias(MATCH_KEY)
    specs = spec_by_wire(obj.create)
    if specs[key].email and options.fold_gmail:  # the column is normalize_email's output
        return fold_gmail_address(pl.col(key)).alias(MATCH_KEY)
    return pl.col(key).cast(pl.String).alias(MATCH_KEY)


def normalize(
    frame: pl.DataFrame, obj: RallyObject, options: NormalizeOptions | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(normalized frame, issues). Same rows and order; adds `_match_key`.

    A value that cannot be converted becomes null and gets an issue (severity error) naming
    the field and the value; an unreadable phone under phone_policy="keep" stays as given with
    a warning. Idempotent: normalizing twice changes nothing more.

    Rows are independent, so a larger frame is done in slices of SLICE_ROWS: polars' working
    buffers are a few times the data they touch, and slicing bounds them.
    """
    options = options or NormalizeOptions()
    if frame.height <= SLICE_ROWS:
        return _normalize(frame, obj, options)
    results = [
        _normalize(frame.slice(offset, SLICE_ROWS), obj, options)
        for offset in range(0, frame.height, SLICE_ROWS)
    ]
    return (
        pl.concat([part for part, _ in results], how="vertical"),
        concat_issues(issues for _, issues in results),
    )


def _normalize(
    frame: pl.DataFrame, obj: RallyObject, options: NormalizeOptions
) -> tuple[pl.DataFrame, pl.DataFrame]:
    specs = spec_by_wire(obj.create)
    frame = frame.with_columns(
        pl.col(name).cast(pl.String) for name, dtype in frame.schema.items() if dtype == pl.Null
    )
    frame, several = split_several(frame, obj)
    if obj.match_key == DOMAIN_FIELD:  # a company: its name may be a Notion relation's text
        frame, relations = first_relations(frame, NAME_FIELD)
        frame, names = first_company(frame, NAME_FIELD)  # or several names, or none
        several = concat_issues([several, relations, names])
    numbers = [w for w, s in specs.items() if s.kind in (Kind.INTEGER, Kind.DECIMAL)]
    frame, bands = bands_left_out(frame, numbers)  # "11-50" employees: no number
    several = concat_issues([several, bands])
    if FULL_NAME_COLUMN in frame.columns and FULL_NAME_COLUMN not in specs:
        if {FIRST_NAME, LAST_NAME} <= specs.keys():
            frame = split_full_name(frame, FULL_NAME_COLUMN)
        frame = frame.rename({FULL_NAME_COLUMN: FULL_NAME_KEPT_AS})
    named = None
    completes = options.names_from_email or options.name_defaults
    if completes and {FIRST_NAME, LAST_NAME} <= specs.keys():
        frame, named = complete_names(
            frame, from_email=options.names_from_email, defaults=options.name_defaults
        )
    series_fields = set(PHONE_FIELDS)
    if obj.match_key == DOMAIN_FIELD:
        series_fields.add(DOMAIN_FIELD)
    conversions = [
        _conversion(specs[name], dtype, options)
        for name, dtype in frame.schema.items()
        if name in specs and name not in series_fields
    ]
    others = [
        clean_text(pl.col(name), collapse=False).alias(name)
        for name, dtype in frame.schema.items()
        if name not in specs and not is_internal(name) and dtype == pl.String
    ]
    phone_fields = sorted(PHONE_FIELDS & set(frame.columns) & set(specs))
    frame, issues, decided = _apply(frame, conversions, others, phone_fields, options)
    parts = [several, *([named] if named is not None else []), issues]
    keep = options.phone_policy == "keep"
    for field in phone_fields:
        frame, found = phone_field(frame, field, decided[field], options.default_region, keep=keep)
        parts.append(found)
    if DOMAIN_FIELD in series_fields and ({DOMAIN_FIELD, WEBSITE_FIELD} & set(frame.columns)):
        frame, found = _domains(frame)
        parts.append(found)
    # lazily: a company's key reads its name key three times, and only a lazy plan computes
    # a repeated part once (eager, 0.28 s for 100,000 companies; lazy, 0.16)
    frame = frame.lazy().with_columns(_match_key(frame, obj, options)).collect()
    return frame, concat_issues(parts)
