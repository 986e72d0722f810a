"""Names for contacts whose row has none: from the email address, if asked, then defaults.

Rally requires a first and a last name, and form fills, newsletter lists and address books
hold many contacts with only an email. What fills a name, in order: its own column, the
full name split (`names.split_full_name`), then, with ``names_from_email``, the email's local
part for a row with neither name ("anna.berg@x.com" is Anna Berg; "anna@x.com" gives Anna and
no last name; a role address such as info@ or sales@ gives nothing), then the mapping's
``default`` of each name, which is applied here rather than in the mapping so that it fills
only what the steps before it could not.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from crmsync.transform.issues import WARNING, empty_issues, issues_where, quoted
from crmsync.transform.normalizers.names import FIRST_NAME, LAST_NAME, clean_text

EMAIL = "email"
# Local parts of shared mailboxes: a department, not a person's name.
ROLE_MAILBOXES = frozenset(
    {
        "accounts", "accounting", "admin", "billing", "careers", "contact", "contacts",
        "donotreply", "enquiries", "enquiry", "hello", "help", "hi", "hr", "info", "inquiries",
        "invoices", "jobs", "kontakt", "mail", "marketing", "media", "newsletter", "noreply",
        "no-reply", "office", "orders", "post", "press", "reception", "sales", "service",
        "support", "team", "webmaster",
    }
)  # fmt: skip
_GIVEN, _FAMILY = "__given__", "__family__"


def names_from_email(email: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(first name, last name) read from an address's local part, each null where it gives
    none: "anna.berg" and "anna_m_berg" give both, "anna" a first name only, "info" neither."""
    local = email.cast(pl.String).str.strip_chars().str.to_lowercase().str.extract(r"^([^@+]+)")
    parts = (
        local.str.replace_all(r"[0-9]+", "")
        .str.replace_all(r"[._-]+", " ")
        .str.strip_chars()
        .str.split(" ")
        .list.eval(pl.element().filter(pl.element() != ""))
    )
    person = local.is_not_null() & ~local.is_in(list(ROLE_MAILBOXES))
    count = parts.list.len()
    first = pl.when(person & (count >= 1)).then(parts.list.first().str.to_titlecase())
    last = pl.when(person & (count >= 2)).then(parts.list.last().str.to_titlecase())
    return first, last


def complete_names(
    frame: pl.DataFrame, *, from_email: bool, defaults: Mapping[str, str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(frame, warnings): empty first and last names filled as the module docstring says. A
    name taken from an email is a guess, so its row gets a warning saying so."""
    present = {
        name: clean_text(pl.col(name)) if name in frame.columns else pl.lit(None, pl.String)
        for name in (FIRST_NAME, LAST_NAME)
    }
    warnings = empty_issues()
    if from_email and EMAIL in frame.columns:
        first, last = names_from_email(pl.col(EMAIL))
        nameless = present[FIRST_NAME].is_null() & present[LAST_NAME].is_null()
        staged = frame.with_columns(
            pl.when(nameless).then(first).alias(_GIVEN),
            pl.when(nameless).then(last).alias(_FAMILY),
        )
        taken = pl.concat_str([pl.col(_GIVEN), pl.col(_FAMILY)], separator=" ", ignore_nulls=True)
        warnings = issues_where(
            staged,
            pl.col(_GIVEN).is_not_null(),
            FIRST_NAME,
            pl.format(
                "the row has no name: {} taken from the email address {}",
                quoted(taken),
                quoted(pl.col(EMAIL)),
            ),
            WARNING,
        )
        frame = staged.with_columns(
            pl.coalesce(present[FIRST_NAME], pl.col(_GIVEN)).alias(FIRST_NAME),
            pl.coalesce(present[LAST_NAME], pl.col(_FAMILY)).alias(LAST_NAME),
        ).drop(_GIVEN, _FAMILY)
        present = {name: clean_text(pl.col(name)) for name in present}
    filled = [
        pl.coalesce(present[name], pl.lit(defaults[name], pl.String)).alias(name)
        for name in (FIRST_NAME, LAST_NAME)
        if name in defaults
    ]
    return (frame.with_columns(filled) if filled else frame), warnings
