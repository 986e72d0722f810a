"""What a run's page shows, gathered from the state database alone: the run, each step's
summary, load and digest, and the same figures for the pipeline's last runs. A run's page is
drawn from here both when the run ends and by `crmsync report --html` later, so the two
agree by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crmsync.api.timeline import LoadSecond
from crmsync.report.history import run_row, step_summaries
from crmsync.report.summary import RunSummary
from crmsync.state import RunRecord, StateDB

HISTORY_RUNS = 10  # the pipeline's runs compared on the page, this one included
MAX_POINTS = 240  # seconds of a load drawn; a longer load is drawn in wider buckets


@dataclass(frozen=True)
class LoadFigures:
    """A load's figures over its whole length (latencies: request-weighted averages of each
    second's percentiles)."""

    seconds: int = 0
    records: int = 0
    requests: int = 0
    rate_limited: int = 0
    retries: int = 0
    peak_in_flight: int = 0
    records_per_s: float = 0.0
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None


@dataclass(frozen=True)
class StepPage:
    summary: RunSummary
    load: list[LoadSecond]
    figures: LoadFigures
    digest: dict[str, Any]


@dataclass(frozen=True)
class PastRun:
    """One of the pipeline's last runs, as the history table and charts show it."""

    run_id: int
    started_at: str
    status: str
    dry_run: bool
    duration_s: float | None
    counts: dict[str, int]
    figures: LoadFigures
    steps: dict[str, tuple[dict[str, int], LoadFigures]] = field(default_factory=dict)


@dataclass(frozen=True)
class RunPage:
    run: dict[str, Any]  # history.run_row
    steps: list[StepPage]
    history: list[PastRun]  # oldest first, ending with this run

    @property
    def totals(self) -> dict[str, int]:
        return self.history[-1].counts if self.history else {}

    @property
    def failed_by_stage(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for step in self.steps:
            for stage, count in step.summary.failed_by_stage.items():
                found[stage] = found.get(stage, 0) + count
        return found


def figures(seconds: list[LoadSecond]) -> LoadFigures:
    """A load summed up: records/s over the seconds from its first request to its last."""
    if not seconds:
        return LoadFigures()
    span = seconds[-1].second - seconds[0].second + 1
    records = sum(s.records for s in seconds)
    requests = sum(s.requests for s in seconds)

    def weighted(name: str) -> float | None:
        pairs = [(getattr(s, name), s.requests) for s in seconds if getattr(s, name) is not None]
        weight = sum(n for _, n in pairs)
        return round(sum(v * n for v, n in pairs) / weight, 1) if weight else None

    return LoadFigures(
        seconds=span,
        records=records,
        requests=requests,
        rate_limited=sum(s.rate_limited for s in seconds),
        retries=sum(s.retries for s in seconds),
        peak_in_flight=max(s.in_flight for s in seconds),
        records_per_s=round(records / span, 1),
        p50_ms=weighted("p50_ms"),
        p95_ms=weighted("p95_ms"),
        p99_ms=weighted("p99_ms"),
    )


def _add(total: LoadFigures, more: LoadFigures) -> LoadFigures:
    if not more.seconds:
        return total
    if not total.seconds:
        return more
    seconds = total.seconds + more.seconds
    requests = total.requests + more.requests

    def mean(a: float | None, b: float | None) -> float | None:
        if a is None or b is None:
            return a if b is None else b
        return round((a * total.requests + b * more.requests) / max(requests, 1), 1)

    return LoadFigures(
        seconds=seconds,
        records=total.records + more.records,
        requests=requests,
        rate_limited=total.rate_limited + more.rate_limited,
        retries=total.retries + more.retries,
        peak_in_flight=max(total.peak_in_flight, more.peak_in_flight),
        records_per_s=round((total.records + more.records) / seconds, 1),
        p50_ms=mean(total.p50_ms, more.p50_ms),
        p95_ms=mean(total.p95_ms, more.p95_ms),
        p99_ms=mean(total.p99_ms, more.p99_ms),
    )


def filled(seconds: list[LoadSecond]) -> list[LoadSecond]:
    """Every second from the first to the last (quiet ones empty), in at most MAX_POINTS
    buckets: a long load's seconds are merged (counts summed, in flight and cap at their
    most, latencies weighted by requests)."""
    if not seconds:
        return []
    first, last = seconds[0].second, seconds[-1].second
    width = max(1, -(-(last - first + 1) // MAX_POINTS))
    buckets: dict[int, list[LoadSecond]] = {}
    for s in seconds:
        buckets.setdefault((s.second - first) // width, []).append(s)
    found = []
    for index in range((last - first) // width + 1):
        group = buckets.get(index, [])
        found.append(_merged(first + index * width, group, width))
    return found


def _merged(second: int, group: list[LoadSecond], width: int) -> LoadSecond:
    if not group:
        return LoadSecond(second=second)
    if len(group) == 1 and width == 1:
        return group[0]
    sums = figures(group)
    paces = [s.pace_rps for s in group if s.pace_rps is not None]
    return LoadSecond(
        second=second,
        requests=sums.requests,
        rate_limited=sums.rate_limited,
        failed=sum(s.failed for s in group),
        retries=sums.retries,
        records=sums.records,
        in_flight=sums.peak_in_flight,
        limit=max(s.limit for s in group),
        pace_rps=min(paces) if paces else None,
        p50_ms=sums.p50_ms,
        p95_ms=sums.p95_ms,
        p99_ms=sums.p99_ms,
        max_ms=max((s.max_ms for s in group if s.max_ms is not None), default=None),
    )


def _past(db: StateDB, record: RunRecord) -> PastRun:
    row = run_row(record)
    total = LoadFigures()
    steps = {}
    for summary in step_summaries(record):
        load = figures(db.pages.seconds(record.id, summary.name))
        steps[summary.name] = (_counts(summary), load)
        total = _add(total, load)
    return PastRun(
        run_id=record.id,
        started_at=record.started_at,
        status=record.status,
        dry_run=record.dry_run,
        duration_s=record.duration_s,
        counts={key: int(row[key]) for key in COUNT_KEYS},
        figures=total,
        steps=steps,
    )


COUNT_KEYS = ("read", "created", "updated", "unchanged", "merged", "skipped", "failed", "planned")


def _counts(summary: RunSummary) -> dict[str, int]:
    return {
        "read": summary.rows_read,
        "created": summary.created,
        "updated": summary.updated,
        "unchanged": summary.unchanged,
        "merged": summary.merged,
        "skipped": summary.skipped,
        "failed": summary.failed,
        "planned": summary.planned,
    }


def run_page(db: StateDB, record: RunRecord, *, history: int = HISTORY_RUNS) -> RunPage:
    """The page of `record`, with the pipeline's runs before it of the same kind (real runs,
    or dry runs), up to `history` in all."""
    steps = []
    for summary in step_summaries(record):
        load = db.pages.seconds(record.id, summary.name)
        digest = db.pages.digest(record.id, summary.name) or {}
        steps.append(StepPage(summary=summary, load=load, figures=figures(load), digest=digest))
    earlier = [
        r
        for r in db.runs.latest(record.pipeline, limit=history * 4)
        if r.id < record.id and r.dry_run == record.dry_run and not r.summary.get("undo_of")
    ][: history - 1]
    past = [_past(db, r) for r in reversed(earlier)]
    return RunPage(run=run_row(record), steps=steps, history=[*past, _past(db, record)])
