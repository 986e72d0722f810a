"""The alert a run sends: one JSON object, its `text` what Slack, Teams or a chat bridge
shows, the rest the run's figures for a receiver that files tickets or pages someone.

    text         one paragraph: pipeline, run, status and exit code, why, counts, report
    pipeline, run_id, status, exit_code, dry_run
    counts       rows_read, created, updated, unchanged, skipped, merged, failed (all steps)
    steps        per step: name and the same counts
    broken       the expectations broken: expectation, limit, actual, message
    error        why the run failed, stopped or crashed (None when it finished)
    report_dir   the report folder
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from crmsync.alerts.expect import Broken
from crmsync.errors import (
    EXIT_CANNOT_START,
    EXIT_EXPECTATIONS,
    EXIT_INTERNAL,
    EXIT_ROWS_FAILED,
    EXIT_STOPPED,
)
from crmsync.report import RunSummary

# Runs a person must hear of: rows failed, could not start, stopped after sending, broke an
# expectation, crashed. Interrupted (3) and locked (4) runs are the scheduler's business.
ALERT_EXIT_CODES = frozenset(
    {EXIT_ROWS_FAILED, EXIT_CANNOT_START, EXIT_STOPPED, EXIT_EXPECTATIONS, EXIT_INTERNAL}
)
COUNTS = ("rows_read", "created", "updated", "unchanged", "skipped", "merged", "failed")
WHY = {
    EXIT_ROWS_FAILED: "some rows failed",
    EXIT_CANNOT_START: "the run could not start; nothing was sent",
    EXIT_STOPPED: "the run stopped after sending records",
    EXIT_EXPECTATIONS: "the run broke what a healthy run looks like",
    EXIT_INTERNAL: "crmsync crashed",
}


@dataclass(frozen=True)
class RunAlert:
    """What is known of a run when it ends, however it ended."""

    pipeline: str
    run_id: int | None  # None: it could not start before it had an id
    status: str
    exit_code: int
    steps: Sequence[RunSummary] = ()
    broken: Sequence[Broken] = ()
    error: str | None = None
    report_dir: str | None = None
    dry_run: bool = False


def _counts(steps: Sequence[RunSummary]) -> dict[str, int]:
    return {name: sum(int(getattr(step, name)) for step in steps) for name in COUNTS}


def alert_text(alert: RunAlert) -> str:
    """The one paragraph a chat shows."""
    run = f"run {alert.run_id}" if alert.run_id is not None else "a run"
    lines = [
        f"crmsync: pipeline {alert.pipeline}, {run} {alert.status} "
        f"(exit {alert.exit_code}): {WHY.get(alert.exit_code, 'see the report')}."
    ]
    lines += [f"Expectation broken: {broken.message}." for broken in alert.broken]
    if alert.error:
        lines.append(f"Error: {alert.error}")
    if alert.steps:
        counts = _counts(alert.steps)
        lines.append(
            f"Read {counts['rows_read']}: created {counts['created']}, updated "
            f"{counts['updated']}, unchanged {counts['unchanged']}, skipped {counts['skipped']}, "
            f"merged {counts['merged']}, failed {counts['failed']}."
        )
    if alert.report_dir:
        lines.append(f"Report: {alert.report_dir}")
    return "\n".join(lines)


def alert_body(alert: RunAlert) -> dict[str, Any]:
    """The JSON object POSTed (see the module's table)."""
    return {
        "text": alert_text(alert),
        "pipeline": alert.pipeline,
        "run_id": alert.run_id,
        "status": alert.status,
        "exit_code": alert.exit_code,
        "dry_run": alert.dry_run,
        "counts": _counts(alert.steps),
        "steps": [{"name": step.name, **_counts([step])} for step in alert.steps],
        "broken": [asdict(broken) for broken in alert.broken],
        "error": alert.error,
        "report_dir": alert.report_dir,
    }
