"""One step of a pipeline, in the order of the flow:

    extract -> transform -> resolve -> plan -> deliver -> report

A step whose destination is files (an export) goes extract -> transform -> export -> report.

Every source row ends in exactly one outcome: each stage records its rows in the step's
outcome ledger, and the summary is counted from it, so the counts add up by construction.

A step that stops short after it began sending (the key refused mid-load) or cannot write its
report still ends with its true counts: `RunSummary.stopped` says why, and the rows whose
outcome is unknown fail with a message saying so.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from crmsync.api import ClientStats, RallyClient
from crmsync.api.timeline import LoadSecond
from crmsync.config import Step
from crmsync.errors import CrmsyncError
from crmsync.extract import Extracted
from crmsync.extract.sources import Source
from crmsync.report import RunSummary, outcome_frame, write_report
from crmsync.report.changes import ChangeLog
from crmsync.report.digest import step_digest
from crmsync.report.outcomes import IDENTITY
from crmsync.report.wording import counted
from crmsync.run.artifacts import Delivered, Plan, Transformed
from crmsync.run.destination import Destination
from crmsync.run.files import FileDestination
from crmsync.run.ids import IdIndex
from crmsync.run.ledger import OutcomeLedger
from crmsync.run.observer import RunObserver, RunOptions
from crmsync.run.source_rows import SPILL_BYTES, SourceRows
from crmsync.run.stages.adopt import adopt_by_name, names_needed
from crmsync.run.stages.deliver import Delivery, DryRunDelivery, RallyDelivery
from crmsync.run.stages.export import export
from crmsync.run.stages.extract import newest, read_start, select
from crmsync.run.stages.plan import plan
from crmsync.run.stages.resolve import needed_keys, resolve
from crmsync.run.stages.transform import absent_notes, source_columns, transform
from crmsync.run.stages.update import policy_mark
from crmsync.run.step_lines import read_detail, region_notice, warnings_by_field
from crmsync.state import StepState

INTERRUPTED_ERROR = (
    "interrupted before its outcome was known: it may or may not be in Rally; "
    "run again to settle it (records Rally acknowledged are not sent twice)"
)
EXPORT_INTERRUPTED_ERROR = "interrupted before the export's file was written: run again"
STOPPED_ERROR = (
    "the load stopped before this record's outcome was known ({reason}): it may or may not "
    "be in Rally; run again once that is fixed (records Rally acknowledged are not sent twice)"
)
ISSUE_COLUMNS = ["_source", "_row", "field", "error"]


@dataclass(frozen=True)
class StepResult:
    summary: RunSummary
    files: dict[str, Path]
    load: list[LoadSecond] = field(default_factory=list)  # the requests, second by second
    digest: dict[str, Any] = field(default_factory=dict)  # report/digest.py: for the page


@dataclass(frozen=True)
class StepRun:
    """What one step runs with, besides its config: given by the pipeline."""

    source: Source
    state: StepState
    ids: IdIndex
    destination: Destination | FileDestination
    options: RunOptions
    observer: RunObserver
    base_dir: Path
    report_dir: Path
    resume_since: datetime | None = None
    last_read: bool = True  # no later step of the run reads this step's source
    asked_later: bool = True  # a later step looks up this step's object by its keys


def check_step(step: Step, env: StepRun) -> None:
    """Read the step's source (the read is kept for the step) and check the columns its
    mapping reads: ConfigError, before any step of the pipeline has written, when it could
    not start."""
    source = env.source
    extracted = select(
        source.read(_read_start(env)),
        limit=env.options.limit,
        where=step.where,
        source=source.name,
        filled=step.where_filled,
    )
    source_columns(step, extracted, source.name)


def run_step(step: Step, env: StepRun) -> StepResult:
    """Run one step to its report; raises CrmsyncError when it cannot start."""
    started_at, clock = datetime.now(UTC), time.monotonic()
    if not isinstance(env.destination, FileDestination):
        env.state.prefetch_accepted()  # read while the source is read and transformed
    source = env.source
    since = _read_start(env)
    read = source.read(since)
    extracted = select(
        read,
        limit=env.options.limit,
        where=step.where,
        source=source.name,
        filled=step.where_filled,
    )
    ledger = OutcomeLedger(pl.concat([extracted.frame[IDENTITY], extracted.rejects[IDENTITY]]))
    ledger.record(outcome_frame(extracted.rejects, outcome="failed", stage="read"))
    env.observer.stage("read", read_detail(ledger.rows_read, source.name, read))

    columns = source_columns(step, extracted, source.name)
    notices = absent_notes(step, extracted)
    for notice in notices:
        env.observer.warning(notice)
    transformed = transform(extracted, step, columns, env.base_dir)
    ledger.record(transformed.outcomes)
    failed = transformed.failed_rows
    env.observer.stage("validate", f"{counted(failed, 'row')} failed")
    if transformed.merged_rows is not None:
        merged = transformed.merged_rows
        env.observer.stage("dedupe", f"{counted(merged, 'duplicate')} merged")

    env.state.verify()  # its pages were checked while the source was read and transformed
    mark = _watermark(env, read)
    spill = SPILL_BYTES if env.last_read else None  # a later step reads it again: kept
    with SourceRows.keep(extracted.frame, env.report_dir, spill_bytes=spill) as kept:
        if kept.spilled:  # let go of the read: the report reads its rows back
            source.forget()
            extracted = dataclasses.replace(extracted, frame=extracted.frame.clear())
            del read
        return _deliver_and_report(
            step, env, ledger, transformed, extracted, kept, mark, notices, started_at, clock
        )


def _deliver_and_report(
    step: Step,
    env: StepRun,
    ledger: OutcomeLedger,
    transformed: Transformed,
    extracted: Extracted,
    kept: SourceRows,
    mark: str | None,
    notices: list[str],
    started_at: datetime,
    clock: float,
) -> StepResult:
    delivered = Delivered()
    warnings = [transformed.warnings.select(ISSUE_COLUMNS)]
    with ChangeLog(env.report_dir) as log:
        try:  # resolve, plan and deliver: everything that may talk to Rally
            if isinstance(env.destination, FileDestination):
                export(
                    step,
                    env.destination,
                    transformed.frame,
                    ledger=ledger,
                    delivered=delivered,
                    observer=env.observer,
                    dry_run=env.options.dry_run,
                )
            else:
                rally = env.destination
                asyncio.run(
                    _resolve_and_deliver(
                        step, env, rally, transformed, ledger, warnings, delivered, log
                    )
                )
        except KeyboardInterrupt:
            delivered.interrupted = True
    ledger.record(delivered.outcomes(transformed.frame))
    unsettled = INTERRUPTED_ERROR
    if isinstance(env.destination, FileDestination):
        unsettled = EXPORT_INTERRUPTED_ERROR
    if delivered.stopped:
        unsettled = STOPPED_ERROR.format(reason=delivered.stopped)
    outcomes = ledger.close(unsettled=unsettled)

    summary = _summary(step, env, started_at, ledger.rows_read, delivered)
    summary.notices = notices
    summary.count(outcomes)
    summary.conflicts = log.conflicts
    warned = pl.concat(warnings).sort(IDENTITY, maintain_order=True)
    summary.warnings = warned.select(IDENTITY).unique().height
    summary.warnings_by_field = warnings_by_field(warned)
    if regionless := region_notice(step, warned):
        env.observer.warning(regionless)
        summary.notices.append(regionless)
    if mark is not None and _complete(summary, env.options):
        env.state.advance_watermark(env.source.label, mark)
    summary.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
    summary.duration_s = round(time.monotonic() - clock, 3)
    wanted = outcomes.filter(pl.col("outcome").is_in(["failed", "merged"])).select(IDENTITY)
    source_rows = kept.rows(pl.concat([wanted, warned.select(IDENTITY)]))
    try:
        files = write_report(
            env.report_dir,
            outcomes=outcomes,
            warnings=warned,
            source_rows=source_rows,
            source_columns=list(extracted.columns),
            rejects=extracted.rejects,
            summary=summary,
            payloads=delivered.payloads,
            written={"plan": log.plan_path, "conflicts": log.conflicts_path},
        )
    except OSError as exc:  # after the load: the counts are still true, and recorded
        problem = f"the report could not be written to {env.report_dir}: {exc.strerror or exc}"
        summary.stopped = f"{summary.stopped}; {problem}" if summary.stopped else problem
        files = {}
    digest = step_digest(outcomes, warned, source_rows, list(extracted.columns))
    return StepResult(summary=summary, files=files, load=delivered.load, digest=digest)


def _read_start(env: StepRun) -> datetime | None:
    """Where an incremental source is read from (None: from the start), announced."""
    source = env.source
    since = None
    if source.incremental_by and not env.options.full:
        since = read_start(env.state.watermark(source.label))
    if announce := source.describe(since):
        env.observer.stage("extract", announce)
    return since


def _summary(
    step: Step, env: StepRun, started_at: datetime, rows_read: int, delivered: Delivered
) -> RunSummary:
    return RunSummary(
        name=step.name,
        object=step.object,
        source=env.source.name,
        dry_run=env.options.dry_run,
        started_at=started_at.isoformat(timespec="seconds"),
        rows_read=rows_read,
        requests=delivered.requests,
        retries=delivered.retries,
        rate_limited=delivered.rate_limited,
        interrupted=delivered.interrupted,
        stopped=delivered.stopped,
        would_update=delivered.would_update,
    )


def _complete(summary: RunSummary, options: RunOptions) -> bool:
    """A real run that ended and left nothing to read again: rows that failed to load or
    resolve must be read again next time, so the watermark waits for them."""
    retry_later = summary.failed_by_stage["load"] + summary.failed_by_stage["resolve"]
    return not (options.dry_run or summary.interrupted or retry_later)


def _watermark(env: StepRun, read: Extracted) -> str | None:
    """Where the next incremental read starts, if this run completes (None: not incremental)."""
    column = env.source.incremental_by
    return newest(read, column) if column else None


async def _resolve_and_deliver(
    step: Step,
    env: StepRun,
    rally: Destination,
    transformed: Transformed,
    ledger: OutcomeLedger,
    warnings: list[pl.DataFrame],
    delivered: Delivered,
    log: ChangeLog,
) -> None:
    """Everything that may talk to Rally: lookups, a look at what Rally holds, the delivery.
    A dry run connects only when it has lookups to resolve (references, or a company known
    only by its name) or records to merge, and never when its destination is not set."""
    obj = step.rally_object
    looks_up = bool(step.lookups or names_needed(transformed.frame, obj))
    if env.options.dry_run and not (looks_up and rally.available):
        frame = await _resolve(step, env, transformed.frame, None, ledger, warnings)
        planned = _plan(step, env, frame)
        if planned.todo.is_empty() or not rally.available:
            dry = DryRunDelivery(step, env.state, env.ids, None, log, learn=env.asked_later)
            await dry.deliver(planned, delivered, _no_load)
            return
        async with rally.connect(obj, step.load.settings("bulk")) as client:
            dry = DryRunDelivery(step, env.state, env.ids, client, log, learn=env.asked_later)
            await dry.deliver(planned, delivered, _no_load)
        return
    async with rally.connect(obj, step.load.settings("bulk")) as client:
        frame = await _resolve(step, env, transformed.frame, client, ledger, warnings)
        planned = _plan(step, env, frame)
        if env.options.dry_run:
            dry = DryRunDelivery(step, env.state, env.ids, client, log, learn=env.asked_later)
            await dry.deliver(planned, delivered, _no_load)
            return
        env.observer.stage("connect", f"Rally at {rally.base_url}")
        delivery: Delivery = RallyDelivery(
            client,
            step=step,
            state=env.state,
            observer=env.observer,
            resume_since=env.resume_since,
            log=log,
        )

        sending = False
        before = client.stats.snapshot()
        env.observer.load_watch(client.timeline)

        def started(records: int, batches: int) -> None:
            nonlocal sending
            sending = records > 0
            sent = counted(records, "record")
            env.observer.stage("plan", f"{frame.height - records} unchanged, {sent} to send")
            env.observer.load_started(records, batches)

        try:
            await delivery.deliver(planned, delivered, started)
        except CrmsyncError as exc:
            if not sending:
                raise  # nothing was sent: the step could not start
            delivered.stopped = str(exc)
            _count_requests(delivered, client, before)
        finally:
            delivered.load = client.timeline.seconds()
            env.observer.load_finished()


def _count_requests(delivered: Delivered, client: RallyClient, before: ClientStats) -> None:
    """The requests a delivery cut short made: the loader had no chance to count them."""
    stats = client.stats
    delivered.requests = max(delivered.requests, stats.requests - before.requests)
    delivered.retries = max(delivered.retries, stats.retries - before.retries)
    delivered.rate_limited = max(delivered.rate_limited, stats.rate_limited - before.rate_limited)


async def _resolve(
    step: Step,
    env: StepRun,
    frame: pl.DataFrame,
    client: RallyClient | None,
    ledger: OutcomeLedger,
    warnings: list[pl.DataFrame],
) -> pl.DataFrame:
    """Reference fields filled in; rows whose references find nothing fail (stage resolve)."""
    needed = {**needed_keys(frame, step.lookups)}
    for key, names in names_needed(frame, step.rally_object).items():
        needed[key] = needed.get(key, set()) | names
    await env.ids.fill(needed, env.state, client, env.observer)
    if not step.lookups:
        return frame
    resolved = resolve(frame, step.lookups, env.ids)
    ledger.fail(resolved.failures, stage="resolve")
    warnings.append(resolved.warnings.select(ISSUE_COLUMNS))
    missing = resolved.failures.height + resolved.warnings.height
    env.observer.stage("resolve", f"{counted(missing, 'reference')} not found")
    return resolved.frame


def _plan(step: Step, env: StepRun, frame: pl.DataFrame) -> Plan:
    accepted = env.state.accepted()
    mark = policy_mark(step)
    planned = plan(frame, step.rally_object, accepted, full=env.options.full, policy=mark)
    return adopt_by_name(planned, env.ids)


def _no_load(records: int, batches: int) -> None:
    """A dry run starts no load."""
