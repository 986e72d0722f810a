"""Per-row outcome report (errors.csv, merged.csv, warnings.csv) and the run summary.

errors.csv carries the row's original source columns after `source,row,stage,field,error`,
so the user fixes those lines and feeds the file back through the same pipeline.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import polars as pl

OUTCOMES = ("created", "updated", "unchanged", "merged", "failed")
STAGES = ("read", "normalize", "validate", "dedupe", "resolve", "load")
REPORT_COLUMNS = ("source", "row", "stage", "field", "error")

# The schema of the outcome frame every stage contributes rows to.
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


@dataclass
class RunSummary:
    """summary.json: counts always satisfy rows_read = created + updated + unchanged
    + merged + failed (+ planned on a dry run)."""

    name: str
    object: str
    source: str
    dry_run: bool
    started_at: str
    finished_at: str = ""
    duration_s: float = 0.0
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0
    failed: int = 0
    planned: int = 0
    failed_by_stage: dict[str, int] = field(default_factory=dict)
    warnings: int = 0
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    interrupted: bool = False
    report_dir: str = ""
    files: dict[str, str] = field(default_factory=dict)

    def count(self, outcomes: pl.DataFrame) -> None:
        """Fill the per-outcome counts from the outcome frame (one row per row, per field)."""
        per_row = outcomes.unique(subset=["_source", "_row"], keep="first", maintain_order=True)
        counts = dict(per_row.group_by("outcome").len().iter_rows())
        for name in (*OUTCOMES, "planned"):
            setattr(self, name, int(counts.get(name, 0)))
        failed = per_row.filter(pl.col("outcome") == "failed")
        by_stage = dict(failed.group_by("stage").len().iter_rows())
        self.failed_by_stage = {stage: int(by_stage.get(stage, 0)) for stage in STAGES}


def _with_source_columns(
    rows: pl.DataFrame, source_rows: pl.DataFrame, source_columns: list[str], taken: set[str]
) -> pl.DataFrame:
    """Join the original source columns onto report rows; a source column whose name the
    report already uses gets a "source:" prefix rather than overwriting it."""
    renames = {c: f"source:{c}" for c in source_columns if c in taken}
    original = source_rows.select(["_source", "_row", *source_columns]).rename(renames)
    return rows.join(original, on=["_source", "_row"], how="left", maintain_order="left")


def write_report(
    report_dir: Path,
    *,
    outcomes: pl.DataFrame,
    warnings: pl.DataFrame,
    source_rows: pl.DataFrame,
    source_columns: list[str],
    rejects: pl.DataFrame,
    summary: RunSummary,
    payloads: list[dict[str, object]] | None = None,
) -> dict[str, Path]:
    """Write the report files; returns name -> path of what was written."""
    report_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}

    failed = outcomes.filter(pl.col("outcome") == "failed").sort(["_row"], maintain_order=True)
    errors = failed.select(pl.col("_source"), pl.col("_row"), "stage", "field", "error")
    errors = _with_source_columns(errors, source_rows, source_columns, set(REPORT_COLUMNS))
    if rejects.height:
        raw = rejects.select("_source", "_row", pl.col("raw").alias("raw_line"))
        errors = errors.join(raw, on=["_source", "_row"], how="left", maintain_order="left")
    errors = errors.rename({"_source": "source", "_row": "row"})
    files["errors"] = report_dir / "errors.csv"
    errors.write_csv(files["errors"])

    merged = outcomes.filter(pl.col("outcome") == "merged").select(
        "_source", "_row", pl.col("merged_into_row").alias("merged_into_row"), "field", "error"
    )
    merged = merged.rename({"field": "key", "error": "note"})
    merged = _with_source_columns(
        merged, source_rows, source_columns, {"source", "row", "merged_into_row", "key", "note"}
    ).rename({"_source": "source", "_row": "row"})
    files["merged"] = report_dir / "merged.csv"
    merged.write_csv(files["merged"])

    files["warnings"] = report_dir / "warnings.csv"
    warnings.select(
        pl.col("_source").alias("source"),
        pl.col("_row").alias("row"),
        "field",
        pl.col("error").alias("warning"),
    ).write_csv(files["warnings"])

    if payloads is not None:
        files["payloads"] = report_dir / "payloads.ndjson"
        with files["payloads"].open("w", encoding="utf-8") as out:
            for payload in payloads:
                out.write(json.dumps(payload, ensure_ascii=False, default=str) + "\n")

    files["summary"] = report_dir / "summary.json"
    summary.report_dir = str(report_dir)
    summary.files = {name: str(path) for name, path in files.items()}
    files["summary"].write_text(json.dumps(asdict(summary), indent=2) + "\n", encoding="utf-8")
    return files
