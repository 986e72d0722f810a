"""Run a normalizing expression once per distinct value, not once per row.

CRM columns repeat: lead scores, tags, dates, countries. Computing each distinct value once
and looking the answers up by position is cheaper than a chain of string expressions over a
million rows. A column that is mostly distinct (ids, timestamps to the second) gains nothing
and would pay for the lookup, so it is evaluated row by row; which kind a column is, is
judged on its first SAMPLE_ROWS values.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
from polars._typing import PolarsDataType  # polars' own alias: a dtype or its class

_KEY = "__value__"
SAMPLE_ROWS = 20_000
MOSTLY_DISTINCT = 0.5  # share of distinct values in the sample above which rows are evaluated


def _mostly_distinct(series: pl.Series) -> bool:
    sample = series.head(SAMPLE_ROWS)
    return sample.n_unique() > MOSTLY_DISTINCT * sample.len()


Prepare = Callable[[pl.Series], pl.Series]


def _per_unique(
    series: pl.Series, fn: Callable[[pl.Expr], pl.Expr], prepare: Prepare | None
) -> pl.Series:
    if series.is_empty() or _mostly_distinct(series):
        given = series if prepare is None else prepare(series)
        rows = pl.DataFrame({_KEY: given}).lazy().select(fn(pl.col(_KEY)))
        return rows.collect().to_series().alias(series.name)
    distinct = series.unique()
    given = distinct if prepare is None else prepare(distinct)
    # eager: a few hundred values, where the lazy optimizer's passes cost more than the work
    answers = pl.DataFrame({_KEY: given}).select(fn(pl.col(_KEY)))
    # Positions are looked up, not answers: replace_strict maps to scalars only, and an
    # answer may be a list (tags). A join back costs three times as much.
    position = pl.int_range(0, distinct.len(), dtype=pl.UInt32, eager=True)
    where = series.replace_strict(distinct, position, return_dtype=pl.UInt32)
    return answers.to_series().gather(where).alias(series.name)


def on_unique(
    expr: pl.Expr,
    fn: Callable[[pl.Expr], pl.Expr],
    return_dtype: PolarsDataType,
    *,
    prepare: Prepare | None = None,
) -> pl.Expr:
    """`fn(expr)`, evaluated on the distinct values of `expr` only. `fn` must be elementwise.
    `prepare`, an elementwise function of a series, is applied to those values first, once:
    written inside `fn`, a function polars calls back (`clean_text`) runs again for every
    use of its result (29 times for a lead score's parse).

    Not declared elementwise to polars on purpose: it would then call this once per chunk
    of the frame (ten times on a million rows read in pieces), each with its own unique."""
    return expr.map_batches(
        lambda series: _per_unique(series, fn, prepare), return_dtype=return_dtype
    )
