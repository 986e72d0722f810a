"""An elementwise rewrite applied only to the values that need it.

Most cells of a real export are already in their normalized form: trimmed, one space between
words, lower-case where that is the form. Rewriting every value still builds a whole new
column per step (a replace, a trim, a lower-case), where one regex scan finds the few values
a rewrite would change, for about the cost of one such step.
"""

from __future__ import annotations

import polars as pl

VALUE = "value"  # the column a rewrite's expression reads: pl.col(VALUE)
MOSTLY = 0.5  # share of values to rewrite above which rewriting them all is cheaper


def only_where(series: pl.Series, pattern: str, rewrite: pl.Expr) -> pl.Series:
    """`rewrite` (elementwise, over pl.col(VALUE)) of the values of `series` that match
    `pattern`; the other values are kept as they are. So `pattern` must match every value
    `rewrite` would change (a superset is safe, only slower). Nulls are kept."""
    frame = series.to_frame(VALUE)
    matched = frame.select(pl.col(VALUE).str.contains(pattern).fill_null(False)).to_series()
    positions = matched.arg_true()
    if positions.is_empty():
        return series
    if positions.len() > MOSTLY * series.len():
        return frame.select(rewrite).to_series().alias(series.name)
    rewritten = series.gather(positions).to_frame(VALUE).select(rewrite).to_series()
    result = series.clone()
    result.scatter(positions, rewritten)
    return result
