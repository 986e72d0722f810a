"""A pipeline run: its steps in order, sharing the destination, the state database (runs
and the id map) and the report folder. A step that cannot start stops the run before the
next one, so no activity is sent pointing at contacts that were never loaded.

A run holds its pipeline's lock (:func:`lock_path`) from before it opens the state database
until it has recorded how it ended, so a scheduler that starts it twice gets one run and one
LockedError (exit 4). Holding the lock also proves that any run of the pipeline still marked
'running' was left by a dead process: those are marked crashed before the new run starts, and
the keyless records such a run may have created unrecorded are looked for before resending.

Exit 2 (the run could not start) promises that nothing was sent. A run that stops after it
sent records (the key refused in the middle of a load, a later step unable to start, a
report that cannot be written) keeps its report and true counts and exits 5 instead
(EXIT_STOPPED); the state database records it `interrupted`, so the next run resumes it.

A run that finished is then measured against the pipeline's `expect:`: one that broke an
expectation exits 6 (EXIT_EXPECTATIONS), and its record keeps which. Last, however the run
ended, a run that needs a person sends the pipeline's `notify:` alert (run/alerting.py).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import httpx

from crmsync.alerts import RunAlert
from crmsync.alerts.expect import Broken, broken_expectations
from crmsync.config import FileDestinationConfig, Pipeline, Step
from crmsync.errors import (
    EXIT_EXPECTATIONS,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_ROWS_FAILED,
    EXIT_STOPPED,
    ConfigError,
    CrmsyncError,
    LockedError,
    StoppedError,
)
from crmsync.extract.sources import Source, SourceSet
from crmsync.report import RunSummary
from crmsync.report.files import check_report_dir
from crmsync.run.alerting import send_alert
from crmsync.run.destination import Destination
from crmsync.run.files import FileDestination
from crmsync.run.ids import IdIndex
from crmsync.run.observer import RunObserver, RunOptions
from crmsync.run.step import StepResult, check_step, run_step
from crmsync.run.step_run import StepRun
from crmsync.state import StateDB, StepState
from crmsync.state.location import lock_file
from crmsync.state.runs import CRASHED, FAILED, INTERRUPTED, PARTIAL, SUCCEEDED

# How far before an unfinished run's start Rally is searched for what it created: covers the
# difference between this machine's clock and Rally's.
RESUME_MARGIN = timedelta(minutes=10)
DRY_RUN_FOLDER = "dry-run"  # a dry run's report, inside the pipeline's report folder


@dataclass
class RunResult:
    run_id: int
    steps: list[StepResult]
    page: Path | None = None  # report.html, when it could be written
    broken: list[Broken] = field(default_factory=list)  # expectations the run broke

    @property
    def summary(self) -> RunSummary:
        """The first step's summary: the whole story of a single-step pipeline."""
        return self.steps[0].summary

    @property
    def summaries(self) -> list[RunSummary]:
        return [step.summary for step in self.steps]

    @property
    def files(self) -> dict[str, Path]:
        return self.steps[0].files

    @property
    def interrupted(self) -> bool:
        return any(step.summary.interrupted for step in self.steps)

    @property
    def stopped(self) -> str | None:
        """Why a step stopped short after it had sent records, or None."""
        return next((s.summary.stopped for s in self.steps if s.summary.stopped), None)

    @property
    def exit_code(self) -> int:
        if self.stopped:
            return EXIT_STOPPED
        if self.interrupted:
            return EXIT_INTERRUPTED
        if self.broken:
            return EXIT_EXPECTATIONS
        return EXIT_ROWS_FAILED if any(s.summary.failed for s in self.steps) else EXIT_OK

    @property
    def status(self) -> str:
        """How the state database records the run: partial when it finished with some rows
        failed and others through, failed when every row it read failed; a stopped run as an
        interrupted one, which the next run resumes (what was in flight is settled then)."""
        if self.interrupted or self.stopped:
            return INTERRUPTED
        if not any(s.summary.failed for s in self.steps):
            return SUCCEEDED
        through = sum(s.summary.rows_read - s.summary.failed for s in self.steps)
        return PARTIAL if through else FAILED


def lock_path(pipeline: Pipeline) -> Path:
    """The pipeline's lock file, beside its SQLite state database (a PostgreSQL state locks
    with an advisory lock instead: `StateLocation.lock`)."""
    location = pipeline.state.location(pipeline.base_dir)
    assert location.path is not None, "a PostgreSQL state has no lock file"
    return lock_file(location.path, pipeline.name)


def _ready_to_start(
    pipeline: Pipeline, opened: list[Source], destination: Destination | FileDestination
) -> Destination | FileDestination:
    """What must hold before anything is read: the source files are there, and the export's
    folders can be written, or Rally is being asked whether it answers (once, with short
    timeouts, on a thread while the sources are read: nothing waits for it before something
    needs Rally, a big file is read in pieces, or the run ends). Returns the destination,
    marked checked so its steps need not ask again."""
    for source in opened:
        source.check()
    if isinstance(destination, FileDestination):
        destination.check(pipeline.steps)
        return dataclasses.replace(destination, checked=True)
    if not destination.available:
        return destination
    first = pipeline.steps[0]
    return destination.start_check(first.rally_object, first.load.request_deadline_s)


def _destination_first(destination: Destination | FileDestination, exc: CrmsyncError) -> NoReturn:
    """A run that stops before its destination's check answered says what the check found
    first, as when the check came before the read: the key refused or Rally unreachable is
    the cause to fix, whatever the read then met."""
    try:
        destination.settle()
    except CrmsyncError as found:
        raise found from None
    raise exc


def asked_later(steps: Sequence[Step], index: int) -> bool:
    """Whether a step after `index` looks up the records of step `index`'s object: by a
    reference, or (companies) by name. A dry run then keeps placeholders for what it would
    create, so those steps resolve; otherwise a million of them are made for nothing."""
    obj = steps[index].object
    later = steps[index + 1 :]
    by_reference = any(lookup.object == obj for step in later for lookup in step.lookups.values())
    return by_reference or (obj == "companies" and any(s.object == obj for s in later))


def destination_of(
    pipeline: Pipeline, transport: httpx.AsyncBaseTransport | None = None
) -> Destination | FileDestination:
    """Rally, or the files of an export."""
    config = pipeline.destination
    if isinstance(config, FileDestinationConfig):
        return FileDestination(config, pipeline.base_dir)
    return Destination.of(
        config,
        transport,
        available=pipeline.destination_unset is None,
        allow_insecure_http=pipeline.allow_insecure_http,
    )


def report_root_of(pipeline: Pipeline, options: RunOptions) -> Path:
    """Where a run's report goes: --report-dir as given, else the pipeline's report.dir, and a
    dry run's in its DRY_RUN_FOLDER there, so it never overwrites a real run's report."""
    if options.report_dir is not None:
        return options.report_dir
    root = pipeline.resolve(pipeline.report.dir)
    return root / DRY_RUN_FOLDER if options.dry_run else root


@dataclass
class _Started:
    """What a run that raised had got to: its id, and the steps it finished."""

    run_id: int | None = None
    result: RunResult | None = None


def run_pipeline(
    pipeline: Pipeline,
    options: RunOptions | None = None,
    observer: RunObserver | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    notify_transport: httpx.BaseTransport | None = None,
) -> RunResult:
    """Run every step under the pipeline's lock; raises LockedError (exit 4) at once if
    another run of the same pipeline holds it, CrmsyncError when a step cannot start (after
    recording it). `transport` replaces the network to Rally (an in-process Rally in tests),
    `notify_transport` the one to the alert webhook. A run that needs a person (see
    alerts/message.py) sends the pipeline's alert once it has ended, however it ended."""
    options = options or RunOptions()
    observer = observer or RunObserver()
    started = _Started()
    report_dir = str(report_root_of(pipeline, options))

    def alert(exit_code: int, status: str, **more: Any) -> None:
        steps = [s.summary for s in started.result.steps] if started.result else []
        run = RunAlert(
            pipeline.name,
            started.run_id,
            status,
            exit_code,
            steps=steps,
            report_dir=report_dir,
            dry_run=options.dry_run,
            **more,
        )
        send_alert(pipeline, run, observer, transport=notify_transport)

    try:
        result = _run(pipeline, options, observer, transport, started)
    except (KeyboardInterrupt, LockedError):
        raise
    except CrmsyncError as exc:
        status = INTERRUPTED if isinstance(exc, StoppedError) else FAILED
        alert(exc.exit_code, status, error=str(exc))
        raise
    except Exception as exc:
        alert(EXIT_INTERNAL, CRASHED, error=f"{type(exc).__name__}: {exc}")
        raise
    alert(result.exit_code, result.status, broken=result.broken, error=result.stopped)
    return result


def _run(
    pipeline: Pipeline,
    options: RunOptions,
    observer: RunObserver,
    transport: httpx.AsyncBaseTransport | None,
    started: _Started,
) -> RunResult:
    clock = time.monotonic()
    if pipeline.destination_unset is not None:
        if not options.dry_run or any(step.lookups for step in pipeline.steps):
            raise ConfigError(f"{pipeline.destination_unset} (this run reads Rally)")
        observer.warning(
            f"{pipeline.destination_unset}: this dry run plans without Rally, and without "
            "what earlier runs sent to it"
        )
    report_root = report_root_of(pipeline, options)
    for step in pipeline.steps:
        check_report_dir(_report_dir(pipeline, report_root, step.name))
    for where, url in pipeline.insecure_urls():
        observer.warning(f"{where}: the API key goes unencrypted to {url} (allow_insecure_http)")
    destination = destination_of(pipeline, transport)
    if isinstance(destination, FileDestination) and not destination.incremental:
        options = dataclasses.replace(options, full=True)  # a snapshot: read every record
    location = pipeline.state.location(pipeline.base_dir)
    lock = location.lock(pipeline.name)
    with lock, location.open(check_later=True) as db:
        crashed = db.runs.mark_crashed(pipeline.name)
        if lock.took_over_from is not None or crashed:
            observer.recovered(lock.took_over_from, crashed)
        unfinished = db.runs.last_unfinished(pipeline.name)
        previous = db.runs.get(unfinished) if unfinished is not None else None
        run_id = db.runs.start(pipeline.name, dry_run=options.dry_run)
        started.run_id = run_id
        if isinstance(destination, FileDestination):
            destination = dataclasses.replace(destination, run_id=run_id)
        observer.run_started(pipeline.name, run_id, [step.name for step in pipeline.steps])
        resume_since = None
        if previous is not None:
            resume_since = datetime.fromisoformat(previous.started_at) - RESUME_MARGIN
        sources = SourceSet(pipeline.base_dir, allow_insecure_http=pipeline.allow_insecure_http)
        ids = IdIndex()
        result = started.result = RunResult(run_id=run_id, steps=[])

        def finish(status: str, **extra: object) -> None:
            steps = [asdict(s.summary) for s in result.steps]
            summary = {**extra, "steps": steps}
            broken = [asdict(b) for b in result.broken] or None
            db.runs.finish(
                run_id, status=status, summary=summary, report_dir=str(report_root), broken=broken
            )

        try:
            opened = [
                sources.open(step.source, request_deadline_s=step.load.request_deadline_s)
                for step in pipeline.steps
            ]
            destination = _ready_to_start(pipeline, opened, destination)
            envs = [
                StepRun(
                    source=source,
                    state=StepState(
                        db,
                        destination=destination.scope,
                        step=step.name,
                        run_id=run_id,
                        dry_run=options.dry_run,
                    ),
                    ids=ids,
                    destination=destination,
                    options=options,
                    observer=observer,
                    base_dir=pipeline.base_dir,
                    report_dir=_report_dir(pipeline, report_root, step.name),
                    resume_since=resume_since,
                    last_read=all(later is not source for later in opened[index + 1 :]),
                    asked_later=asked_later(pipeline.steps, index),
                    work_memory=int(pipeline.work_memory),
                )
                for index, (step, source) in enumerate(zip(pipeline.steps, opened, strict=True))
            ]
            if not pipeline.single_step:  # no step writes when a later one could not start
                for step, env in zip(pipeline.steps, envs, strict=True):
                    try:
                        check_step(step, env)
                    except CrmsyncError as exc:
                        _destination_first(destination, exc)
            for index, (step, env) in enumerate(zip(pipeline.steps, envs, strict=True)):
                if not pipeline.single_step:
                    observer.step_started(step.name, index, len(pipeline.steps))
                try:
                    step_result = run_step(step, env)
                except CrmsyncError as exc:
                    _destination_first(destination, exc)
                result.steps.append(step_result)
                db.runs.record_step(run_id, step.name, asdict(step_result.summary))
                db.pages.record(run_id, step.name, step_result.load, step_result.digest)
                observer.step_finished(step_result.summary)
                if step_result.summary.interrupted or step_result.summary.stopped:
                    break
            destination.settle()  # a run that never needed Rally still says it is unreachable
        except CrmsyncError as exc:
            if not any(_sent(step.summary) for step in result.steps):
                finish(FAILED, error=str(exc))
                observer.run_finished(run_id, FAILED, exc.exit_code)
                raise
            stopped = StoppedError(
                f"{exc} (the run stopped there; the steps before it had sent records: "
                "fix this and run again, what Rally acknowledged is not sent twice)"
            )
            finish(INTERRUPTED, error=str(stopped))
            _write_page(db, run_id, report_root, observer)
            observer.run_finished(run_id, INTERRUPTED, stopped.exit_code)
            raise stopped from None
        except BaseException:
            finish(CRASHED)
            raise
        if pipeline.expect is not None and not (
            options.dry_run or result.stopped or result.interrupted
        ):
            duration = time.monotonic() - clock
            result.broken = broken_expectations(pipeline.expect, result.summaries, duration)
            for broken in result.broken:
                observer.expectation_broken(broken)
        if result.stopped:
            finish(result.status, error=result.stopped)
        else:
            finish(result.status)
        result.page = _write_page(db, run_id, report_root, observer)
        observer.run_finished(run_id, result.status, result.exit_code)
    return result


def _write_page(db: StateDB, run_id: int, folder: Path, observer: RunObserver) -> Path | None:
    """report.html of the run, beside its report files; a page that cannot be written is a
    warning, never a failed run: the CSVs and the state database hold the same figures."""
    from crmsync.report.page import write_run_page  # jinja2: imported by a run that ends

    try:
        return write_run_page(db, run_id, folder)
    except Exception as exc:
        observer.warning(f"report.html not written to {folder}: {exc}")
        return None


def _report_dir(pipeline: Pipeline, report_root: Path, step: str) -> Path:
    return report_root if pipeline.single_step else report_root / step


def _sent(summary: RunSummary) -> bool:
    """The step sent Rally something that may have written records."""
    return not summary.dry_run and bool(summary.requests or summary.created or summary.updated)
