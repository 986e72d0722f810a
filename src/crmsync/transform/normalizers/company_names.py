"""A company's name as exports write it: several names in one cell, or words for none.

HubSpot writes a contact's associated companies in one cell, separated by ";" ("Quillstone;
Fernwood Energy"): loaded whole, that text became a company of its own and the contact was
linked to it. Salesforce writes "[not provided]" for a web lead without a company and LinkedIn
"Self-employed" for a freelancer: loaded as written, each became a company every such person
was linked to. So a name cell gives its first name (a warning names the others left out; a
company's name never holds ";" in practice, where "," is common: "Acme, Inc."), and a word for
"no company" reads as no value, wherever a company's name is read: the companies step's name,
its `where_filled` rows and a lookup by name. A cell of Notion relations is read by
`relations`.
"""

from __future__ import annotations

import re

import polars as pl

from crmsync.transform.issues import WARNING, empty_issues, issues_where, quoted
from crmsync.transform.placeholders import no_value_to_null

# Compared trimmed, in any case: what exports write where a person has no company.
NO_COMPANY_WORDS = frozenset(
    {
        "[not provided]", "not provided", "self-employed", "self employed", "selfemployed",
        "freelance", "freelancer", "independent", "no company", "none", "n/a", "stealth",
        "stealth startup", "stealth mode", "stealth mode startup", "private", "retired",
    }
)  # fmt: skip
_WORDS = "|".join(re.escape(word) for word in sorted(NO_COMPANY_WORDS, key=len, reverse=True))
NO_COMPANY_PATTERN = rf"^\s*(?i:{_WORDS})\s*$"
SEPARATOR = ";"
_SEGMENT = r"[^;\s][^;]*"  # one name of several: not blank


def no_company_to_null(expr: pl.Expr) -> pl.Expr:
    """The text of `expr`, null where it is blank, says there is no value, or names no
    company ("Self-employed", "[not provided]")."""
    text = no_value_to_null(expr)
    return pl.when(~text.str.contains(NO_COMPANY_PATTERN)).then(text).name.keep()


def first_name_of(text: pl.Expr) -> pl.Expr:
    """The first of several names in a cell ("A;B" is A), any other value as it is."""
    first = text.str.extract(f"({_SEGMENT})", 1).str.strip_chars()
    return pl.when(text.str.contains(SEPARATOR, literal=True)).then(first).otherwise(text)


def first_company(frame: pl.DataFrame, field: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(frame, warnings): `field` with words for no company as null, and a cell of several
    names as its first, a warning naming the cell. Rows and order unchanged."""
    if field not in frame.columns:
        return frame, empty_issues()
    staged = frame.with_columns(no_company_to_null(pl.col(field)).alias(field))
    cell = pl.col(field)
    several = cell.str.count_matches(_SEGMENT).fill_null(0) >= 2
    message = pl.format(
        "{} holds several companies: the first, {}, is used; the others are left out",
        quoted(cell),
        quoted(first_name_of(cell)),
    )
    issues = issues_where(staged, several, field, message, WARNING)
    return staged.with_columns(no_company_to_null(first_name_of(cell)).alias(field)), issues
