"""A step's digest: its failures, merges and warnings grouped by field and reason, each group
with its count and its first few source rows (line number and original cells), small enough
to keep in the state database so a run's page can be drawn again after the next run has
overwritten errors.csv.

    {"failures": [Group], "merges": [Group], "warnings": [Group], "columns": [str]}
    Group: {"stage", "field", "reason", "count", "rows": [{"source", "row", "detail",
            "cells": [str]}]}

A reason is the message with the cell it quotes left out (`"x@@y" is not a valid email`
and `"a b@c" is not a valid email` are one reason); each sample row keeps the full message.
Cells are source data, kept as text and cut to MAX_CELL characters: whoever shows them must
escape them.
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl

SAMPLE_ROWS = 5  # source rows shown per group
MAX_GROUPS = 50  # groups kept per kind, the largest first
MAX_CELL = 200  # characters of a cell kept
MAX_COLUMNS = 40  # source columns kept per sample row
ELLIPSIS = "…"
# A cell quoted in a message: "value" at the start or after a space or colon.
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
# No `$`: Python's also matches before a last line feed, the regex crate's does not.
_DUPLICATE_OF = re.compile(r"\bduplicate of row \d+ by .*")
# What str.strip() strips (str.isspace), which is more than polars' idea of whitespace.
_SPACES = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000"
)


def reason_of(message: str) -> str:
    """A message without the values it quotes, so rows failing the same way group together."""
    reason = _QUOTED.sub(ELLIPSIS, message or "")
    return _DUPLICATE_OF.sub("duplicate", reason).strip()


def reasons(messages: pl.Expr) -> pl.Expr:
    """`reason_of` of each message, vectorized (the same patterns, in polars' regex engine)."""
    quoted_out = messages.fill_null("").str.replace_all(_QUOTED.pattern, ELLIPSIS)
    return quoted_out.str.replace(_DUPLICATE_OF.pattern, "duplicate").str.strip_chars(_SPACES)


def _cut(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + ELLIPSIS


_ORDER = ["_stage", "_field", "_r"]


def _sampled(
    issues: pl.DataFrame, *, stage: str | None, detail: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The largest MAX_GROUPS groups (stage, field, reason: their counts), and the first
    SAMPLE_ROWS issues of each."""
    keyed = issues.with_columns(
        reasons(pl.col(detail)).alias("_r"),
        (pl.col(stage) if stage else pl.lit("")).fill_null("").alias("_stage"),
        pl.col("field").fill_null("").alias("_field"),
    )
    counted = keyed.group_by(_ORDER, maintain_order=True).len().sort("len", descending=True)
    top = counted.head(MAX_GROUPS)
    samples = keyed.join(top.select(_ORDER), on=_ORDER, how="semi", maintain_order="left")
    return top, samples.filter(pl.int_range(pl.len()).over(_ORDER) < SAMPLE_ROWS)


def warning_samples(warnings: pl.DataFrame) -> pl.DataFrame:
    """The rows (_source, _row) whose cells the digest shows for `warnings`: the report
    needs the source rows of these alone, not of every row warned about."""
    if warnings.is_empty():
        return warnings.select("_source", "_row")
    return _sampled(warnings, stage=None, detail="error")[1].select("_source", "_row")


def digest_samples(outcomes: pl.DataFrame, warnings: pl.DataFrame) -> pl.DataFrame:
    """The rows (_source, _row) whose cells the digest shows: a few of each group of
    failures, merges and warnings. The digest needs the source rows of these alone (a file
    whose every row fails would otherwise hold all of them at once)."""
    parts = [warning_samples(warnings)]
    for outcome, stage in (("failed", "stage"), ("merged", None)):
        issues = outcomes.filter(pl.col("outcome") == outcome)
        if not issues.is_empty():
            sampled = _sampled(issues, stage=stage, detail="error")[1]
            parts.append(sampled.select("_source", "_row"))
    keys = [part.select(pl.col("_source").cast(pl.String), "_row") for part in parts]
    return pl.concat(keys, how="vertical_relaxed")


def _groups(
    issues: pl.DataFrame,
    source_rows: pl.DataFrame,
    columns: list[str],
    *,
    stage: str | None,
    detail: str,
) -> list[dict[str, Any]]:
    """Issues (_source, _row, field, detail column, optionally stage) grouped by stage, field
    and reason, with their first SAMPLE_ROWS rows joined to their original cells."""
    if issues.is_empty():
        return []
    top, samples = _sampled(issues, stage=stage, detail=detail)
    if columns:
        cells = source_rows.select(["_source", "_row", *columns])
        samples = samples.join(cells, on=["_source", "_row"], how="left", maintain_order="left")
    members: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for member in samples.iter_rows(named=True):
        members.setdefault((member["_stage"], member["_field"], member["_r"]), []).append(
            {
                "source": str(member["_source"]),
                "row": member["_row"],
                "detail": _cut(member[detail]),
                "cells": [_cut(member.get(column)) for column in columns],
            }
        )
    found = []
    for stage_name, field, reason, count in top.iter_rows():
        rows = members.get((stage_name, field, reason), [])
        found.append(
            {"stage": stage_name, "field": field, "reason": reason, "count": count, "rows": rows}
        )
    return found


def step_digest(
    outcomes: pl.DataFrame,
    warnings: pl.DataFrame,
    source_rows: pl.DataFrame,
    source_columns: list[str],
) -> dict[str, Any]:
    """The digest of one step from its outcome frame, its warnings and its source rows."""
    columns = [c for c in source_columns if c in source_rows.columns][:MAX_COLUMNS]
    failed = outcomes.filter(pl.col("outcome") == "failed")
    merged = outcomes.filter(pl.col("outcome") == "merged")
    return {
        "columns": columns,
        "failures": _groups(failed, source_rows, columns, stage="stage", detail="error"),
        "merges": _groups(merged, source_rows, columns, stage=None, detail="error"),
        "warnings": _groups(warnings, source_rows, columns, stage=None, detail="error"),
    }
