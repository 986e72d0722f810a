"""The alert webhook: a Slack-compatible body, retried with deterministic backoff on what may
be sent again, given up on what may not, and its URL never shown."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from crmsync.alerts import Broken, RunAlert, WebhookError, alert_body, send_webhook
from crmsync.config.alerts import WebhookConfig
from crmsync.report import RunSummary

SECRET_PATH = "/services/T0000/B0000/s3cr3t-t0k3n-value"
URL = f"https://hooks.example.com{SECRET_PATH}"


class Receiver:
    """Answers with `statuses` in turn (then 200), keeping what it was sent."""

    def __init__(self, *statuses: int, headers: dict[str, str] | None = None) -> None:
        self.statuses = list(statuses)
        self.headers = headers or {}
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.content))
        status = self.statuses.pop(0) if self.statuses else 200
        return httpx.Response(status, headers=self.headers if status != 200 else {})


def send(receiver: Any, sleeps: list[float], attempts: int = 4) -> int:
    return send_webhook(
        URL,
        {"text": "hi"},
        timeout_s=5,
        max_attempts=attempts,
        transport=httpx.MockTransport(receiver),
        sleep=sleeps.append,
    )


def test_server_faults_and_rate_limits_are_retried_with_the_same_waits_every_time() -> None:
    waits: list[list[float]] = []
    for _ in range(2):
        sleeps: list[float] = []
        receiver = Receiver(500, 503)
        assert send(receiver, sleeps) == 3
        assert len(receiver.bodies) == 3
        waits.append(sleeps)
    assert waits[0] == waits[1] and len(waits[0]) == 2


def test_retry_after_is_honoured() -> None:
    sleeps: list[float] = []
    assert send(Receiver(429, headers={"Retry-After": "3"}), sleeps) == 2
    assert sleeps == [3.0]


def test_a_refusal_is_not_retried_and_the_url_is_never_shown() -> None:
    sleeps: list[float] = []
    with pytest.raises(WebhookError) as raised:
        send(Receiver(404), sleeps)
    message = str(raised.value)
    assert sleeps == [] and "answered 404 (1 attempt)" in message
    assert "https://hooks.example.com/…" in message
    assert "s3cr3t" not in message and "T0000" not in message


def test_attempts_are_bounded() -> None:
    sleeps: list[float] = []
    receiver = Receiver(*[500] * 10)
    with pytest.raises(WebhookError, match=r"answered 500 \(3 attempts\)"):
        send(receiver, sleeps, attempts=3)
    assert len(receiver.bodies) == 3


def test_a_connection_that_fails_is_retried_and_its_error_redacted() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot connect to {request.url}")

    with pytest.raises(WebhookError) as raised:
        send(refuse, [], attempts=2)
    assert "(2 attempts)" in str(raised.value)
    assert "s3cr3t" not in str(raised.value)


def test_the_body_has_a_text_and_the_structured_summary() -> None:
    step = RunSummary(
        name="contacts",
        object="contacts",
        source="x.csv",
        dry_run=False,
        started_at="",
        rows_read=1000,
        created=900,
        unchanged=65,
        failed=35,
    )
    broken = Broken("max_failed", "2%", "35 of 1000 rows read failed (3.5%)", "max_failed 2%: …")
    body = alert_body(RunAlert("nightly", 12, "partial", 6, [step], [broken], None, "/r/12"))
    assert body["text"].startswith("crmsync: pipeline nightly, run 12 partial (exit 6)")
    assert "Expectation broken: max_failed 2%" in body["text"] and "Report: /r/12" in body["text"]
    assert body["counts"] == {
        "rows_read": 1000,
        "created": 900,
        "updated": 0,
        "unchanged": 65,
        "skipped": 0,
        "merged": 0,
        "failed": 35,
    }
    assert body["broken"][0]["expectation"] == "max_failed"
    assert (body["run_id"], body["status"], body["exit_code"]) == (12, "partial", 6)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        (URL, True),
        ("http://127.0.0.1:9000/hook", True),
        ("http://localhost/hook", True),
        ("http://hooks.example.com/services/s3cr3t", False),
        ("hooks.example.com/s3cr3t", False),
    ],
    ids=["https", "loopback-ip", "localhost", "plain-http", "no-scheme"],
)
def test_a_webhook_must_be_https_unless_on_this_machine(url: str, ok: bool) -> None:
    if ok:
        assert WebhookConfig.model_validate({"url": url}).url.get_secret_value() == url
        return
    with pytest.raises(ValidationError) as raised:
        WebhookConfig.model_validate({"url": url})
    errors = raised.value.errors(include_input=False, include_url=False)
    assert "s3cr3t" not in json.dumps(errors, default=str)
