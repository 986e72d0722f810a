"""summary.json: one step's counts, requests and timing, as the report, the run history and
the closing tables show them."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from crmsync.report.outcomes import IDENTITY, OUTCOMES, PLANNED, STAGES


@dataclass
class RunSummary:
    """Counts always satisfy rows_read = created + updated + unchanged + skipped + merged
    + failed (+ planned on a dry run). `conflicts` counts fields, not rows."""

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
    skipped: int = 0
    deleted: int = 0  # an undo's: records a run created, deleted again
    merged: int = 0
    failed: int = 0
    planned: int = 0
    would_update: int = 0  # of the planned rows of a dry run, those Rally has
    failed_by_stage: dict[str, int] = field(default_factory=dict)
    conflicts: int = 0
    warnings: int = 0
    warnings_by_field: dict[str, int] = field(default_factory=dict)  # rows, per field warned
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    interrupted: bool = False
    # Why the step stopped short after it had sent records (the key refused mid-load, its
    # report not written), or None.
    stopped: str | None = None
    notices: list[str] = field(default_factory=list)  # what the step did without, said once
    report_dir: str = ""
    files: dict[str, str] = field(default_factory=dict)

    def count(self, outcomes: pl.DataFrame) -> None:
        """Fill the per-outcome counts from the outcome frame (one row per row, per field)."""
        per_row = (
            outcomes.lazy()
            .select(*IDENTITY, "outcome", "stage")
            .unique(subset=IDENTITY, keep="first", maintain_order=True)
            .select("outcome", "stage")
            .collect()
        )
        counts = dict(per_row.group_by("outcome").len().iter_rows())
        for name in (*OUTCOMES, PLANNED):
            setattr(self, name, int(counts.get(name, 0)))
        failed = per_row.filter(pl.col("outcome") == "failed")
        by_stage = dict(failed.group_by("stage").len().iter_rows())
        self.failed_by_stage = {stage: int(by_stage.get(stage, 0)) for stage in STAGES}
