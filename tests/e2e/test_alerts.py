"""Alerts through the real CLI: a run that breaks an expectation exits 6, says which in its
JSON log and on stderr, and posts one message to a receiver on 127.0.0.1; the webhook's URL
comes from the environment and shows nowhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.alerts.receiver import SECRET, LocalReceiver

pytestmark = pytest.mark.slow  # the CLI in a subprocess

PIPELINE = """\
name: nightly-export
object: contacts
source: {kind: csv, path: people.csv}
mapping: {firstName: First, lastName: Last, email: Email}
destination: {kind: file, path: out/contacts.ndjson}
state: {path: state.db}
report: {dir: reports}
expect: {max_failed: 10%, min_rows_read: 1000}
notify: {webhook: {url: "${ALERT_WEBHOOK_URL}"}}
"""


def crmsync(folder: Path, url: str, *args: str) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "crmsync", "run", str(folder / "pipeline.yaml"), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "ALERT_WEBHOOK_URL": url},
        timeout=120,
        check=False,
    )


def test_a_run_breaking_its_expectations_exits_6_and_alerts_once(tmp_path: Path) -> None:
    (tmp_path / "pipeline.yaml").write_text(PIPELINE)
    (tmp_path / "people.csv").write_text(
        "First,Last,Email\nAda,Lovelace,ada@acme.example\nBob,Stone,not-an-email\n"
    )
    with LocalReceiver() as receiver:
        done = crmsync(tmp_path, receiver.url, "--log-format", "json")
        text = crmsync(tmp_path, receiver.url)
    assert done.returncode == 6, done.stdout + done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    broken = [e for e in events if e["event"] == "expectation_broken"]
    assert [e["expectation"] for e in broken] == ["max_failed", "min_rows_read"]
    assert broken[0]["actual"] == "1 of 2 rows read failed (50.0%)"
    assert events[-1]["event"] == "run_finished" and events[-1]["exit_code"] == 6

    assert text.returncode == 6
    assert "Expectation broken: min_rows_read 1000: only 2 rows read" in text.stderr
    assert len(receiver.bodies) == 2  # one per run
    assert receiver.bodies[0]["broken"][1]["expectation"] == "min_rows_read"
    for output in (done.stdout, done.stderr, text.stdout, text.stderr):
        assert SECRET not in output and "Traceback" not in output


def test_an_unset_webhook_variable_stops_the_run_before_it_starts(tmp_path: Path) -> None:
    (tmp_path / "pipeline.yaml").write_text(PIPELINE)
    (tmp_path / "people.csv").write_text("First,Last,Email\nAda,Lovelace,ada@acme.example\n")
    env = {k: v for k, v in os.environ.items() if k != "ALERT_WEBHOOK_URL"}
    done = subprocess.run(
        [sys.executable, "-m", "crmsync", "run", str(tmp_path / "pipeline.yaml")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "notify.webhook.url: environment variable ALERT_WEBHOOK_URL is not set" in done.stderr
