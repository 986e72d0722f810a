"""A pipeline run: its steps in order, sharing the destination, the state database (runs
and the id map) and the report folder. A step that cannot start stops the run before the
next one, so no activity is sent pointing at contacts that were never loaded.

A run holds its pipeline's lock (:func:`lock_path`) from before it opens the state database
until it has recorded how it ended, so a scheduler that starts it twice gets one run and one
LockedError (exit 4). Holding the lock also proves that any run of the pipeline still marked
'running' was left by a dead process: those are marked crashed before the new run starts.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

from crmsync.config import Pipeline
from crmsync.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_ROWS_FAILED, CrmsyncError
from crmsync.lock import PipelineLock
from crmsync.report import RunSummary
from crmsync.state import StateDB
from crmsync.step import RunContext, StepResult, StepRunner

# Characters kept as they are when a pipeline name becomes part of the lock file's name.
UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]")
NAME_DIGEST_CHARS = 8


# How far before an unfinished run's start Rally is searched for what it created: covers the
# difference between this machine's clock and Rally's.
RESUME_MARGIN = timedelta(minutes=10)


class RunObserver:
    """What a run tells its caller as it goes; the CLI renders it, a library user may not.

    Every hook is a no-op here, so an observer overrides only what it shows.
    """

    def recovered(self, stale_pid: int | None, crashed_runs: int) -> None:
        """A dead run's lock was taken over (stale_pid, if known) and/or ``crashed_runs``
        runs it left 'running' were marked crashed. Said before run_started, at most once."""

    def run_started(self, pipeline: str, run_id: int, steps: list[str]) -> None:
        """The run holds the lock and has its id; ``steps`` are the step names in order."""

    def step_started(self, name: str, index: int, total: int) -> None:
        """A step begins (only said for pipelines of several steps)."""

    def stage(self, name: str, detail: str) -> None:
        """A stage finished."""

    def load_started(self, records: int, batches: int) -> None:
        """Loading begins."""

    def load_progress(self, records_done: int, batches_done: int) -> None:
        """Some records got their outcome."""

    def load_finished(self) -> None:
        """Loading ended (also when interrupted)."""

    def step_finished(self, summary: RunSummary) -> None:
        """A step ended with this summary (also when interrupted)."""

    def run_finished(self, run_id: int, status: str, exit_code: int) -> None:
        """The run is recorded as ended (status as in the state DB); the lock is still held."""


@dataclass(frozen=True)
class RunOptions:
    dry_run: bool = False
    full: bool = False  # ignore watermarks and stored hashes: read and send everything
    limit: int | None = None
    report_dir: Path | None = None


@dataclass
class RunResult:
    run_id: int
    steps: list[StepResult]

    @property
    def summary(self) -> RunSummary:
        """The first step's summary: the whole story of a single-step pipeline."""
        return self.steps[0].summary

    @property
    def files(self) -> dict[str, Path]:
        return self.steps[0].files

    @property
    def interrupted(self) -> bool:
        return any(step.summary.interrupted for step in self.steps)

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_ROWS_FAILED if any(s.summary.failed for s in self.steps) else EXIT_OK


def lock_path(pipeline: Pipeline) -> Path:
    """The pipeline's lock file, beside its state database.

    One lock per (state database, pipeline name): exactly what the state database calls one
    pipeline, so pipeline files sharing a folder (and so a state database) don't block each other.
    """
    state_path = pipeline.resolve(pipeline.state.path)
    name = UNSAFE_FILE_CHARS.sub("_", pipeline.name)
    if name != pipeline.name:  # two names that differ only in unsafe characters stay apart
        name += "-" + hashlib.sha256(pipeline.name.encode()).hexdigest()[:NAME_DIGEST_CHARS]
    return state_path.with_name(f"{state_path.name}.{name}.lock")


def _status(result: RunResult) -> str:
    if result.interrupted:
        return "interrupted"
    return "failed" if result.exit_code else "succeeded"


def run_pipeline(
    pipeline: Pipeline, options: RunOptions | None = None, observer: RunObserver | None = None
) -> RunResult:
    """Run every step under the pipeline's lock; raises LockedError (exit 4) at once if
    another run of the same pipeline holds it, CrmsyncError when a step cannot start (after
    recording it)."""
    options = options or RunOptions()
    observer = observer or RunObserver()
    report_root = options.report_dir or pipeline.resolve(pipeline.report.dir)
    lock = PipelineLock(lock_path(pipeline), pipeline=pipeline.name)
    with lock, StateDB.open(pipeline.resolve(pipeline.state.path)) as state:
        crashed = state.mark_crashed(pipeline.name)
        if lock.took_over_from is not None or crashed:
            observer.recovered(lock.took_over_from, crashed)
        unfinished = state.last_unfinished_run(pipeline.name)
        previous = state.run(unfinished) if unfinished is not None else None
        run_id = state.start_run(pipeline.name, dry_run=options.dry_run)
        observer.run_started(pipeline.name, run_id, [step.name for step in pipeline.steps])
        ctx = RunContext(pipeline, options, observer, state, run_id)
        if previous is not None:
            ctx.resume_since = datetime.fromisoformat(previous.started_at) - RESUME_MARGIN
        result = RunResult(run_id=run_id, steps=[])
        try:
            for index, step in enumerate(pipeline.steps):
                if not pipeline.single_step:
                    observer.step_started(step.name, index, len(pipeline.steps))
                report_dir = report_root if pipeline.single_step else report_root / step.name
                step_result = StepRunner(ctx, step, report_dir).run()
                result.steps.append(step_result)
                state.record_step(run_id, step.name, asdict(step_result.summary))
                observer.step_finished(step_result.summary)
                if step_result.summary.interrupted:
                    break
        except CrmsyncError as exc:
            summary = {"error": str(exc), "steps": [asdict(s.summary) for s in result.steps]}
            state.finish_run(run_id, status="failed", summary=summary, report_dir=str(report_root))
            observer.run_finished(run_id, "failed", exc.exit_code)
            raise
        except BaseException:
            summary = {"steps": [asdict(s.summary) for s in result.steps]}
            state.finish_run(run_id, status="crashed", summary=summary, report_dir=str(report_root))
            raise
        totals = {"steps": [asdict(s.summary) for s in result.steps]}
        status = _status(result)
        state.finish_run(run_id, status=status, summary=totals, report_dir=str(report_root))
        observer.run_finished(run_id, status, result.exit_code)
    return result
