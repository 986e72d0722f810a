"""Text cleanup and full-name splitting."""

from __future__ import annotations

from functools import partial

import polars as pl

from crmsync.transform.normalizers.rewrite import VALUE, only_where

FIRST_NAME = "firstName"
LAST_NAME = "lastName"

_HONORIFIC = r"^(?i:mr|mrs|ms|miss|mx|dr|prof|sir|madam)\.?\s+"
_SUFFIX = r"(?i:jr\.?|sr\.?|ii|iii|iv|phd|md|esq\.?)"
_PARTICLE = r"(?i:van|von|de|da|di|del|della|der|den|du|la|le|dos|das|ter|ten|st\.?|bin|al|el)"
# "First Middle [particles] Last [suffix]": the shortest first part that leaves a valid last.
_GIVEN_FIRST = rf"^(.+?)\s+((?:{_PARTICLE}\s+)*\S+(?:\s+{_SUFFIX})?)$"
_LAST_COMMA_FIRST = r"^([^,]+),\s*(.+)$"


WHITESPACE_TO_COLLAPSE = r"\s{2,}|[^\S ]"  # what r"\s+" -> " " changes: runs, and lone tabs etc.
# What trimming removes at a value's ends: Unicode's White_Space (what polars trims by
# default), the invisible characters copy-paste leaves there (zero-width space, word joiner,
# byte-order mark) and control characters. Zero-width joiners are kept: they spell words in
# some scripts, and emoji.
EDGES = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
    "\u200b\u2060\ufeff"
    "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17"
    "\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f"
)


def trimmed(text: pl.Expr) -> pl.Expr:
    """`text` without the whitespace and invisible characters at its ends (`EDGES`)."""
    return text.str.strip_chars(EDGES)


def clean_text(expr: pl.Expr, *, collapse: bool = True) -> pl.Expr:
    """Trimmed (and inner whitespace runs made one space when `collapse`); blank becomes null.

    Free text (notes, descriptions) keeps its line breaks: pass collapse=False.

    Only the values that need it are rewritten (`only_where`): ten text columns of a
    million rows in 0.20 s instead of 0.39.
    """
    return expr.cast(pl.String).map_batches(
        partial(_cleaned, collapse=collapse), return_dtype=pl.String, is_elementwise=True
    )


EDGE_CLASS = "[" + "".join(f"\\x{{{ord(char):x}}}" for char in EDGES) + "]"  # a regex class
# Values that cleaning changes (`only_where`'s pattern): an edge character at either end, or
# empty; with `collapse`, also what it collapses.
_UNCLEAN = {
    True: rf"^{EDGE_CLASS}|{EDGE_CLASS}$|^$|{WHITESPACE_TO_COLLAPSE}",
    False: rf"^{EDGE_CLASS}|{EDGE_CLASS}$|^$",
}


def _cleaned(series: pl.Series, *, collapse: bool) -> pl.Series:
    text = pl.col(VALUE)
    if collapse:
        text = text.str.replace_all(WHITESPACE_TO_COLLAPSE, " ")
    return only_where(series, _UNCLEAN[collapse], blank_as_null(trimmed(text)))


def blank_as_null(text: pl.Expr) -> pl.Expr:
    """`text` with "" made null. A `replace`, not `when(len > 0).then(text)`: that names
    `text` twice, and polars then computes it once ahead of the rest (common subexpression
    elimination), on one thread: 2.4x the time over eight columns of a million rows."""
    return text.replace("", None)


_PREPARED = "__full_name__"


def _prepared(full: pl.Expr) -> pl.Expr:
    """A full name cleaned, without an honorific, a suffix after a comma set back ("Smith
    Jr." not "Jr., Smith"): what the split reads."""
    name = clean_text(full).str.replace(_HONORIFIC, "")
    return name.str.replace(rf",\s*({_SUFFIX})$", " $1")


def _split_expr(name: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(first, last) of a `_prepared` full name."""
    comma = name.str.contains(_LAST_COMMA_FIRST)
    first = (
        pl.when(comma)
        .then(name.str.extract(_LAST_COMMA_FIRST, 2))
        .otherwise(pl.coalesce(name.str.extract(_GIVEN_FIRST, 1), name))
    )
    last = (
        pl.when(comma)
        .then(name.str.extract(_LAST_COMMA_FIRST, 1))
        .otherwise(name.str.extract(_GIVEN_FIRST, 2))
    )
    return clean_text(first), clean_text(last)


def split_full_name(
    frame: pl.DataFrame, column: str, *, first: str = FIRST_NAME, last: str = LAST_NAME
) -> pl.DataFrame:
    """Fill `first`/`last` from the full name in `column` where they are empty.

    "Dr. Mary Ann van der Berg Jr." gives "Mary Ann" and "van der Berg Jr."; "Smith, John"
    gives "John" and "Smith"; a single word is a first name only (the row then fails on its
    missing last name, which the report says).
    """
    if column not in frame.columns:
        return frame
    # the prepared name is a column of its own: the split reads it many times, and the
    # cleaning in it, a function polars calls back, would run again for each (9 times)
    given, family = _split_expr(pl.col(_PREPARED))
    existing = {
        name: pl.col(name) if name in frame.columns else pl.lit(None, pl.String)
        for name in (first, last)
    }
    return (
        frame.with_columns(_prepared(pl.col(column)).alias(_PREPARED))
        .with_columns(
            pl.coalesce(clean_text(existing[first]), given).alias(first),
            pl.coalesce(clean_text(existing[last]), family).alias(last),
        )
        .drop(_PREPARED)
    )
