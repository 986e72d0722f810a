"""Cells that say "no value" in words: ``null``, ``n/a``, ``-``, ``none`` and their kin.

Exports write them where a field is empty (a database's NULL printed as text, a picklist's
``-None-``); sent as written they become a phone number "null" or a first name "n/a". Every
mapped column reads them as empty, and ``crmsync init`` counts them the same way.
"""

from __future__ import annotations

import re

import polars as pl

# Compared after trimming and lower-casing. Not "na": it is Namibia's country code.
# "info requested": Eventbrite's name of a guest whose order asked only the buyer's.
NO_VALUE_WORDS = frozenset(
    {
        "null", "n/a", "none", "-", "--", "?", "unknown", "#n/a", "nil", "-none-", "(none)",
        "info requested",
    }
)  # fmt: skip


def is_no_value(text: str) -> bool:
    """True for a blank cell or one of NO_VALUE_WORDS."""
    return text.strip().casefold() in NO_VALUE_WORDS or not text.strip()


# Blank, or one of the words between any whitespace, in any case. One anchored regex: most
# cells fail at their first character, where trimming and lower-casing every cell of every
# mapped column copied it twice (0.6 s of a million-row, 15-column file; 0.12 s this way).
_WORDS = "|".join(re.escape(word) for word in sorted(NO_VALUE_WORDS, key=len, reverse=True))
NO_VALUE_PATTERN = rf"^\s*(?i:{_WORDS})?\s*$"


def no_value_to_null(expr: pl.Expr) -> pl.Expr:
    """The text of `expr`, null where it is blank or says there is no value (trimmed and
    lower-cased, it is one of NO_VALUE_WORDS)."""
    text = expr.cast(pl.String)
    empty = text.is_null() | text.str.contains(NO_VALUE_PATTERN)
    return pl.when(empty).then(None).otherwise(text)


# A number written after an apostrophe, '02110 or '+15125550100: Excel's mark of a cell to keep
# as text (its zeros, its plus), which Shopify's and Apollo's exports write into the file.
# Only before something number-like: an apostrophe that starts a word stays ("'Tis").
TEXT_MARKED_NUMBER = r"^\s*'([+(]?\d[\d\s().\-/]*)$"


def without_text_mark(expr: pl.Expr) -> pl.Expr:
    """The text of `expr` without the apostrophe Excel reads as "keep this number as text"."""
    return expr.str.replace(TEXT_MARKED_NUMBER, "$1")
