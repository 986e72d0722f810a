"""``--log-format json``: one JSON object per line per event, for log collectors.

Every event has ``ts`` (UTC, ISO 8601), ``level``, ``event``, ``pipeline`` and ``step`` (None
before the first step or for whole-run events), then the event's own fields:

    recovered       stale_pid, crashed_runs          a dead run's lock taken over
    run_started     run_id, steps
    step_started    index, total                     (pipelines of several steps)
    stage           name, detail                     a stage ended
    warning         message                          the step does without something asked
    load_started    records, batches
    load_progress   records_done, batches_done       at most every few seconds
    load_finished   records_done, batches_done
    step_finished   summary                          the step's summary.json, as a dict
    expectation_broken  expectation, limit, actual, message   (expect:, before run_finished)
    alert_failed    message                          the notify: webhook was not reached
    run_finished    run_id, status, exit_code
    error           error, message, exit_code        the run could not start, or stopped
    tenant_started  tenant, index, total             one of several tenants (--all-tenants)
    tenant_finished tenant, status, exit_code, run_id
    tenants_finished  tenants (each tenant, status, exit_code, run_id), exit_code
    log             logger, message                  a warning from crmsync's own loggers, or
                                                     a retry that waits a second or more
                                                     (while :func:`capturing_logs` is on)

Nothing else is written to the stream, so every line parses. What goes in an event comes from
the summaries and messages crmsync already keeps free of API keys.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any, TextIO

from crmsync.alerts.expect import Broken
from crmsync.api.rally import RETRY_WAIT_FIELD
from crmsync.cli.log_routing import routed_to
from crmsync.errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_ROWS_FAILED,
    CrmsyncError,
)
from crmsync.report import RunSummary
from crmsync.run import RunObserver, TenantRun, worst_exit_code

LOG_FORMATS = ("text", "json")
PROGRESS_EVERY_S = 5.0
INFO, WARNING, ERROR = "info", "warning", "error"
LONG_RETRY_WAIT_S = 1.0  # retries waiting less are the client's routine (a 429's second)


def level_of(exit_code: int) -> str:
    """info for success, warning for rows failed or an interrupted run, error otherwise."""
    if exit_code == EXIT_OK:
        return INFO
    return WARNING if exit_code in (EXIT_ROWS_FAILED, EXIT_INTERRUPTED) else ERROR


class JsonLogObserver(RunObserver):
    """Writes each run event as one JSON line (flushed, so `tail -f` and collectors see it)."""

    def __init__(
        self,
        *,
        stream: TextIO | None = None,
        pipeline: str | None = None,
        progress_every_s: float = PROGRESS_EVERY_S,
    ) -> None:
        """``stream`` defaults to the current sys.stdout; progress at most every few seconds."""
        self.stream = stream
        self.pipeline = pipeline
        self.progress_every_s = progress_every_s
        self.step: str | None = None
        self._last_progress = 0.0
        self._done = (0, 0)
        self._write_lock = threading.Lock()  # log records may come from the loader's thread

    def emit(self, event: str, level: str = INFO, **fields: Any) -> None:
        """Write one event; fields that collide with the common ones are refused (a bug)."""
        record: dict[str, Any] = {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": level,
            "event": event,
            "pipeline": self.pipeline,
            "step": self.step,
        }
        clash = record.keys() & fields.keys()
        if clash:
            raise ValueError(f"event fields {sorted(clash)} clash with the common ones")
        record.update(fields)
        line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
        stream = self.stream or sys.stdout
        with self._write_lock:
            stream.write(line)
            stream.flush()

    # ----------------------------------------------------------------------------- run hooks

    def recovered(self, stale_pid: int | None, crashed_runs: int) -> None:
        self.emit("recovered", WARNING, stale_pid=stale_pid, crashed_runs=crashed_runs)

    def run_started(self, pipeline: str, run_id: int, steps: list[str]) -> None:
        self.pipeline = pipeline
        self.step = steps[0] if len(steps) == 1 else None
        self.emit("run_started", run_id=run_id, steps=steps)

    def step_started(self, name: str, index: int, total: int) -> None:
        self.step = name
        self.emit("step_started", index=index, total=total)

    def stage(self, name: str, detail: str) -> None:
        self.emit("stage", name=name, detail=detail)

    def warning(self, message: str) -> None:
        self.emit("warning", WARNING, message=message)

    def load_started(self, records: int, batches: int) -> None:
        self._last_progress = time.monotonic()
        self._done = (0, 0)
        self.emit("load_started", records=records, batches=batches)

    def load_progress(self, records_done: int, batches_done: int) -> None:
        self._done = (records_done, batches_done)
        if time.monotonic() - self._last_progress >= self.progress_every_s:
            self._last_progress = time.monotonic()
            self.emit("load_progress", records_done=records_done, batches_done=batches_done)

    def load_finished(self) -> None:
        records_done, batches_done = self._done
        self.emit("load_finished", records_done=records_done, batches_done=batches_done)

    def step_finished(self, summary: RunSummary) -> None:
        level = WARNING if summary.failed or summary.interrupted else INFO
        self.emit("step_finished", level, summary=asdict(summary))

    def expectation_broken(self, broken: Broken) -> None:
        self.step = None
        self.emit("expectation_broken", ERROR, **asdict(broken))

    def alert_failed(self, message: str) -> None:
        self.emit("alert_failed", WARNING, message=message)

    def run_finished(self, run_id: int, status: str, exit_code: int) -> None:
        self.step = None
        self.emit(
            "run_finished", level_of(exit_code), run_id=run_id, status=status, exit_code=exit_code
        )

    def tenant_started(self, tenant: str, pipeline: str, index: int, total: int) -> None:
        self.pipeline, self.step = pipeline, None
        self.emit("tenant_started", tenant=tenant, index=index, total=total)

    def tenant_finished(self, run: TenantRun) -> None:
        self.step = None
        if run.error is not None:
            name = type(run.error).__name__
            self.emit("error", ERROR, error=name, message=run.message, exit_code=run.exit_code)
        self.emit("tenant_finished", level_of(run.exit_code), **_tenant_fields(run))

    def tenants_finished(self, runs: list[TenantRun]) -> int:
        """After every tenant: how each ended, and the exit code of them all (returned)."""
        self.pipeline = self.step = None
        code = worst_exit_code(run.exit_code for run in runs)
        tenants = [_tenant_fields(run) for run in runs]
        self.emit("tenants_finished", level_of(code), tenants=tenants, exit_code=code)
        return code

    def error(self, exc: BaseException) -> None:
        """The run could not start or stopped on an error; the CLI exits with ``exit_code``."""
        code = exc.exit_code if isinstance(exc, CrmsyncError) else EXIT_INTERNAL
        self.emit("error", ERROR, error=type(exc).__name__, message=str(exc), exit_code=code)


def _tenant_fields(run: TenantRun) -> dict[str, Any]:
    run_id = run.result.run_id if run.result is not None else None
    return {
        "tenant": run.tenant,
        "status": run.status,
        "exit_code": run.exit_code,
        "run_id": run_id,
    }


class _EventHandler(logging.Handler):
    """Turns log records into ``log`` events, so collectors get one format only."""

    def __init__(self, observer: JsonLogObserver) -> None:
        super().__init__()
        self.observer = observer

    def emit(self, record: logging.LogRecord) -> None:
        waits = getattr(record, RETRY_WAIT_FIELD, 0.0) >= LONG_RETRY_WAIT_S
        if record.levelno < logging.WARNING and not waits:
            return  # the client's routine retries
        if record.levelno >= logging.ERROR:
            level = ERROR
        else:
            level = WARNING if record.levelno >= logging.WARNING else INFO
        try:
            message = record.getMessage()
        except Exception:  # a malformed log call must not break the run
            message = str(record.msg)
        self.observer.emit("log", level, logger=record.name, message=message)


@contextmanager
def capturing_logs(observer: JsonLogObserver) -> Iterator[None]:
    """Route crmsync's own log records (warnings and up, and retries that wait long) to the
    observer's stream instead of stderr, for as long as the block runs."""
    with routed_to(_EventHandler(observer)):
        yield
