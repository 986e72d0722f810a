"""One expression over a big frame, run on slices of it side by side.

polars spreads a select over its threads by expression, and some expressions are one
thread's work however long the frame: a row's fragments joined into one text, a hash plugin
over that text. Slices of the frame collected together keep every core busy.
"""

from __future__ import annotations

import polars as pl

SLICE_ROWS = 25_000  # rows of a slice worth running beside another


def select_sliced(frame: pl.DataFrame, expr: pl.Expr) -> pl.Series:
    """`frame.select(expr).to_series()`, computed a slice per polars thread at once (a frame
    too short for two slices of SLICE_ROWS in one piece)."""
    slices = max(1, min(pl.thread_pool_size(), frame.height // SLICE_ROWS))
    if slices == 1:
        return frame.select(expr).to_series()
    size = -(-frame.height // slices)
    plans = [frame.lazy().slice(start, size).select(expr) for start in range(0, frame.height, size)]
    return pl.concat([part.to_series() for part in pl.collect_all(plans)])
