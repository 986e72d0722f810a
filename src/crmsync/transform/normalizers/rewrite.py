"""An elementwise rewrite applied only to the values that need it.

Most cells of a real export are already in their normalized form: trimmed, one space between
words, lower-case where that is the form. Rewriting every value still builds a whole new
column per step (a replace, a trim, a lower-case), where one regex scan finds the few values
a rewrite would change, for about the cost of one such step.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

VALUE = "value"  # the column a rewrite's expression reads: pl.col(VALUE)
MOSTLY = 0.5  # share of values to rewrite above which rewriting them all is cheaper


Rewrite = pl.Expr | Callable[[pl.Series], pl.Series]


def only_where(series: pl.Series, pattern: str, rewrite: Rewrite) -> pl.Series:
    """`rewrite` of the values of `series` that match `pattern`; the other values are kept
    as they are. So `pattern` must match every value `rewrite` would change (a superset is
    safe, only slower). `rewrite` is elementwise: an expression over pl.col(VALUE), or a
    function of a series giving one of the same length. Nulls are kept."""
    frame = series.to_frame(VALUE)
    matched = frame.select(pl.col(VALUE).str.contains(pattern).fill_null(False)).to_series()
    positions = matched.arg_true()
    if positions.is_empty():
        return series
    if positions.len() > MOSTLY * series.len():
        return _rewritten(series, rewrite).alias(series.name)
    result = series.clone()
    result.scatter(positions, _rewritten(series.gather(positions), rewrite))
    return result


def _rewritten(values: pl.Series, rewrite: Rewrite) -> pl.Series:
    if isinstance(rewrite, pl.Expr):
        return values.to_frame(VALUE).select(rewrite).to_series()
    return rewrite(values)
