"""What an orchestrator should do with how a crmsync run ended: one function per way of
ending (a RunResult, or an exception run_pipeline raised), so every integration maps exit
codes the same way and the mapping is tested without any orchestrator installed.

    how the run ended                               exit  verdict
    every row created, updated or unchanged            0  SUCCEED
    some rows failed (the report lists them)           1  WARN, or FAIL with rows_failed="fail"
    another run of the pipeline holds its lock         4  RETRY (later: never bypass the lock)
    the destination did not answer (UnreachableError)  2  RETRY (nothing was sent)
    a transient error before anything was sent         2  RETRY
    bad pipeline file, source, key or state database   2  FAIL (retrying fails the same way)
    interrupted (SIGINT, SIGTERM)                      3  INTERRUPTED (whoever stopped it decides)
    stopped after sending records                      5  FAIL (a person should look first)
    finished, but broke the pipeline's expect:         6  FAIL (a person should look first)

A bug (exit 70: any other exception) gets no verdict: it propagates with its traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from crmsync.errors import (
    EXIT_EXPECTATIONS,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_ROWS_FAILED,
    EXIT_STOPPED,
    CrmsyncError,
    LockedError,
    TransientError,
    UnreachableError,
)
from crmsync.run import RunResult

RowsFailed = Literal["warn", "fail"]


class Action(StrEnum):
    SUCCEED = "succeed"
    WARN = "warn"  # succeed, saying what needs a look
    RETRY = "retry"  # later, with a backoff: the same run may well work then
    FAIL = "fail"  # do not retry: it would fail the same way, or a person must look first
    INTERRUPTED = "interrupted"  # stopped from outside: run again when whoever stopped it says


@dataclass(frozen=True)
class Verdict:
    action: Action
    exit_code: int
    message: str  # what to show beside the verdict; "" for a run that went well


def verdict_of_result(result: RunResult, *, rows_failed: RowsFailed = "warn") -> Verdict:
    """A run that returned: it ran every step it could, and recorded how it ended."""
    code = result.exit_code
    if code == EXIT_OK:
        return Verdict(Action.SUCCEED, code, "")
    if code == EXIT_STOPPED:
        return Verdict(Action.FAIL, code, f"stopped after sending records: {result.stopped}")
    if code == EXIT_INTERRUPTED:
        return Verdict(Action.INTERRUPTED, code, "interrupted: run again to settle the rest")
    if code == EXIT_EXPECTATIONS:
        broken = "; ".join(b.message for b in result.broken)
        return Verdict(Action.FAIL, code, f"expectation broken: {broken}")
    if code == EXIT_ROWS_FAILED:
        failed = sum(step.summary.failed for step in result.steps)
        read = sum(step.summary.rows_read for step in result.steps)
        message = f"{failed} of {read} rows failed: they are in the report's errors.csv"
        return Verdict(Action.WARN if rows_failed == "warn" else Action.FAIL, code, message)
    raise ValueError(f"a run result with exit code {code}")  # RunResult has no other


def verdict_of_error(exc: CrmsyncError) -> Verdict:
    """A run that raised: it did nothing (exit 2, 4) or stopped after sending (exit 5)."""
    if isinstance(exc, LockedError | UnreachableError | TransientError):
        return Verdict(Action.RETRY, exc.exit_code, str(exc))
    return Verdict(Action.FAIL, exc.exit_code, str(exc))
