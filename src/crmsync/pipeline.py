"""A pipeline run: its steps in order, sharing the destination, the state database (runs
and the id map) and the report folder. A step that cannot start stops the run before the
next one, so no activity is sent pointing at contacts that were never loaded.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from crmsync.config import Pipeline
from crmsync.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_ROWS_FAILED, CrmsyncError
from crmsync.report import RunSummary
from crmsync.state import StateDB
from crmsync.step import RunContext, StepResult, StepRunner


class RunObserver:
    """What a run tells its caller as it goes; the CLI renders it, a library user may not."""

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


@dataclass(frozen=True)
class RunOptions:
    dry_run: bool = False
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


def _status(result: RunResult) -> str:
    if result.interrupted:
        return "interrupted"
    return "failed" if result.exit_code else "succeeded"


def run_pipeline(
    pipeline: Pipeline, options: RunOptions | None = None, observer: RunObserver | None = None
) -> RunResult:
    """Run every step; raises CrmsyncError when a step cannot start (after recording it)."""
    options = options or RunOptions()
    observer = observer or RunObserver()
    report_root = options.report_dir or pipeline.resolve(pipeline.report.dir)
    with StateDB.open(pipeline.resolve(pipeline.state.path)) as state:
        run_id = state.start_run(pipeline.name, dry_run=options.dry_run)
        ctx = RunContext(pipeline, options, observer, state, run_id)
        result = RunResult(run_id=run_id, steps=[])
        try:
            for index, step in enumerate(pipeline.steps):
                if not pipeline.single_step:
                    observer.step_started(step.name, index, len(pipeline.steps))
                report_dir = report_root if pipeline.single_step else report_root / step.name
                step_result = StepRunner(ctx, step, report_dir).run()
                result.steps.append(step_result)
                state.record_step(run_id, step.name, asdict(step_result.summary))
                if step_result.summary.interrupted:
                    break
        except CrmsyncError as exc:
            summary = {"error": str(exc), "steps": [asdict(s.summary) for s in result.steps]}
            state.finish_run(run_id, status="failed", summary=summary, report_dir=str(report_root))
            raise
        except BaseException:
            summary = {"steps": [asdict(s.summary) for s in result.steps]}
            state.finish_run(run_id, status="crashed", summary=summary, report_dir=str(report_root))
            raise
        totals = {"steps": [asdict(s.summary) for s in result.steps]}
        state.finish_run(
            run_id, status=_status(result), summary=totals, report_dir=str(report_root)
        )
    return result
