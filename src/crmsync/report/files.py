"""Per-row outcome report (errors.csv, merged.csv, warnings.csv) and the run summary.

errors.csv carries the row's original source columns after `source,row,stage,field,error`,
so the user fixes those lines and feeds the file back through the same pipeline. Every cell
that a spreadsheet would run as a formula is escaped (`crmsync.spreadsheet`); the reader takes
the escape off again when the file is fed back.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import polars as pl

from crmsync.errors import ConfigError
from crmsync.report.changes import PAYLOADS_FILE
from crmsync.report.summary import RunSummary
from crmsync.spreadsheet import escape_frame

REPORT_COLUMNS = ("source", "row", "stage", "field", "error")
# Rows of errors.csv and merged.csv written at a time, each part with its source rows read for
# it alone: a file whose every row fails (a renamed column) held its whole source three times
# over (a million rows: 1,417 MiB, against 655 for a dry run that fails a few).
REPORT_PART_ROWS = 200_000
RowsOf = Callable[[pl.DataFrame], pl.DataFrame]  # (_source, _row) wanted -> their source rows
REPORT_FILES = (
    "errors.csv",
    "merged.csv",
    "warnings.csv",
    "skipped.csv",
    "plan.csv",
    "conflicts.csv",
    PAYLOADS_FILE,
    "summary.json",
)


def payload_line(payload: dict[str, Any]) -> str:
    """One line of payloads.ndjson: a record as it would be sent."""
    return json.dumps(payload, ensure_ascii=False, default=str)


def check_report_dir(report_dir: Path) -> None:
    """ConfigError unless the report files can be written into `report_dir` (created if need
    be): an unwritable folder is found before anything is sent, not after the load."""
    if report_dir.exists() and not report_dir.is_dir():
        raise ConfigError("the report folder is a file, not a folder", file=str(report_dir))
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=report_dir):
            pass
    except OSError as exc:
        raise ConfigError(
            f"cannot write the report there: {exc.strerror or exc}", file=str(report_dir)
        ) from None
    for name in REPORT_FILES:
        path = report_dir / name
        if path.exists() and not (path.is_file() and os.access(path, os.W_OK)):
            raise ConfigError(
                f"cannot write the report's {name}: it is not a writable file", file=str(report_dir)
            )


def _with_source_columns(
    rows: pl.DataFrame, source_rows: pl.DataFrame, source_columns: list[str], taken: set[str]
) -> pl.DataFrame:
    """Join the original source columns onto report rows; a source column whose name the
    report already uses gets a "source:" prefix rather than overwriting it."""
    renames = {c: f"source:{c}" for c in source_columns if c in taken}
    original = source_rows.select(["_source", "_row", *source_columns]).rename(renames)
    return rows.join(original, on=["_source", "_row"], how="left", maintain_order="left")


def report_rows(rows_of: RowsOf, outcomes: pl.DataFrame, samples: pl.DataFrame) -> RowsOf:
    """How the report and the run's page read the source rows they show (`rows_of` reads them
    from where the run keeps them; `samples`, the rows the page shows). A report of a few
    failed and merged rows reads them with the samples in one pass, and every later ask gets
    those rows (each part joins what it needs); a bigger one reads them a part at a time, as
    it is written."""
    wanted = outcomes.filter(pl.col("outcome").is_in(["failed", "merged"]))
    if wanted.height > REPORT_PART_ROWS:
        return rows_of
    keys = wanted.select(pl.col("_source").cast(pl.String), "_row")
    held = rows_of(pl.concat([keys, samples], how="vertical_relaxed"))
    return lambda _wanted: held


def write_report(
    report_dir: Path,
    *,
    outcomes: pl.DataFrame,
    warnings: pl.DataFrame,
    rows_of: RowsOf,
    source_columns: list[str],
    rejects: pl.DataFrame,
    summary: RunSummary,
    written: dict[str, Path] | None = None,
) -> dict[str, Path]:
    """Write the report files; returns name -> path of what was written (with `written`, the
    files the run wrote as it went, so summary.json names them too). `rows_of` gives the
    source rows of the rows asked for, a part of the report at a time."""
    report_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = dict(written or {})

    failed = outcomes.filter(pl.col("outcome") == "failed").sort(["_row"], maintain_order=True)
    errors = failed.select(pl.col("_source"), pl.col("_row"), "stage", "field", "error")
    raw = (
        rejects.select("_source", "_row", pl.col("raw").alias("raw_line"))
        if rejects.height
        else None
    )

    def error_lines(part: pl.DataFrame) -> pl.DataFrame:
        lines = _with_source_columns(part, rows_of(part), source_columns, set(REPORT_COLUMNS))
        if raw is not None:
            lines = lines.join(raw, on=["_source", "_row"], how="left", maintain_order="left")
        return lines.rename({"_source": "source", "_row": "row"})

    files["errors"] = report_dir / "errors.csv"
    _write_parts(files["errors"], (error_lines(part) for part in _parts(errors)))

    # in the file's order, however the stages found them (a big file dedupes by partition)
    merged = outcomes.filter(pl.col("outcome") == "merged").sort("_row", maintain_order=True)
    merged = merged.select(
        "_source", "_row", pl.col("merged_into_row").alias("merged_into_row"), "field", "error"
    )
    merged = merged.rename({"field": "key", "error": "note"})
    taken = {"source", "row", "merged_into_row", "key", "note"}

    def merged_lines(part: pl.DataFrame) -> pl.DataFrame:
        lines = _with_source_columns(part, rows_of(part), source_columns, taken)
        return lines.rename({"_source": "source", "_row": "row"})

    files["merged"] = report_dir / "merged.csv"
    _write_parts(files["merged"], (merged_lines(part) for part in _parts(merged)))

    skipped = outcomes.filter(pl.col("outcome") == "skipped").sort("_row", maintain_order=True)
    skipped = skipped.select("_source", "_row", pl.col("error").alias("reason"))
    if skipped.height:
        files["skipped"] = report_dir / "skipped.csv"
        escape_frame(skipped.rename({"_source": "source", "_row": "row"})).write_csv(
            files["skipped"]
        )

    files["warnings"] = report_dir / "warnings.csv"
    warned = warnings.select(
        pl.col("_source").alias("source"),
        pl.col("_row").alias("row"),
        "field",
        pl.col("error").alias("warning"),
    )
    escape_frame(warned).write_csv(files["warnings"])

    files["summary"] = report_dir / "summary.json"
    summary.report_dir = str(report_dir)
    summary.files = {name: str(path) for name, path in files.items()}
    files["summary"].write_text(json.dumps(asdict(summary), indent=2) + "\n", encoding="utf-8")
    return files


def _parts(frame: pl.DataFrame) -> Iterator[pl.DataFrame]:
    """`frame` REPORT_PART_ROWS rows at a time; an empty frame once (its file has a header)."""
    for start in range(0, max(frame.height, 1), REPORT_PART_ROWS):
        yield frame.slice(start, REPORT_PART_ROWS)


def _write_parts(path: Path, parts: Iterator[pl.DataFrame]) -> None:
    """One CSV file of `parts` (the same columns), escaped, its header once."""
    with path.open("wb") as out:
        for number, part in enumerate(parts):
            escape_frame(part).write_csv(out, include_header=number == 0)
