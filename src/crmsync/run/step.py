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
import contextlib
import dataclasses
import os
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from crmsync.api.timeline import LoadSecond
from crmsync.config import Step
from crmsync.errors import StateError
from crmsync.extract import Extracted
from crmsync.extract.csv_stream import NotStreamable
from crmsync.report import RunSummary, outcome_frame, write_report
from crmsync.report.changes import ChangeLog
from crmsync.report.digest import digest_samples, step_digest
from crmsync.report.files import report_rows
from crmsync.report.outcomes import IDENTITY
from crmsync.report.wording import counted
from crmsync.run.artifacts import Delivered, Transformed
from crmsync.run.files import FileDestination
from crmsync.run.ledger import OutcomeLedger
from crmsync.run.observer import RunOptions
from crmsync.run.source_rows import SourceRows
from crmsync.run.stages.export import export
from crmsync.run.stages.extract import newest, read_start, select
from crmsync.run.stages.partitions import Partitions, partition_count
from crmsync.run.stages.pieces import read_in_pieces
from crmsync.run.stages.transform import absent_notes, source_columns, transform
from crmsync.run.stages.unchanged import KnownRowMet, StoredOnce, Unchanged
from crmsync.run.step_lines import nested_notice, read_detail, step_notices, warnings_by_field
from crmsync.run.step_partitions import partitioned, plan_in_partitions
from crmsync.run.step_rally import ISSUE_COLUMNS, Planned, resolve_and_deliver
from crmsync.run.step_run import StepRun
from crmsync.run.unsettled import unsettled


@dataclass(frozen=True)
class StepResult:
    summary: RunSummary
    files: dict[str, Path]
    load: list[LoadSecond] = field(default_factory=list)  # the requests, second by second
    digest: dict[str, Any] = field(default_factory=dict)  # report/digest.py: for the page


def check_step(step: Step, env: StepRun) -> None:
    """Read the step's source (the read is kept for the step) and check the columns its
    mapping reads: ConfigError, before any step of the pipeline has written, when it could
    not start. A file the step reads in pieces is checked on its first piece."""
    source = env.source
    since = _read_start(env)
    if (pieces := _pieces(env, since)) is not None:
        try:
            first = next(pieces, None)
        except NotStreamable:
            first = None
        finally:
            pieces.close()
        if first is not None:
            selected = select(
                first, limit=None, where=step.where, source=source.name, filled=step.where_filled
            )
            source_columns(step, selected, source.name)
            return
    extracted = select(
        source.read(since),
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
    if (pieces := _pieces(env, since)) is not None:
        env.destination.settle()  # a big file's read is not waited out to say Rally is down
        result = _run_in_pieces(step, env, pieces, started_at, clock)
        if result is not None:
            return result
    read = source.read(since)
    extracted = select(
        read,
        limit=env.options.limit,
        where=step.where,
        source=source.name,
        filled=step.where_filled,
    )
    ledger = OutcomeLedger(pl.concat([extracted.frame[IDENTITY], extracted.rejects[IDENTITY]]))
    columns = source_columns(step, extracted, source.name)
    notices = _read_said(step, env, ledger, extracted)
    transformed = transform(extracted, step, columns, env.base_dir)
    _transformed_said(env, ledger, transformed)
    mark = _watermark(env, read)
    spill = env.work_memory if env.last_read else None  # a later step reads it again: kept
    with SourceRows.keep(extracted.frame, env.report_dir, spill_bytes=spill) as kept:
        if kept.spilled:  # let go of the read: the report reads its rows back
            source.forget()
            extracted = dataclasses.replace(extracted, frame=extracted.frame.clear())
            del read
        return _deliver_and_report(
            step, env, ledger, transformed, extracted, kept, mark, notices, started_at, clock
        )


def _run_in_pieces(
    step: Step,
    env: StepRun,
    pieces: Iterator[Extracted],
    started_at: datetime,
    clock: float,
) -> StepResult | None:
    """The step on a file read in pieces, its rows deduped and planned a partition at a time
    when the step allows (None: the file must be read whole). A partitioned step sets aside
    the rows known unchanged by their fingerprints, unless one meets a new duplicate: then
    the file is read again, every row checked."""
    stored = StoredOnce(lambda keys: _accepted(env, keys=keys))
    if partitioned(step, env) and not env.options.full:
        unchanged = Unchanged(step, env.base_dir, stored, keep=not env.options.dry_run)
        try:
            return _read_in_pieces(step, env, pieces, started_at, clock, stored, unchanged)
        except KnownRowMet:
            env.observer.stage("read", "a row known unchanged has a new duplicate: read again")
            again = env.source.pieces()
            if again is None:
                return None
            pieces = again
    return _read_in_pieces(step, env, pieces, started_at, clock, stored)


def _accepted(env: StepRun, *, keys: bool) -> pl.DataFrame:
    """What Rally last accepted, read while the state's pages are checked: nothing is sent
    before the check passes (`_transformed_said`), and a read that fails on a damaged page
    is said as the check says it."""
    try:
        return env.state.accepted(keys=keys)
    except StateError:
        env.state.verify()
        raise


def _read_in_pieces(
    step: Step,
    env: StepRun,
    pieces: Iterator[Extracted],
    started_at: datetime,
    clock: float,
    stored: StoredOnce,
    unchanged: Unchanged | None = None,
) -> StepResult | None:
    """`_run_in_pieces` once (`stored`: what Rally last accepted), with `unchanged` setting
    the rows known unchanged aside."""
    with SourceRows.spill(env.report_dir) as kept, contextlib.ExitStack() as stack:
        into = None
        if partitioned(step, env):
            count = partition_count(_file_size(env.source.name))
            into = stack.enter_context(Partitions(env.report_dir, count, env.work_memory))
        try:
            read = read_in_pieces(
                step, pieces, env.source.name, env.base_dir, kept, into, unchanged
            )
        except NotStreamable:
            return None
        if read is None:
            return None
        ledger = OutcomeLedger(read.rows_read)
        read = dataclasses.replace(read, rows_read=read.rows_read.clear())  # the ledger has them
        notices = _read_said(step, env, ledger, read.extracted)
        delivered, ahead, prints = Delivered(), None, None
        if into is None:
            transformed = read.transformed(step)
        else:
            known = unchanged.rows if unchanged is not None else []
            accepted = stored.take()  # let go of once planned: ten million are 500 MB
            transformed, ahead, prints = plan_in_partitions(
                step, env, into, read, ledger, delivered, accepted, known
            )
            del accepted
        _transformed_said(env, ledger, transformed)
        result = _deliver_and_report(
            step,
            env,
            ledger,
            transformed,
            read.extracted,
            kept,
            None,
            notices,
            started_at,
            clock,
            delivered=delivered,
            ahead=ahead,
        )
        for frame in prints.frames() if prints is not None else ():
            env.state.fingerprint(frame)
        if into is not None:
            env.state.keep_accepted()
        return result


def _file_size(path: str) -> int:
    """The size of the file a step reads in pieces (a file source is named by its path)."""
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _pieces(env: StepRun, since: datetime | None) -> Generator[Extracted, None, None] | None:
    """The source a piece at a time, when it is big and read by this step alone, whole and
    without --limit (None: read it whole)."""
    if since is not None or env.options.limit is not None or not env.last_read:
        return None
    return env.source.pieces()


def _read_said(step: Step, env: StepRun, ledger: OutcomeLedger, extracted: Extracted) -> list[str]:
    """The records that could not be parsed into the ledger, and the read's line said: the
    notices of mapped columns the source lacks."""
    ledger.record(outcome_frame(extracted.rejects, outcome="failed", stage="read"))
    env.observer.stage("read", read_detail(ledger.rows_read, env.source.name, extracted))
    notices = absent_notes(step, extracted)
    if (nested := nested_notice(extracted)) is not None:
        notices.append(nested)
    for notice in notices:
        env.observer.warning(notice)
    return notices


def _transformed_said(env: StepRun, ledger: OutcomeLedger, transformed: Transformed) -> None:
    """The transform's outcomes into the ledger and its lines said, once the state's pages
    are known sound."""
    ledger.record(transformed.outcomes)
    failed = transformed.failed_rows
    env.observer.stage("validate", f"{counted(failed, 'row')} failed")
    if transformed.merged_rows is not None:
        merged = transformed.merged_rows
        env.observer.stage("dedupe", f"{counted(merged, 'duplicate')} merged")
    env.state.verify()  # its pages were checked while the source was read and transformed


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
    *,
    delivered: Delivered | None = None,
    ahead: Planned | None = None,
) -> StepResult:
    delivered = Delivered() if delivered is None else delivered
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
                    log=log,
                )
            else:
                rally = env.destination
                asyncio.run(
                    resolve_and_deliver(
                        step, env, rally, transformed, ledger, warnings, delivered, log, ahead
                    )
                )
        except KeyboardInterrupt:
            delivered.interrupted = True
    for settled in delivered.settled_parts():
        ledger.settle(settled)
    said = unsettled(delivered, export=isinstance(env.destination, FileDestination))
    closed = ledger.close(unsettled=said.in_doubt, unsent=said.unsent, in_doubt=said.rows)
    outcomes = closed.said

    summary = _summary(step, env, started_at, ledger.rows_read, delivered)
    summary.notices = notices
    summary.count(closed.per_outcome, closed.failed_by_stage)
    summary.conflicts = log.conflicts
    warned = pl.concat(warnings).sort(IDENTITY, maintain_order=True)
    summary.warnings = warned.select(IDENTITY).unique().height
    summary.warnings_by_field = warnings_by_field(warned)
    for notice in step_notices(step, warned, outcomes):
        env.observer.warning(notice)
        summary.notices.append(notice)
    if mark is not None and _complete(summary, env.options):
        env.state.advance_watermark(env.source.label, mark)
    summary.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
    summary.duration_s = round(time.monotonic() - clock, 3)
    samples = digest_samples(outcomes, warned)
    rows_of = report_rows(kept.rows, outcomes, samples)
    try:
        files = write_report(
            env.report_dir,
            outcomes=outcomes,
            warnings=warned,
            rows_of=rows_of,
            source_columns=list(extracted.columns),
            rejects=extracted.rejects,
            summary=summary,
            written=log.written,
        )
    except OSError as exc:  # after the load: the counts are still true, and recorded
        problem = f"the report could not be written to {env.report_dir}: {exc.strerror or exc}"
        summary.stopped = f"{summary.stopped}; {problem}" if summary.stopped else problem
        files = {}
    digest = step_digest(outcomes, warned, rows_of(samples), list(extracted.columns))
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
