"""One pipeline file run for several of its tenants, one after another.

Each tenant's run is a whole run of its own (`Pipeline.for_tenant`): its own lock, run history,
resume, report folder and alert (a tenant whose variables are not set alerts as a run that
could not start). So a tenant that cannot start (its key not set or refused),
stops, breaks its expectations or is held by another process does not keep the next ones from
running. An interrupt (Ctrl-C, SIGTERM) ends the current tenant's run as a single run ends,
and starts no other: those are `not run`.

The exit code of them all is the worst, by what a person must do about it, not the highest
number: a bug (70), records sent then stopped (5), could not start (2), expectations broken
(6), rows failed (1), interrupted (3), held by another run (4), then 0.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import httpx

from crmsync.alerts import RunAlert
from crmsync.api.http import redact
from crmsync.config import Pipeline
from crmsync.config.tenants import tenant_pipeline_name
from crmsync.errors import (
    EXIT_CANNOT_START,
    EXIT_EXPECTATIONS,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_ROWS_FAILED,
    EXIT_STOPPED,
    ConfigError,
    CrmsyncError,
    LockedError,
    StoppedError,
)
from crmsync.run.alerting import pipeline_secrets, send_alert
from crmsync.run.observer import RunObserver, RunOptions
from crmsync.run.pipeline import RunResult, run_pipeline
from crmsync.state.runs import FAILED

# Most urgent first: what a scheduler or a person must do about the whole.
SEVERITY = (
    EXIT_INTERNAL,
    EXIT_STOPPED,
    EXIT_CANNOT_START,
    EXIT_EXPECTATIONS,
    EXIT_ROWS_FAILED,
    EXIT_INTERRUPTED,
    EXIT_LOCKED,
    EXIT_OK,
)
NOT_RUN = "not run"
LOCKED = "locked"
STOPPED = "stopped"
CRASHED = "crashed"
INTERRUPTED = "interrupted"


@dataclass
class TenantRun:
    """How one tenant's run ended: its result, or the error it ended on (`message` is that
    error's text, free of any key the file holds), or not started at all."""

    tenant: str
    pipeline: str  # <name>@<tenant>: what `crmsync runs --tenant` lists
    result: RunResult | None = None
    error: BaseException | None = None
    message: str | None = None
    started: bool = True

    @property
    def exit_code(self) -> int:
        if self.result is not None:
            return self.result.exit_code
        if isinstance(self.error, CrmsyncError):
            return self.error.exit_code
        if isinstance(self.error, KeyboardInterrupt) or not self.started:
            return EXIT_INTERRUPTED
        return EXIT_INTERNAL

    @property
    def status(self) -> str:
        """The run's status as the state database keeps it, or why there is none."""
        if self.result is not None:
            return self.result.status
        if not self.started:
            return NOT_RUN
        if isinstance(self.error, LockedError):
            return LOCKED
        if isinstance(self.error, StoppedError):
            return STOPPED
        if isinstance(self.error, CrmsyncError):
            return FAILED
        return INTERRUPTED if isinstance(self.error, KeyboardInterrupt) else CRASHED


def worst_exit_code(codes: Iterable[int]) -> int:
    """The exit code of several tenants' runs: the most urgent of theirs (SEVERITY)."""
    found = set(codes)
    return next((code for code in SEVERITY if code in found), max(found, default=EXIT_OK))


def tenant_options(options: RunOptions, tenant: str) -> RunOptions:
    """A --report-dir given for tenants holds a folder per tenant, as report.dir does."""
    if options.report_dir is None:
        return options
    return dataclasses.replace(options, report_dir=options.report_dir / tenant)


def resolve_tenant(
    pipeline: Pipeline,
    tenant: str,
    options: RunOptions,
    observer: RunObserver,
    notify_transport: httpx.BaseTransport | None = None,
) -> Pipeline:
    """`pipeline.for_tenant(tenant)`; a tenant that cannot run (its variables not set) is a
    run that could not start: the pipeline's alert says so before its ConfigError is raised."""
    try:
        return pipeline.for_tenant(tenant)
    except ConfigError as exc:
        if tenant in pipeline.tenants:  # a name that is no tenant is a mistyped command
            message = redact(str(exc), *pipeline_secrets(pipeline))
            name = tenant_pipeline_name(pipeline.name, tenant)
            alert = RunAlert(
                name, None, FAILED, exc.exit_code, error=message, dry_run=options.dry_run
            )
            send_alert(pipeline, alert, observer, transport=notify_transport)
        raise


def run_tenants(
    pipeline: Pipeline,
    tenants: Sequence[str],
    options: RunOptions | None = None,
    observer: RunObserver | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    notify_transport: httpx.BaseTransport | None = None,
) -> list[TenantRun]:
    """Run `pipeline` for each of `tenants` in turn (see the module's docstring); never raises
    for one tenant's failure, and returns how each ended, in order. `observer` hears every
    tenant's run, between its tenant_started and tenant_finished."""
    options = options or RunOptions()
    observer = observer or RunObserver()
    runs: list[TenantRun] = []
    interrupted = False
    for index, name in enumerate(tenants):
        run = TenantRun(name, tenant_pipeline_name(pipeline.name, name), started=not interrupted)
        runs.append(run)
        if not interrupted:
            observer.tenant_started(name, run.pipeline, index, len(tenants))
            _run_one(pipeline, run, options, observer, transport, notify_transport)
            observer.tenant_finished(run)
            interrupted = run.exit_code == EXIT_INTERRUPTED
    return runs


def _run_one(
    pipeline: Pipeline,
    run: TenantRun,
    options: RunOptions,
    observer: RunObserver,
    transport: httpx.AsyncBaseTransport | None,
    notify_transport: httpx.BaseTransport | None,
) -> None:
    """One tenant's run; how it ended goes into `run`."""
    secrets = pipeline_secrets(pipeline)  # its tenants' keys among them
    try:
        tenant = resolve_tenant(pipeline, run.tenant, options, observer, notify_transport)
    except ConfigError as exc:
        run.error, run.message = exc, redact(str(exc), *secrets)
        return
    try:
        run.result = run_pipeline(
            tenant,
            tenant_options(options, run.tenant),
            observer,
            transport=transport,
            notify_transport=notify_transport,
        )
    except (Exception, KeyboardInterrupt) as exc:
        run.error, run.message = exc, redact(str(exc) or type(exc).__name__, *secrets)
