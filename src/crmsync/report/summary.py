"""summary.json: one step's counts, requests and timing, as the report, the run history and
the closing tables show them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from crmsync.report.outcomes import OUTCOMES, PLANNED, STAGES


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

    def count(self, per_outcome: Mapping[str, int], failed_by_stage: Mapping[str, int]) -> None:
        """Fill the per-outcome counts (rows, each counted once)."""
        for name in (*OUTCOMES, PLANNED):
            setattr(self, name, int(per_outcome.get(name, 0)))
        self.failed_by_stage = {stage: int(failed_by_stage.get(stage, 0)) for stage in STAGES}
