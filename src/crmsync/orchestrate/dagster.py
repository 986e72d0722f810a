"""A pipeline file as Dagster assets: `pip install 'crmsync[dagster]'`.

    from crmsync.orchestrate.dagster import definitions

    defs = definitions("pipelines/migration.yaml")   # dagster dev -f definitions.py

Why Dagster: a materialization runs in the caller's own process (`dagster.materialize`), with
no daemon, webserver or database, so these assets are run and tested like any library code;
Airflow needs its metadata database and a scheduler before one task can run.

One pipeline file is one `multi_asset` with an AssetSpec per step, each depending on the step
before it (companies, then contacts, then activities). The steps are not separate ops because
a crmsync run is one unit: it takes the pipeline's lock once, checks that every step can start
before the first one writes, shares the id map between steps and is resumed as a whole; a
contacts op run apart from its companies could link none of them. So the asset calls
`run_pipeline` once (what `crmsync run` calls: the lock is taken there, never bypassed) and
yields one MaterializeResult per step with that step's summary as metadata. It cannot be
subset: materializing one of its assets runs the whole pipeline.

How a run ends becomes Dagster's (crmsync.orchestrate.verdict decides):

    exit  crmsync                            Dagster
    0     every row through                  materialized
    1     some rows failed                   materialized, `warning` in the metadata
                                             (rows_failed="fail": then Failure, no retry)
    2     destination unreachable            RetryRequested, the wait doubling each time
    2     bad file, source, key, state DB    Failure(allow_retries=False)
    3     interrupted (SIGINT, SIGTERM)      DagsterExecutionInterruptedError
    4     another run holds the lock         RetryRequested, the wait doubling each time
    5     stopped after sending records      Failure(allow_retries=False)
    6     the pipeline's expect: broken      materialized, then Failure(allow_retries=False)
    70    a bug                              the exception, with its traceback

The steps a run returned are materialized before its Failure or interruption: their records
did reach Rally. A run that raised instead (exit 2 and 4, and 5 when a later step could not
start) returned none. A dry run (`dry_run: true` in the run config) writes nothing, so it
logs AssetObservations instead of materializations.
"""

# No `from __future__ import annotations`: Dagster reads the compute function's annotations
# (the Config class) at runtime.

import os
import signal
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import httpx
from pydantic import Field

try:
    import dagster as dg
except ImportError as exc:
    raise ImportError(
        "crmsync.orchestrate.dagster needs Dagster: pip install 'crmsync[dagster]'"
    ) from exc

from crmsync.config import Pipeline, load_pipeline
from crmsync.errors import ConfigError, CrmsyncError
from crmsync.orchestrate.outline import PipelineOutline, read_outline
from crmsync.orchestrate.verdict import (
    Action,
    RowsFailed,
    Verdict,
    verdict_of_error,
    verdict_of_result,
)
from crmsync.report import RunSummary
from crmsync.run import RunObserver, RunOptions, RunResult, run_pipeline
from crmsync.run.pipeline import report_root_of

# A locked pipeline or an unreachable Rally is asked again after 60 s, 120 s, 240 s: long
# enough for a nightly run holding the lock to finish, or for a deploy of Rally to end.
DEFAULT_RETRIES = 3
DEFAULT_RETRY_DELAY_S = 60.0
MAX_RETRY_DELAY_S = 3600.0
OP_PREFIX = "crmsync_"
KIND = "crmsync"
COUNTS = ("rows_read", "created", "updated", "unchanged", "skipped", "merged", "failed")
LOAD_FIGURES = ("conflicts", "warnings", "requests", "retries", "rate_limited")
DRY_RUN_COUNTS = ("planned", "would_update")


class CrmsyncRunConfig(dg.Config):
    """What `crmsync run` takes on its command line, given per materialization."""

    dry_run: bool = Field(
        default=False,
        description="Everything but the writes; the steps are observed, not materialized.",
    )
    full: bool = Field(
        default=False,
        description="Ignore what earlier runs stored: read API sources from the start and "
        "compare every record with Rally again.",
    )
    limit: int | None = Field(default=None, ge=0, description="Only the first N rows per source.")
    report_dir: str | None = Field(
        default=None, description="Where the report goes (default: the pipeline's report.dir)."
    )


@dataclass(frozen=True)
class _Settings:
    outline: PipelineOutline
    keys: Mapping[str, dg.AssetKey]  # per step name
    rows_failed: RowsFailed
    retries: int
    retry_delay_s: float
    transport: httpx.AsyncBaseTransport | None


def pipeline_assets(
    pipeline_file: str | os.PathLike[str],
    *,
    key_prefix: str | Sequence[str] | None = None,
    group_name: str | None = None,
    deps: Sequence[dg.AssetKey | str | dg.AssetsDefinition | dg.AssetSpec] = (),
    rows_failed: RowsFailed = "warn",
    retries: int = DEFAULT_RETRIES,
    retry_delay_s: float = DEFAULT_RETRY_DELAY_S,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[dg.AssetsDefinition]:
    """The pipeline file's steps as assets (one multi_asset), each depending on the one before.

    Keys are `[*key_prefix, step name]`; `key_prefix` defaults to the pipeline's name for a
    pipeline of several steps, and to none for a single step (named after its pipeline).
    `group_name` defaults to the pipeline's name, other characters than [A-Za-z0-9_] as `_`.
    `deps` are what the first step reads (an asset that writes its CSV). `rows_failed`:
    "warn" materializes a run whose rows partly failed, saying so in the metadata; "fail"
    fails it. A locked pipeline or an unreachable
    Rally is retried `retries` times, after `retry_delay_s`, then twice as long each time.
    `transport` replaces the network to Rally (tests pass an in-process sandbox's).

    Only the file's names are read now (no environment needed: a code server holds no keys);
    every materialization reads and validates the whole file, as `crmsync run` does.
    """
    outline = read_outline(pipeline_file)
    safe = _safe_name(outline.name)
    if key_prefix is None:
        prefix = [] if outline.single_step else [outline.name]
    else:
        prefix = [key_prefix] if isinstance(key_prefix, str) else list(key_prefix)
    keys = {step.name: dg.AssetKey([*prefix, step.name]) for step in outline.steps}
    specs: list[dg.AssetSpec] = []
    for index, step in enumerate(outline.steps):
        before = list(deps) if index == 0 else [specs[-1].key]
        specs.append(
            dg.AssetSpec(
                keys[step.name],
                deps=before,
                description=f"{step.object or 'records'} loaded into Rally by step "
                f"{step.name!r} of {outline.path}",
                group_name=group_name or safe,
                skippable=True,  # a dry run observes; a run stopped early skips the rest
                kinds={KIND},
                metadata={"pipeline_file": dg.MetadataValue.path(str(outline.path))},
            )
        )
    settings = _Settings(outline, keys, rows_failed, retries, retry_delay_s, transport)

    @dg.multi_asset(
        specs=specs,
        name=f"{OP_PREFIX}{safe}",
        can_subset=False,
        description=f"crmsync run {outline.path}",
    )
    def crmsync_pipeline(
        context: dg.AssetExecutionContext, config: CrmsyncRunConfig
    ) -> Iterator[dg.MaterializeResult[None]]:
        yield from _materialize(context, config, settings)

    return [crmsync_pipeline]


def definitions(
    *pipeline_files: str | os.PathLike[str],
    rows_failed: RowsFailed = "warn",
    retries: int = DEFAULT_RETRIES,
    retry_delay_s: float = DEFAULT_RETRY_DELAY_S,
) -> dg.Definitions:
    """Definitions holding the assets of each pipeline file (see pipeline_assets)."""
    assets = [
        asset
        for path in pipeline_files
        for asset in pipeline_assets(
            path, rows_failed=rows_failed, retries=retries, retry_delay_s=retry_delay_s
        )
    ]
    return dg.Definitions(assets=assets)


def _materialize(
    context: dg.AssetExecutionContext, config: CrmsyncRunConfig, settings: _Settings
) -> Iterator[dg.MaterializeResult[None]]:
    options = RunOptions(
        dry_run=config.dry_run,
        full=config.full,
        limit=config.limit,
        report_dir=Path(config.report_dir) if config.report_dir else None,
    )
    try:
        pipeline = load_pipeline(settings.outline.path, destination_optional=config.dry_run)
        _check_outline(pipeline, settings.outline)
        with _signals_as_ctrl_c():
            result = run_pipeline(
                pipeline, options, _DagsterLog(context.log), transport=settings.transport
            )
    except KeyboardInterrupt:
        raise dg.DagsterExecutionInterruptedError() from None
    except CrmsyncError as exc:
        _act_on(verdict_of_error(exc), context, settings, {}, cause=exc)
    verdict = verdict_of_result(result, rows_failed=settings.rows_failed)
    run = _run_metadata(result, str(report_root_of(pipeline, options)))
    for step in result.steps:
        metadata = run | _step_metadata(step.summary, verdict)
        key = settings.keys[step.summary.name]
        if config.dry_run:
            context.log_event(dg.AssetObservation(asset_key=key, metadata=metadata))
        else:
            yield dg.MaterializeResult(asset_key=key, metadata=metadata)
    if verdict.action is Action.WARN:
        context.log.warning(verdict.message)
    elif verdict.action is not Action.SUCCEED:
        _act_on(verdict, context, settings, run | _totals(result))


def _act_on(
    verdict: Verdict,
    context: dg.AssetExecutionContext,
    settings: _Settings,
    metadata: dict[str, Any],
    *,
    cause: BaseException | None = None,
) -> NoReturn:
    """Raise what tells Dagster to retry later, to fail for good, or that it was stopped."""
    if verdict.action is Action.RETRY:
        attempt = context.retry_number
        delay = min(settings.retry_delay_s * 2**attempt, MAX_RETRY_DELAY_S)
        if attempt < settings.retries:
            context.log.warning(
                f"{verdict.message} (exit {verdict.exit_code}): retry {attempt + 1} of "
                f"{settings.retries} in {delay:g} s"
            )
        raise dg.RetryRequested(max_retries=settings.retries, seconds_to_wait=delay) from cause
    if verdict.action is Action.INTERRUPTED:
        context.log.warning(verdict.message)
        raise dg.DagsterExecutionInterruptedError()
    metadata = {**metadata, "exit_code": verdict.exit_code}
    raise dg.Failure(verdict.message, metadata=metadata, allow_retries=False) from cause


def _check_outline(pipeline: Pipeline, outline: PipelineOutline) -> None:
    """The file still has the steps the assets were defined with (it may have been edited
    since the definitions were loaded)."""
    steps = [step.name for step in pipeline.steps]
    if (pipeline.name, steps) != (outline.name, outline.step_names):
        raise ConfigError(
            f"the pipeline is now {pipeline.name!r} with steps {steps}, its assets were defined "
            f"for {outline.name!r} with steps {outline.step_names}: reload the definitions",
            file=str(outline.path),
        )


def _run_metadata(result: RunResult, report_dir: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "crmsync_run_id": result.run_id,
        "status": result.status,
        "exit_code": result.exit_code,
        "report_dir": dg.MetadataValue.path(report_dir),
    }
    if result.page is not None:
        metadata["report_page"] = dg.MetadataValue.path(str(result.page))
    if result.broken:
        metadata["broken"] = dg.MetadataValue.text("; ".join(b.message for b in result.broken))
    return metadata


def _step_metadata(summary: RunSummary, verdict: Verdict) -> dict[str, Any]:
    """One step's summary.json figures, under the same names."""
    metadata: dict[str, Any] = {name: getattr(summary, name) for name in COUNTS}
    if summary.dry_run:
        metadata |= {name: getattr(summary, name) for name in DRY_RUN_COUNTS}
    metadata |= {name: getattr(summary, name) for name in LOAD_FIGURES}
    metadata["duration_s"] = dg.MetadataValue.float(summary.duration_s)
    metadata["dry_run"] = summary.dry_run
    if summary.report_dir:
        metadata["step_report_dir"] = dg.MetadataValue.path(summary.report_dir)
    if summary.failed:
        by_stage = {stage: n for stage, n in summary.failed_by_stage.items() if n}
        metadata["failed_by_stage"] = dg.MetadataValue.json(by_stage)
        if verdict.action is Action.WARN:
            where = summary.report_dir or "the report folder"
            metadata["warning"] = dg.MetadataValue.text(
                f"{summary.failed} of {summary.rows_read} rows failed: see {where}/errors.csv"
            )
    if summary.notices:
        metadata["notices"] = dg.MetadataValue.text("\n".join(summary.notices))
    return metadata


def _totals(result: RunResult) -> dict[str, int]:
    return {name: sum(getattr(s.summary, name) for s in result.steps) for name in COUNTS}


def _safe_name(name: str) -> str:
    """A pipeline name as Dagster allows op and group names: [A-Za-z0-9_]+."""
    safe = "".join(c if c.isascii() and (c.isalnum() or c == "_") else "_" for c in name)
    return safe or "pipeline"


@contextmanager
def _signals_as_ctrl_c() -> Iterator[None]:
    """SIGINT and SIGTERM end the run as Ctrl-C ends `crmsync run` (settled rows kept, the
    report written, exit 3), not as Dagster's own interrupt, which crmsync would take for a
    crash. Signal handlers can only change on the main thread; elsewhere they stay Dagster's."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _ctrl_c)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _ctrl_c(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


class _DagsterLog(RunObserver):
    """What the run says as it goes, in the step's Dagster log."""

    def __init__(self, log: dg.DagsterLogManager) -> None:
        self._log = log

    def recovered(self, stale_pid: int | None, crashed_runs: int) -> None:
        self._log.warning(
            f"took over the lock of a dead run (pid {stale_pid}); "
            f"{crashed_runs} unfinished runs marked crashed"
        )

    def run_started(self, pipeline: str, run_id: int, steps: list[str]) -> None:
        self._log.info(f"crmsync run {run_id} of {pipeline!r}: {', '.join(steps)}")

    def step_started(self, name: str, index: int, total: int) -> None:
        self._log.info(f"step {index + 1} of {total}: {name}")

    def stage(self, name: str, detail: str) -> None:
        self._log.info(f"{name}: {detail}")

    def warning(self, message: str) -> None:
        self._log.warning(message)

    def step_finished(self, summary: RunSummary) -> None:
        counts = ", ".join(f"{getattr(summary, name)} {name}" for name in COUNTS)
        self._log.info(f"step {summary.name}: {counts}")

    def run_finished(self, run_id: int, status: str, exit_code: int) -> None:
        self._log.info(f"crmsync run {run_id}: {status} (exit {exit_code})")
