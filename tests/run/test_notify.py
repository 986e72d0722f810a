"""A run's alert (`notify:`): one message for a run that needs a person, sent to a real
receiver on 127.0.0.1 after the run is recorded, none for a run that went well; a webhook
that fails never changes the exit code, and no secret reaches the message or the warning."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.alerts.receiver import SECRET, LocalReceiver

from crmsync.config import load_pipeline
from crmsync.errors import EXIT_EXPECTATIONS, EXIT_STOPPED, ConfigError, SourceError
from crmsync.run import RunObserver, RunOptions, run_pipeline
from crmsync.sandbox.testing import InProcessSandbox

from .conftest import pipeline
from .test_export import export_pipeline
from .test_stopped import STEP, RevokedAfter, people


@pytest.fixture
def receiver() -> Iterator[LocalReceiver]:
    with LocalReceiver() as running:
        yield running


class Warnings(RunObserver):
    def __init__(self) -> None:
        self.alerts: list[str] = []

    def alert_failed(self, message: str) -> None:
        self.alerts.append(message)


def alerting_pipeline(tmp_path: Path, url: str, expect: str = "") -> Path:
    path = export_pipeline(tmp_path, "out/contacts.csv")
    extra = f"notify: {{webhook: {{url: '{url}', max_attempts: 1}}}}\n"
    if expect:
        extra += f"expect: {expect}\n"
    path.write_text(path.read_text() + extra)
    return path


def test_a_run_that_breaks_an_expectation_sends_one_message(
    tmp_path: Path, receiver: LocalReceiver
) -> None:
    path = alerting_pipeline(tmp_path, receiver.url, "{max_failed: 10%}")
    result = run_pipeline(load_pipeline(path))
    assert result.exit_code == EXIT_EXPECTATIONS
    [body] = receiver.bodies
    assert (body["pipeline"], body["run_id"], body["status"], body["exit_code"]) == (
        "export",
        result.run_id,
        "partial",
        6,
    )
    assert body["counts"]["rows_read"] == 4 and body["counts"]["failed"] == 1
    assert body["broken"][0]["expectation"] == "max_failed"
    assert "max_failed 10%: 1 of 4 rows read failed (25.0%)" in body["text"]
    assert body["report_dir"] == str(tmp_path / "reports")
    assert SECRET not in json.dumps(body)


def test_a_run_with_failed_rows_alerts_and_a_clean_one_does_not(
    tmp_path: Path, receiver: LocalReceiver
) -> None:
    path = alerting_pipeline(tmp_path, receiver.url)
    assert run_pipeline(load_pipeline(path)).exit_code == 1
    assert [b["exit_code"] for b in receiver.bodies] == [1]
    (tmp_path / "people.csv").write_text(
        "Id,First,Last,Email,Company,Tags,Score\nc1,A,B,a@b.example,,,\n"
    )
    assert run_pipeline(load_pipeline(path)).exit_code == 0
    assert run_pipeline(load_pipeline(path), RunOptions(dry_run=True)).exit_code == 0
    assert len(receiver.bodies) == 1


def test_a_run_that_cannot_start_alerts_with_why(tmp_path: Path, receiver: LocalReceiver) -> None:
    path = alerting_pipeline(tmp_path, receiver.url)
    (tmp_path / "people.csv").unlink()
    with pytest.raises(SourceError):
        run_pipeline(load_pipeline(path))
    [body] = receiver.bodies
    assert (body["status"], body["exit_code"]) == ("failed", 2)
    assert "file not found" in body["error"] and body["run_id"] is not None


def test_a_crash_alerts_with_exit_70(
    tmp_path: Path, receiver: LocalReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    def bug(*args: object) -> None:
        raise RuntimeError(f"a bug that quotes {receiver.url}")

    monkeypatch.setattr("crmsync.run.pipeline.run_step", bug)
    path = alerting_pipeline(tmp_path, receiver.url)
    with pytest.raises(RuntimeError):
        run_pipeline(load_pipeline(path))
    [body] = receiver.bodies
    assert (body["status"], body["exit_code"]) == ("crashed", 70)
    assert body["error"].startswith("RuntimeError: a bug") and SECRET not in body["error"]


def test_a_failing_webhook_is_warned_about_and_the_exit_code_stands(tmp_path: Path) -> None:
    with LocalReceiver(status=500) as failing:
        path = alerting_pipeline(tmp_path, failing.url, "{min_rows_read: 100}")
        observer = Warnings()
        result = run_pipeline(load_pipeline(path), observer=observer)
    assert result.exit_code == EXIT_EXPECTATIONS
    [warning] = observer.alerts
    assert "answered 500" in warning and "exit code stands" in warning
    assert SECRET not in warning


def test_the_notify_transport_replaces_the_network(tmp_path: Path) -> None:
    bodies: list[bytes] = []

    def receive(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        return httpx.Response(204)

    path = alerting_pipeline(tmp_path, f"https://hooks.example.com/{SECRET}")
    run_pipeline(load_pipeline(path), notify_transport=httpx.MockTransport(receive))
    assert len(bodies) == 1


def test_a_plain_http_webhook_is_refused_without_showing_it(tmp_path: Path) -> None:
    path = alerting_pipeline(tmp_path, f"http://hooks.example.com/{SECRET}")
    with pytest.raises(ConfigError) as raised:
        load_pipeline(path)
    assert "notify.webhook.url: must be https://" in str(raised.value)
    assert SECRET not in str(raised.value)


def test_a_run_stopped_after_sending_alerts_with_exit_5_and_the_true_counts(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    bodies: list[dict[str, Any]] = []

    def receive(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(200)

    people(tmp_path)
    notify = f"notify: {{webhook: {{url: 'https://hooks.example.com/{SECRET}'}}}}\n"
    config = pipeline(tmp_path, STEP + notify, rally)
    stopped = run_pipeline(
        config,
        transport=RevokedAfter(rally.transport, bulks=2),
        notify_transport=httpx.MockTransport(receive),
    )
    assert stopped.exit_code == EXIT_STOPPED
    [body] = bodies
    assert (body["status"], body["exit_code"]) == ("interrupted", 5)
    assert body["counts"]["created"] == 100 and "revoked" in body["error"]
    assert "the run stopped after sending records" in body["text"]
