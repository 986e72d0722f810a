"""Cells that say "no value" in words: ``null``, ``n/a``, ``-``, ``none`` and their kin.

Exports write them where a field is empty (a database's NULL printed as text, a picklist's
``-None-``); sent as written they become a phone number "null" or a first name "n/a". Every
mapped column reads them as empty, and ``crmsync init`` counts them the same way.
"""

from __future__ import annotations

import polars as pl

# Compared after trimming and lower-casing. Not "na": it is Namibia's country code.
NO_VALUE_WORDS = frozenset(
    {"null", "n/a", "none", "-", "--", "?", "unknown", "#n/a", "nil", "-none-", "(none)"}
)


def is_no_value(text: str) -> bool:
    """True for a blank cell or one of NO_VALUE_WORDS."""
    return text.strip().casefold() in NO_VALUE_WORDS or not text.strip()


def no_value_to_null(expr: pl.Expr) -> pl.Expr:
    """The text of `expr`, null where it is blank or says there is no value."""
    text = expr.cast(pl.String)
    folded = text.str.strip_chars().str.to_lowercase()
    empty = text.is_null() | (folded == "") | folded.is_in(list(NO_VALUE_WORDS))
    return pl.when(empty).then(None).otherwise(text)
