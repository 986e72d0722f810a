"""Email addresses: the stored form, the match key, and whether an address is valid.

The verdict must agree exactly with `crmsync.schema.fields.email_error` (what pydantic runs),
but calling email-validator costs about 78 µs an address. So the common shapes are decided
by vectorized patterns, and the library only sees the UNIQUE values those cannot decide.
"""

from __future__ import annotations

from functools import lru_cache

import polars as pl

from crmsync.schema.fields import SIMPLE_EMAIL_PATTERN, email_error
from crmsync.transform.normalizers.freemail import FREE_MAIL_DOMAINS

MAX_EMAIL_LENGTH = 254  # same limit as schema.fields.email_error's fast path
GMAIL_DOMAINS = ("gmail.com", "googlemail.com")
GMAIL_CANONICAL = "gmail.com"
_CACHE_SIZE = 1 << 16

# Shapes that are certainly invalid for email-validator, worded as it words them. Checked in
# order; tests assert the library rejects every one, so these never disagree with pydantic.
CERTAIN_REJECTS: tuple[tuple[str, str], ...] = (
    (r"^[^@]*$", "An email address must have an @-sign."),
    (r"@$", "There must be something after the @-sign."),
    (r"^@", "There must be something before the @-sign."),
    (r"\s", "An email address cannot contain spaces."),
    (r"\.\.", "An email address cannot have two periods in a row."),
    (r"^\.", "An email address cannot start with a period."),
    (r"\.$", "An email address cannot end with a period."),
    (r"\.@", "An email address cannot have a period immediately before the @-sign."),
    (r"@\.", "An email address cannot have a period immediately after the @-sign."),
    (r"@[^.@]+$", "The part after the @-sign is not valid. It should have a period."),
)


def normalize_email(expr: pl.Expr) -> pl.Expr:
    """Trimmed, lower-cased, without a "mailto:" prefix; blank becomes null.

    Lower-casing the local part is a deliberate choice: Rally matches email case-insensitively
    (seeds/000), so two spellings of one address are one contact.
    """
    cleaned = (
        expr.cast(pl.String)
        .str.strip_chars()
        .str.to_lowercase()
        .str.replace(r"^(?:mailto:\s*)+", "")
        .str.strip_chars()
    )
    return pl.when(cleaned.str.len_bytes() > 0).then(cleaned).otherwise(None)


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
    """True when an address (or a bare domain) belongs to a public mailbox provider."""
    return email_domain(expr).is_in(sorted(FREE_MAIL_DOMAINS))


@lru_cache(maxsize=_CACHE_SIZE)
def _library_error(value: str) -> str | None:
    return email_error(value)


def email_errors(series: pl.Series) -> pl.Series:
    """Per value: null when valid (or null), else why not. Agrees with `email_error`.

    The simple-shape pattern clears nearly every row; only the rest (distinct values) meet
    the certain-reject patterns, and only what those cannot decide meets email-validator.
    """
    values = series.cast(pl.String).alias("value")
    value = pl.col("value")
    simple = (value.str.len_bytes() <= MAX_EMAIL_LENGTH) & value.str.contains(SIMPLE_EMAIL_PATTERN)
    suspects = (
        pl.DataFrame({"value": values})
        .lazy()
        .filter(value.is_not_null() & ~simple)
        .unique(maintain_order=False)
        .collect()["value"]
    )
    if suspects.is_empty():
        return pl.repeat(None, len(values), dtype=pl.String, eager=True).alias(series.name)
    reject: pl.Expr = pl.lit(None, pl.String)
    for pattern, message in reversed(CERTAIN_REJECTS):
        reject = pl.when(value.str.contains(pattern)).then(pl.lit(message)).otherwise(reject)
    rejected = pl.DataFrame({"value": suspects}).select(reject).to_series()
    verdicts = [
        known if known is not None else _library_error(item)
        for item, known in zip(suspects.to_list(), rejected.to_list(), strict=True)
    ]
    return values.replace_strict(
        suspects, pl.Series(verdicts, dtype=pl.String), default=None, return_dtype=pl.String
    ).alias(series.name)
