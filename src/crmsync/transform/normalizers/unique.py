"""Run a normalizing expression once per distinct value, not once per row.

CRM columns repeat: lead scores, tags, dates, titles, countries. Computing each distinct value
once and joining the answers back is cheaper than evaluating a chain of string expressions on a
million rows, and the inner expression runs lazily, so polars shares its common parts.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
from polars._typing import PolarsDataType  # polars' own alias: a dtype or its class

_KEY = "__value__"
_OUT = "__normalized__"


def _per_unique(series: pl.Series, fn: Callable[[pl.Expr], pl.Expr]) -> pl.Series:
    distinct = pl.DataFrame({_KEY: series.unique()})
    answers = distinct.lazy().select(pl.col(_KEY), fn(pl.col(_KEY)).alias(_OUT)).collect()
    mapped = pl.DataFrame({_KEY: series}).join(
        answers, on=_KEY, how="left", nulls_equal=True, maintain_order="left"
    )
    return mapped[_OUT].alias(series.name)


def on_unique(
    expr: pl.Expr,
    fn: Callable[[pl.Expr], pl.Expr],
    return_dtype: PolarsDataType,
) -> pl.Expr:
    """`fn(expr)`, evaluated on the distinct values of `expr` only. `fn` must be elementwise."""
    return expr.map_batches(
        lambda series: _per_unique(series, fn), return_dtype=return_dtype, is_elementwise=True
    )
