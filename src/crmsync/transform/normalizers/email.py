"""Email addresses: the stored form, the match key, and whether an address is valid.

email-validator is the authority on both; calling it costs about 78 µs an address. So the
common shapes, internationalized local parts included, are decided by vectorized patterns
that can only say what the library would say, and the library sees the UNIQUE values those
cannot decide. The verdict agrees exactly,
words included, with `crmsync.schema.fields.email_error` (what pydantic runs).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import polars as pl
from email_validator import EmailNotValidError, ValidatedEmail, validate_email

from crmsync.schema.fields import (
    LOCAL_PART_CHARS,
    MAX_SIMPLE_EMAIL_LENGTH,
    SIMPLE_EMAIL_PATTERN,
)
from crmsync.transform.normalizers.freemail import (
    FREE_MAIL_BRAND_PATTERN,
    FREE_MAIL_DOMAINS,
    RESERVED_DOMAIN_PATTERN,
)
from crmsync.transform.normalizers.names import blank_as_null, trimmed
from crmsync.transform.normalizers.rewrite import VALUE, only_where

MAX_EMAIL_LENGTH = MAX_SIMPLE_EMAIL_LENGTH  # email-validator's limit, in bytes
GMAIL_DOMAINS = ("gmail.com", "googlemail.com")
GMAIL_CANONICAL = "gmail.com"
_CACHE_SIZE = 1 << 16
# The characters of an unquoted local part the library keeps (ASCII's, and the international
# ones of the simple shape): a local part of them is valid as it is, or refused for its dots
# with the same words as an ASCII one.
_ATEXT = LOCAL_PART_CHARS
_LOCAL = rf"^[{_ATEXT}]+(?:\.[{_ATEXT}]+)*@"  # a valid local part, then the @-sign
_HOST = r"[A-Za-z0-9.-]"  # ASCII host characters: nothing for UTS-46 to map but case
# Values email-validator certainly refuses, with its exact words. Checked in order, first
# match wins, and only on values of at most MAX_EMAIL_LENGTH bytes (so no length rule
# can come first). Each mirrors the library's own order of checks: no @-sign (nor a "<"
# that would start a display name, nor the look-alike at-signs it names), then the local
# part's dots, then, behind a valid local part, the domain's dots and hyphens. No
# character combines with "@", so the first "@" is the one the library splits at.
CERTAIN_REJECTS: tuple[tuple[str, str], ...] = (
    (r"^[^@<＠﹫]*$", "An email address must have an @-sign."),
    (r"^@", "There must be something before the @-sign."),
    (rf"^[{_ATEXT}.]*\.@", "An email address cannot have a period immediately before the @-sign."),
    (rf"^\.[{_ATEXT}.]*@", "An email address cannot start with a period."),
    (rf"^[{_ATEXT}.]*\.\.[{_ATEXT}.]*@", "An email address cannot have two periods in a row."),
    (rf"{_LOCAL}$", "There must be something after the @-sign."),
    (rf"{_LOCAL}{_HOST}*\.$", "An email address cannot end with a period."),
    (
        rf"{_LOCAL}\.{_HOST}*$",
        "An email address cannot have a period immediately after the @-sign.",
    ),
    (rf"{_LOCAL}{_HOST}*\.\.{_HOST}*$", "An email address cannot have two periods in a row."),
    (rf"{_LOCAL}{_HOST}*-$", "An email address cannot end with a hyphen."),
    (rf"{_LOCAL}-{_HOST}*$", "An email address cannot have a hyphen immediately after the @-sign."),
    (
        rf"{_LOCAL}{_HOST}*(?:\.-|-\.){_HOST}*$",
        "An email address cannot have a period and a hyphen next to each other.",
    ),
    (
        # One label of at most 63 characters, no "--": nothing else is wrong with it.
        rf"{_LOCAL}[A-Za-z0-9](?:-?[A-Za-z0-9]){{0,31}}$",
        "The part after the @-sign is not valid. It should have a period.",
    ),
)


def normalize_email(expr: pl.Expr) -> pl.Expr:
    """The stored form: trimmed, without a "mailto:" prefix or a display name ("Jane Doe
    <jane@acme.com>", as mail programs copy an address), lower-cased, and, when the library
    accepts the address, its normalized form (NFC local part, UTS-46 mapped domain in
    Unicode) with the local part lower-cased on top; blank becomes null.

    Lower-casing is a deliberate choice (see `deviations.DELIBERATE`): Rally matches email
    case-insensitively, so two spellings of one address are one contact. An address the
    library refuses keeps its text: normalizing must not make an invalid address valid.
    """
    return expr.cast(pl.String).map_batches(
        _stored_forms, return_dtype=pl.String, is_elementwise=True
    )


# Values whose stored form may differ from them: any character but printable ASCII other
# than capitals (the plain rewrite's trim and lower case, the library's forms), an empty
# value or a prefix (the plain rewrite), a Punycode label or a display name (the library's
# forms). The rest, most real addresses, are their own stored form and are not looked at
# again (`only_where`).
_NOT_STORED = r"[^\x21-\x40\x5b-\x7e]|^$|mailto:|xn--|<"


def _plain(value: pl.Expr) -> pl.Expr:
    unprefixed = trimmed(value).str.replace(r"^(?i:mailto:\s*)+", "")
    # lower-cased after the prefix goes: its letters would make a "Σ" final ("ς")
    return blank_as_null(trimmed(unprefixed).str.to_lowercase())


def _stored_forms(series: pl.Series) -> pl.Series:
    return only_where(series, _NOT_STORED, _plain_then_library)


def _plain_then_library(values: pl.Series) -> pl.Series:
    """The plain rewrite of `values` (trim, prefix, lower case, blank), then the library's
    forms where those differ."""
    plain = values.to_frame(VALUE).select(_plain(pl.col(VALUE))).to_series()
    return _library_forms(plain.alias(values.name))


def _library_forms(series: pl.Series) -> pl.Series:
    """Each value with a non-ASCII character (NFC, IDNA mapping) or a Punycode label (shown
    in Unicode) in its library form, asked once per distinct value; only their rows are
    rewritten. Plain ASCII is its own form already once lower-cased, and so is an address of
    the simple shape (its international characters are their own NFC and lower case)."""
    value = pl.col("value")
    unusual = pl.DataFrame({"value": series}).select(
        (value.str.len_bytes() != value.str.len_chars())
        | value.str.contains("xn--", literal=True)
        | value.str.contains("<", literal=True)  # a display name: "Jane Doe <jane@acme.com>"
    )
    positions = unusual.to_series().arg_true()
    if positions.is_empty():
        return series
    # the simple-shape pattern only where it can matter: it costs more than the two tests above
    suspects = series.gather(positions)
    needs = suspects.to_frame("value").select(~simple_email(value).fill_null(False)).to_series()
    positions, suspects = positions.filter(needs), suspects.filter(needs)
    if positions.is_empty():
        return series
    distinct = suspects.unique()
    # a value certainly refused is kept as it is, without a call (unless a display name may
    # hold an address)
    refused = (
        distinct.to_frame("value")
        .select(certain_reject(value).is_not_null() & ~value.str.contains("<", literal=True))
        .to_series()
    )
    forms = pl.Series(
        [
            value if kept else stored_form(value)
            for value, kept in zip(distinct.to_list(), refused.to_list(), strict=True)
        ],
        dtype=pl.String,
    )
    result = series.clone()
    result.scatter(positions, suspects.replace(distinct, forms))
    return result


def stored_form(value: str) -> str:
    """One trimmed, lower-cased value as stored: the library's form if it accepts it, else
    the address inside a display name ("jane doe <jane@acme.com>") if it accepts that."""
    return _library(value)[1] or ("<" in value and _inside_display_name(value)) or value


@lru_cache(maxsize=_CACHE_SIZE)
def _inside_display_name(value: str) -> str | None:
    """The stored form of the address in "Name <address>", as the library reads that shape
    when asked to (quoted names and all); None when it refuses it. Only normalizing reads
    it: a value still in that shape is refused by validation, as Rally would refuse it."""
    try:
        result = validate_email(value, check_deliverability=False, allow_display_name=True)
    except EmailNotValidError:
        return None
    return _as_stored(result)


@lru_cache(maxsize=_CACHE_SIZE)
def _library(value: str) -> tuple[str | None, str | None]:
    """(why not, None) or (None, stored form) by email-validator, as `email_error` calls it.
    Shared by normalizing and validating, so a stored value is not checked twice."""
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        return str(exc), None
    return None, _as_stored(result)


def _as_stored(result: ValidatedEmail) -> str:
    """An address the library accepted, as stored: its normalized form with the local part
    lower-cased on top (the domain is already UTS-46 case-folded)."""
    local = unicodedata.normalize("NFC", result.local_part.lower())
    return f"{local}@{result.domain}"


def email_match_key(expr: pl.Expr, *, fold_gmail: bool) -> pl.Expr:
    """The key two rows are the same contact by: the normalized address.

    With `fold_gmail`, Gmail's ignored dots and "+tag" suffixes are removed and googlemail.com
    becomes gmail.com, since Gmail delivers all those spellings to one mailbox. Only the key:
    the stored address stays as the person wrote it.
    """
    email = normalize_email(expr)
    return fold_gmail_address(email) if fold_gmail else email


def fold_gmail_address(email: pl.Expr) -> pl.Expr:
    """Gmail's spellings of one mailbox made one, on an already normalized address."""
    local = email.str.extract(r"^(.*)@[^@]*$", 1)
    domain = email.str.extract(r"@([^@]*)$", 1)
    folded = pl.concat_str(
        local.str.replace(r"\+.*$", "").str.replace_all(".", "", literal=True),
        pl.lit("@" + GMAIL_CANONICAL),
    )
    return pl.when(domain.is_in(GMAIL_DOMAINS)).then(folded).otherwise(email)


def email_domain(expr: pl.Expr) -> pl.Expr:
    """The part after the last "@", or the value itself when it has none, lower-cased."""
    lowered = expr.cast(pl.String).str.strip_chars().str.to_lowercase()
    return lowered.str.replace(r"^.*@", "").str.strip_chars_end(".")


def is_free_mail(expr: pl.Expr) -> pl.Expr:
    """True when an address (or a bare domain) belongs to a public mailbox provider (a known
    domain, or a global brand under a country's suffix) or to a name reserved for examples:
    either way its domain says nothing of a company."""
    domain = email_domain(expr)
    return (
        domain.is_in(sorted(FREE_MAIL_DOMAINS))
        | domain.str.contains(FREE_MAIL_BRAND_PATTERN)
        | domain.str.contains(RESERVED_DOMAIN_PATTERN)
    )


def _library_error(value: str) -> str | None:
    return _library(value)[0]


def simple_email(value: pl.Expr) -> pl.Expr:
    """Vectorized `crmsync.schema.fields.is_simple_email`: certainly valid, no library."""
    return (value.str.len_bytes() <= MAX_EMAIL_LENGTH) & value.str.contains(SIMPLE_EMAIL_PATTERN)


def certain_reject(value: pl.Expr) -> pl.Expr:
    """The library's words for a value it certainly refuses (`CERTAIN_REJECTS`), else null."""
    reject: pl.Expr = pl.lit(None, pl.String)
    for pattern, message in reversed(CERTAIN_REJECTS):
        reject = pl.when(value.str.contains(pattern)).then(pl.lit(message)).otherwise(reject)
    return pl.when(value.str.len_bytes() <= MAX_EMAIL_LENGTH).then(reject)


def email_errors(series: pl.Series) -> pl.Series:
    """Per value: null when valid (or null), else why not. Agrees with `email_error`.

    The simple-shape pattern clears nearly every row; only the rest (distinct values) meet
    the certain-reject patterns, and only what those cannot decide meets email-validator.
    """
    values = series.cast(pl.String).alias("value")
    value = pl.col("value")
    suspects = (
        pl.DataFrame({"value": values})
        .lazy()
        .filter(value.is_not_null() & ~simple_email(value))
        .unique(maintain_order=False)
        .collect()["value"]
    )
    if suspects.is_empty():
        return pl.repeat(None, len(values), dtype=pl.String, eager=True).alias(series.name)
    rejected = pl.DataFrame({"value": suspects}).select(certain_reject(value)).to_series()
    verdicts = [
        known if known is not None else _library_error(item)
        for item, known in zip(suspects.to_list(), rejected.to_list(), strict=True)
    ]
    return values.replace_strict(
        suspects, pl.Series(verdicts, dtype=pl.String), default=None, return_dtype=pl.String
    ).alias(series.name)
