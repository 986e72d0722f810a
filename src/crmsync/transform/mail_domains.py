"""A company domain read off people's email addresses, when companies of other names share it.

A companies step that takes a company's domain from its contacts' emails meets domains that
are nobody's company: a regional mailbox provider no list knows (an ISP's, a country's
webmail), a university, a shared office's. Such a domain is Rally's key for companies, so
companies of different names under it would merge into one, and their contacts would be
linked to it. When rows of different names (compared as lookups compare them) share a domain
that came from an email, that domain is not taken for them: each is keyed and found by its
name instead, with a warning. A domain from a website or domain column is the company's own,
whatever its rows are called.
"""

from __future__ import annotations

import polars as pl

from crmsync.transform.issues import WARNING, empty_issues, issues_where, quoted
from crmsync.transform.keys import name_key
from crmsync.transform.normalize import DOMAIN_FIELD, NAME_FIELD

FROM_EMAIL = "_domain_from_email"  # internal: the row's domain text was an email address
NAMES_SHOWN = 3
_NAMES, _SHOWN = "__names__", "__shown__"


def from_email(mapped_domain: pl.Expr) -> pl.Expr:
    """FROM_EMAIL for a mapped (not yet normalized) domain column."""
    return mapped_domain.cast(pl.String).str.contains("@").fill_null(False).alias(FROM_EMAIL)


def unshared(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(`frame` with the shared email domains taken off their rows, a warning per such row).
    Needs every row of a domain in `frame` (the whole read, or its partition by key)."""
    if FROM_EMAIL not in frame.columns:
        return frame, empty_issues()
    if not {DOMAIN_FIELD, NAME_FIELD} <= set(frame.columns):
        return frame.drop(FROM_EMAIL), empty_issues()
    named = name_key(pl.col(NAME_FIELD).cast(pl.String))
    names = (
        frame.lazy()
        .filter(pl.col(DOMAIN_FIELD).is_not_null() & named.is_not_null())
        .group_by(DOMAIN_FIELD)
        .agg(
            named.n_unique().alias(_NAMES),
            pl.col(NAME_FIELD)
            .unique(maintain_order=True)
            .head(NAMES_SHOWN)
            .str.join(", ")
            .alias(_SHOWN),
        )
        .filter(pl.col(_NAMES) > 1)
        .collect()
    )
    if names.height == 0:
        return frame.drop(FROM_EMAIL), empty_issues()
    staged = frame.join(names, on=DOMAIN_FIELD, how="left", maintain_order="left")
    shared = pl.col(FROM_EMAIL) & pl.col(_NAMES).is_not_null()
    more = pl.when(pl.col(_NAMES) > NAMES_SHOWN).then(pl.lit(", ...")).otherwise(pl.lit(""))
    message = pl.format(
        "the email domain {} is shared by companies of different names ({}{}): not taken "
        "as a company's domain; this company is found by its name",
        quoted(pl.col(DOMAIN_FIELD)),
        pl.col(_SHOWN),
        more,
    )
    issues = issues_where(staged, shared, DOMAIN_FIELD, message, WARNING)
    kept = staged.with_columns(pl.when(~shared).then(pl.col(DOMAIN_FIELD)).alias(DOMAIN_FIELD))
    return kept.drop(FROM_EMAIL, _NAMES, _SHOWN), issues
