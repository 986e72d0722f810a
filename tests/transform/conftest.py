"""Helpers for the transform tests: run an expression over a handful of values."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import polars as pl
import pytest

ExprFn = Callable[[pl.Expr], pl.Expr]


def run_expr(fn: ExprFn, values: Sequence[Any], dtype: pl.DataType | None = None) -> list[Any]:
    """fn applied to a column holding `values` (String unless told), as a Python list."""
    series = pl.Series("value", list(values), dtype=dtype or pl.String)
    return pl.DataFrame({"value": series}).select(fn(pl.col("value"))).to_series().to_list()


def run_one(fn: ExprFn, value: Any, dtype: pl.DataType | None = None) -> Any:
    return run_expr(fn, [value], dtype)[0]


def identity_frame(columns: dict[str, list[Any]], source: str = "test.csv") -> pl.DataFrame:
    """A mapped frame: String payload columns plus _source/_row (rows numbered from 2)."""
    height = len(next(iter(columns.values())))
    return pl.DataFrame(
        {
            "_source": [source] * height,
            "_row": pl.Series(range(2, height + 2), dtype=pl.Int64),
            **{name: pl.Series(values, dtype=pl.String) for name, values in columns.items()},
        }
    )


@pytest.fixture
def expr_runner() -> Callable[..., list[Any]]:
    return run_expr
