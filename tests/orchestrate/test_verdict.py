"""How a run ended, as an orchestrator's succeed, warn, retry, fail or interrupted: the same
for every integration, and decided without one installed."""

from __future__ import annotations

import pytest

from crmsync.alerts.expect import Broken
from crmsync.errors import (
    AuthError,
    ConfigError,
    CrmsyncError,
    LockedError,
    RetryableError,
    SourceError,
    StateError,
    StoppedError,
    UnreachableError,
)
from crmsync.orchestrate import Action, RowsFailed, verdict_of_error, verdict_of_result
from crmsync.report import RunSummary
from crmsync.run import RunResult, StepResult


def step(read: int = 10, failed: int = 0, **flags: object) -> StepResult:
    summary = RunSummary(
        name="contacts",
        object="contacts",
        source="x.csv",
        dry_run=False,
        started_at="",
        rows_read=read,
        created=read - failed,
        failed=failed,
    )
    for name, value in flags.items():
        setattr(summary, name, value)
    return StepResult(summary=summary, files={})


BROKEN = Broken("min_rows_read", "1000", "10", "min_rows_read 1000: 10 rows read")


@pytest.mark.parametrize(
    ("result", "rows_failed", "action", "exit_code", "message"),
    [
        (RunResult(1, [step()]), "warn", Action.SUCCEED, 0, ""),
        (RunResult(1, [step(failed=2)]), "warn", Action.WARN, 1, "2 of 10 rows failed"),
        (RunResult(1, [step(failed=2)]), "fail", Action.FAIL, 1, "2 of 10 rows failed"),
        (RunResult(1, [step(interrupted=True)]), "warn", Action.INTERRUPTED, 3, "interrupted"),
        (
            RunResult(1, [step(stopped="the key was refused")]),
            "warn",
            Action.FAIL,
            5,
            "stopped after sending records: the key was refused",
        ),
        (
            RunResult(1, [step(failed=2)], broken=[BROKEN]),
            "warn",
            Action.FAIL,
            6,
            "expectation broken: min_rows_read 1000: 10 rows read",
        ),
    ],
    ids=["ok", "rows-failed-warn", "rows-failed-fail", "interrupted", "stopped", "expect"],
)
def test_a_finished_run(
    result: RunResult, rows_failed: RowsFailed, action: Action, exit_code: int, message: str
) -> None:
    verdict = verdict_of_result(result, rows_failed=rows_failed)
    assert (verdict.action, verdict.exit_code) == (action, exit_code)
    assert verdict.message.startswith(message)


@pytest.mark.parametrize(
    ("error", "action", "exit_code"),
    [
        (LockedError("pipeline 'x' is already running"), Action.RETRY, 4),
        (UnreachableError("cannot reach Rally"), Action.RETRY, 2),
        (RetryableError("429"), Action.RETRY, 2),
        (ConfigError("unknown key"), Action.FAIL, 2),
        (StateError("the state database is damaged"), Action.FAIL, 2),
        (SourceError("no such file", source="x.csv"), Action.FAIL, 2),
        (AuthError("key refused", status=401), Action.FAIL, 2),
        (StoppedError("a later step could not start"), Action.FAIL, 5),
    ],
    ids=["locked", "unreachable", "transient", "config", "state", "source", "auth", "stopped"],
)
def test_a_run_that_raised(error: CrmsyncError, action: Action, exit_code: int) -> None:
    verdict = verdict_of_error(error)
    assert (verdict.action, verdict.exit_code, verdict.message) == (action, exit_code, str(error))
