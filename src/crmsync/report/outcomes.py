"""The outcome frame: what became of each source row, one line per row (per field, for a row
that failed on several), as every stage records it and the report reads it.

    _source, _row     where the row came from (file and line, or record number)
    outcome           created, updated, unchanged, skipped (by the load mode), merged, failed
                      (planned on a dry run)
    stage             for failures: read, normalize, validate, dedupe, resolve, load
    field, error      what is wrong, and where
    rally_id          the record in Rally
    merged_into_row   for merged rows: the row they were merged into
"""

from __future__ import annotations

from typing import Literal

import polars as pl

OUTCOMES = ("created", "updated", "unchanged", "skipped", "merged", "failed")
PLANNED = "planned"  # a dry run's outcome for what it would send
STAGES = ("read", "normalize", "validate", "dedupe", "resolve", "load")
Outcome = Literal["created", "updated", "unchanged", "skipped", "merged", "failed", "planned"]
Stage = Literal["read", "normalize", "validate", "dedupe", "resolve", "load"]
IDENTITY = ["_source", "_row"]
OUTCOME_CODES = pl.Enum([*OUTCOMES, PLANNED])  # an outcome in one byte, where rows are many

OUTCOME_SCHEMA: dict[str, pl.DataType] = {
    "_source": pl.String(),
    "_row": pl.Int64(),
    "outcome": pl.String(),
    "stage": pl.String(),
    "field": pl.String(),
    "error": pl.String(),
    "rally_id": pl.String(),
    "merged_into_row": pl.Int64(),
}

ISSUE_COLUMNS = {"_source": pl.String, "_row": pl.Int64, "field": pl.String, "error": pl.String}


def outcome_frame(frame: pl.DataFrame, **columns: object) -> pl.DataFrame:
    """Rows of the outcome schema from a frame holding some of its columns.

    Keyword arguments set the missing columns to a constant (e.g. outcome="failed").
    """
    exprs = []
    for name, dtype in OUTCOME_SCHEMA.items():
        if name in columns:
            exprs.append(pl.lit(columns[name], dtype=dtype).alias(name))
        elif name in frame.columns:
            exprs.append(pl.col(name).cast(dtype))
        else:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
    return frame.select(exprs)


def empty_issues() -> pl.DataFrame:
    """Warnings or failures of no row: _source, _row, field, error."""
    return pl.DataFrame(schema=ISSUE_COLUMNS)
