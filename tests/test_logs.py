"""`crmsync run --log-format json`: one JSON object per line per event on stdout, nothing else
there, never the API key; and the observer that writes them."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest

from crmsync.cli.json_log import JsonLogObserver, capturing_logs
from crmsync.errors import EXIT_INTERNAL, LockedError, TransientError
from crmsync.sandbox.testing import SandboxHandle, running_sandbox
from crmsync.state.lock import PipelineLock

KEY = "logs-test-secret-5519"
COMMON = ("ts", "level", "event", "pipeline", "step")
STEP_YAML = """\
  - name: {name}
    object: contacts
    source: {{kind: csv, path: {csv}}}
    mapping: {{firstName: First Name, lastName: Last Name, email: Email}}
    load: {{mode: upsert, batch_size: 5}}
"""
DESTINATION_YAML = """\
destination: {base_url: "${RALLY_BASE_URL}", api_key: "${RALLY_API_KEY}"}
report: {dir: reports}
"""
LOAD_YAML = "load: {mode: %s, batch_size: 5}\n"


def write_csv(path: Path, prefix: str, rows: int, bad_rows: int = 0) -> None:
    lines = ["First Name,Last Name,Email"]
    lines += [f"Lee,{prefix}{n},{prefix}{n}@example.com" for n in range(rows)]
    lines += [f"Bad,{prefix}{n},not-an-email" for n in range(bad_rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def single_step(folder: Path, *, rows: int = 12, bad_rows: int = 1, mode: str = "upsert") -> Path:
    write_csv(folder / "contacts.csv", folder.name, rows, bad_rows)
    pipeline = folder / "pipeline.yaml"
    pipeline.write_text(
        "name: logs-contacts\nobject: contacts\nsource: {kind: csv, path: contacts.csv}\n"
        "mapping: {firstName: First Name, lastName: Last Name, email: Email}\n"
        + DESTINATION_YAML
        + LOAD_YAML % mode
    )
    return pipeline


def two_steps(folder: Path) -> Path:
    write_csv(folder / "a.csv", "stepa", 6)
    write_csv(folder / "b.csv", "stepb", 4, bad_rows=1)
    steps = STEP_YAML.format(name="first", csv="a.csv") + STEP_YAML.format(
        name="second", csv="b.csv"
    )
    pipeline = folder / "pipeline.yaml"
    pipeline.write_text("name: logs-two\nsteps:\n" + steps + DESTINATION_YAML)
    return pipeline


def crmsync(pipeline: Path, *args: str, base_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RALLY_BASE_URL": base_url, "RALLY_API_KEY": KEY}
    return subprocess.run(
        [sys.executable, "-m", "crmsync", "run", str(pipeline), "--log-format", "json", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def events_of(stdout: str) -> list[dict[str, Any]]:
    """Every stdout line parsed; fails on any line that is not one JSON object with the
    common fields."""
    events = [json.loads(line) for line in stdout.splitlines()]
    assert events, "no events"
    for event in events:
        assert isinstance(event, dict)
        assert set(COMMON) <= event.keys(), event
        assert event["level"] in ("info", "warning", "error")
    return events


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxHandle]:
    with running_sandbox(api_keys=(KEY,)) as handle:
        yield handle


@pytest.mark.slow
def test_a_run_is_events_only_with_the_summary_as_an_event(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    done = crmsync(single_step(tmp_path), base_url=sandbox.base_url)
    assert done.returncode == 1, done.stderr  # one invalid row by design
    assert KEY not in done.stdout and KEY not in done.stderr
    assert "rows read" not in done.stdout and "-----" not in done.stdout  # no closing table
    events = events_of(done.stdout)
    names = [event["event"] for event in events]
    assert names[0] == "run_started" and names[-2:] == ["step_finished", "run_finished"]
    assert {"stage", "load_started", "load_finished"} <= set(names)
    assert names.index("load_started") < names.index("load_finished")
    assert {event["pipeline"] for event in events} == {"logs-contacts"}
    stages = {event["name"]: event["detail"] for event in events if event["event"] == "stage"}
    assert stages["validate"] == "1 row failed"
    loaded = next(event for event in events if event["event"] == "load_finished")
    assert loaded["records_done"] == 12 and loaded["batches_done"] >= 1
    step = events[-2]
    assert step["step"] == "logs-contacts" and step["level"] == "warning"
    summary = json.loads((tmp_path / "reports" / "summary.json").read_text())
    assert step["summary"] == summary
    finished = events[-1]
    assert finished["run_id"] == events[0]["run_id"]
    assert (finished["status"], finished["exit_code"]) == ("partial", 1)


@pytest.mark.slow
def test_each_event_names_the_step_it_belongs_to(sandbox: SandboxHandle, tmp_path: Path) -> None:
    done = crmsync(two_steps(tmp_path), base_url=sandbox.base_url)
    assert done.returncode == 1, done.stderr
    events = events_of(done.stdout)
    started = [(e["step"], e["index"], e["total"]) for e in events if e["event"] == "step_started"]
    assert started == [("first", 0, 2), ("second", 1, 2)]
    finished = {e["step"]: e["summary"] for e in events if e["event"] == "step_finished"}
    assert finished["first"]["created"] + finished["first"]["updated"] == 6
    assert finished["second"]["failed"] == 1
    first = names_between(events, "first")
    assert "load_finished" in first and "stage" in first
    assert events[0]["step"] is None and events[-1]["step"] is None  # run-wide events


def names_between(events: list[dict[str, Any]], step: str) -> list[str]:
    return [event["event"] for event in events if event["step"] == step]


@pytest.mark.parametrize(
    ("setup", "exit_code", "message"),
    [
        ("missing-env", 2, "environment variable RALLY_API_KEY is not set"),
        ("locked", 4, "pipeline 'logs-contacts' is already running"),
    ],
    ids=["cannot-start", "locked"],
)
@pytest.mark.slow
def test_an_error_is_an_event_with_its_exit_code(
    tmp_path: Path, setup: str, exit_code: int, message: str
) -> None:
    pipeline = single_step(tmp_path)
    env = {**os.environ, "RALLY_BASE_URL": "http://127.0.0.1:9", "RALLY_API_KEY": KEY}
    if setup == "missing-env":
        env.pop("RALLY_API_KEY")
    lock = tmp_path / ".crmsync" / "state.db.logs-contacts.lock"
    with PipelineLock(lock, pipeline="logs-contacts") if setup == "locked" else nullcontext():
        done = subprocess.run(
            [sys.executable, "-m", "crmsync", "run", str(pipeline), "--log-format", "json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
    assert done.returncode == exit_code, done.stderr
    (event,) = events_of(done.stdout)
    assert event["event"] == "error" and event["level"] == "error"
    assert event["exit_code"] == exit_code
    assert message in event["message"]
    assert message in done.stderr  # the same error, one line for people
    assert KEY not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_warnings_of_the_loader_become_events_not_stderr(tmp_path: Path) -> None:
    with running_sandbox(api_keys=(KEY,), commit_then_fail_rate=0.5, seed=3) as faulty:
        done = crmsync(
            single_step(tmp_path, rows=30, bad_rows=0, mode="bulk"), base_url=faulty.base_url
        )
        stored = [r["email"] for r in faulty.records("contacts", KEY)]
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""
    logs = [event for event in events_of(done.stdout) if event["event"] == "log"]
    assert logs, "the faulty sandbox should have made the loader reconcile"
    assert all(event["logger"].startswith("crmsync.") for event in logs)
    assert any("reconciling" in event["message"] for event in logs)
    assert len(stored) == len(set(stored)) == 30


# ----------------------------------------------------------------------------- the observer


def lines_of(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.parametrize(
    ("every_s", "expected"),
    [(0.0, [(10, 1), (20, 2), (25, 3)]), (3600.0, [])],
    ids=["every-callback", "throttled"],
)
def test_load_progress_is_throttled_and_the_final_count_always_said(
    every_s: float, expected: list[tuple[int, int]]
) -> None:
    stream = io.StringIO()
    observer = JsonLogObserver(stream=stream, pipeline="p", progress_every_s=every_s)
    observer.load_started(25, 3)
    for done in [(10, 1), (20, 2), (25, 3)]:
        observer.load_progress(*done)
    observer.load_finished()
    events = lines_of(stream)
    progress = [(e["records_done"], e["batches_done"]) for e in events[1:-1]]
    assert progress == expected
    assert {e["event"] for e in events[1:-1]} <= {"load_progress"}
    assert (events[-1]["event"], events[-1]["records_done"], events[-1]["batches_done"]) == (
        "load_finished",
        25,
        3,
    )


@pytest.mark.parametrize(
    ("error", "exit_code"),
    [
        (LockedError("pipeline 'p' is already running"), 4),
        (TransientError("POST /api/v1/contacts/bulk: HTTP 503", status=503), 2),
        (ValueError("a bug"), EXIT_INTERNAL),
    ],
    ids=["locked", "crmsync-error", "bug"],
)
def test_errors_carry_their_exit_code(error: Exception, exit_code: int) -> None:
    stream = io.StringIO()
    JsonLogObserver(stream=stream, pipeline="p").error(error)
    (event,) = lines_of(stream)
    assert (event["event"], event["exit_code"], event["error"]) == (
        "error",
        exit_code,
        type(error).__name__,
    )


def test_recovery_is_a_warning_event() -> None:
    stream = io.StringIO()
    JsonLogObserver(stream=stream, pipeline="p").recovered(4242, 1)
    (event,) = lines_of(stream)
    assert (event["event"], event["level"], event["stale_pid"], event["crashed_runs"]) == (
        "recovered",
        "warning",
        4242,
        1,
    )


def test_captured_log_records_are_events_only_while_capturing() -> None:
    stream = io.StringIO()
    observer = JsonLogObserver(stream=stream, pipeline="p")
    loader = logging.getLogger("crmsync.load.loader")
    before = list(logging.getLogger("crmsync").handlers)
    with capturing_logs(observer):
        loader.warning("POST %s/bulk: %s; reconciling", "contacts", "HTTP 502")
        loader.info("not shown: below the default level")
    handlers = logging.getLogger("crmsync").handlers
    (event,) = lines_of(stream)
    assert event["event"] == "log" and event["level"] == "warning"
    assert event["message"] == "POST contacts/bulk: HTTP 502; reconciling"
    assert event["logger"] == "crmsync.load.loader"
    assert handlers == before


def test_an_event_field_may_not_hide_a_common_one() -> None:
    with pytest.raises(ValueError, match="clash"):
        JsonLogObserver(stream=io.StringIO()).emit("stage", step="other")


def test_a_retry_that_waits_long_says_what_it_waits_for_and_a_short_one_does_not() -> None:
    from crmsync.cli.console import echoing_logs

    rally = logging.getLogger("crmsync.api.rally")
    message = "GET /api/v1/contacts: ConnectError: refused (not sent); retry %d of 8 in %.2f s"
    json_stream, text_stream = io.StringIO(), io.StringIO()
    with capturing_logs(JsonLogObserver(stream=json_stream, pipeline="p")):
        rally.info(message, 1, 0.3, extra={"retry_wait_s": 0.3})
        rally.info(message, 4, 4.0, extra={"retry_wait_s": 4.0})
    with echoing_logs(text_stream):
        rally.info(message, 1, 0.3, extra={"retry_wait_s": 0.3})
        rally.info(message, 4, 4.0, extra={"retry_wait_s": 4.0})
    (event,) = lines_of(json_stream)
    assert event["message"].endswith("retry 4 of 8 in 4.00 s")
    assert text_stream.getvalue() == (
        "  waiting: GET /api/v1/contacts: ConnectError: refused (not sent); retry 4 of 8 in "
        "4.00 s\n"
    )
    assert logging.getLogger("crmsync").level == logging.NOTSET  # put back as it was
