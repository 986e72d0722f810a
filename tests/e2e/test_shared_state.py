"""Workers on several hosts sharing one PostgreSQL state, with the real CLI against a real
sandbox and a real PostgreSQL server: each worker has a working folder of its own (as a
container would), so all they share is the database and Rally.

- While one worker loads, a second one on the same pipeline exits 4, naming the first.
- The first is killed with SIGKILL; its advisory lock dies with its connection, and a third
  worker on a fresh folder resumes: every row once in Rally, nothing acknowledged sent again.
- A fourth fresh worker finds everything unchanged from the shared state and writes nothing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
import pytest

from crmsync.errors import EXIT_LOCKED
from crmsync.sandbox.testing import SandboxHandle, running_sandbox

pytestmark = pytest.mark.slow  # real servers and the CLI in subprocesses

KEY = "shared-state-e2e-key-7731"
ROWS = 20_000
LATENCY_MS = 50
RATE_LIMIT = 40  # requests a second: the 200 bulk requests take about 5 s
KILL_AFTER_S = 1.0  # after the first write: well inside the load
RUN_TIMEOUT_S = 240
POLL_S = 0.02
SETTLE_S = 0.3

PIPELINE = """\
name: shared-e2e
object: contacts
source: {kind: csv, path: contacts.csv}
mapping: {firstName: First Name, lastName: Last Name, email: Email, city: City}
destination: {base_url: "${RALLY_BASE_URL}", api_key: "${RALLY_API_KEY}"}
state: {url: "${STATE_URL}", schema: SCHEMA}
load: {mode: auto, batch_size: 100, concurrency: 4}
report: {dir: reports}
"""


def email_of(n: int) -> str:
    return f"ana.shared{n}@example.com"


def worker_folder(root: Path, name: str, schema: str) -> Path:
    """A worker's own working folder: the pipeline file and the source file, nothing else."""
    folder = root / name
    folder.mkdir()
    lines = ["First Name,Last Name,Email,City"]
    lines += [f"Ana,Shared{n},{email_of(n)},Lisbon" for n in range(ROWS)]
    (folder / "contacts.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "pipeline.yaml").write_text(PIPELINE.replace("SCHEMA", schema), encoding="utf-8")
    return folder


def env_for(sandbox: SandboxHandle, url: str) -> dict[str, str]:
    return {**os.environ, "RALLY_BASE_URL": sandbox.base_url, "RALLY_API_KEY": KEY,
            "STATE_URL": url}  # fmt: skip


def start(folder: Path, sandbox: SandboxHandle, url: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "crmsync", "run", str(folder / "pipeline.yaml")],
        cwd=folder,
        env=env_for(sandbox, url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    out, err = process.communicate(timeout=RUN_TIMEOUT_S)
    assert KEY not in out + err
    return process.returncode, out + err


def cli(folder: Path, url: str, *args: str) -> Any:
    """`crmsync runs|report ... --json` in a worker's folder: only the state URL is set."""
    done = subprocess.run(
        [sys.executable, "-m", "crmsync", args[0], str(folder / "pipeline.yaml"), *args[1:]],
        cwd=folder,
        env={**os.environ, "STATE_URL": url},
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def summary_of(folder: Path) -> dict[str, Any]:
    return dict(json.loads((folder / "reports" / "summary.json").read_text()))


def settled_count(sandbox: SandboxHandle) -> int:
    before = int(sandbox.stats()["records"].get("contacts", 0))
    while True:
        time.sleep(SETTLE_S)
        now = int(sandbox.stats()["records"].get("contacts", 0))
        if now == before:
            return now
        before = now


def in_state(url: str, schema: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"SET search_path TO {schema}")
        return list(connection.execute(query.encode()).fetchall())


def test_workers_on_separate_folders_share_one_state_lock_and_resume(
    tmp_path: Path, postgres_url: str, pg_schema: str
) -> None:
    a, b, c, d = (worker_folder(tmp_path, name, pg_schema) for name in "abcd")
    with running_sandbox(api_keys=(KEY,), latency_ms=LATENCY_MS, rate_limit=RATE_LIMIT) as rally:
        first = start(a, rally, postgres_url)
        while rally.write_requests() == 0 and first.poll() is None:
            time.sleep(POLL_S)

        # A second host, same pipeline, while the first loads: refused at once, naming it.
        code, output = finish(start(b, rally, postgres_url))
        assert code == EXIT_LOCKED, output
        assert f"already running (pid {first.pid} on " in output
        assert "postgresql://postgres@127.0.0.1" in output

        time.sleep(KILL_AFTER_S)
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=RUN_TIMEOUT_S)
        assert first.returncode == -signal.SIGKILL
        in_rally = settled_count(rally)
        durable = in_state(postgres_url, pg_schema, "SELECT count(*) FROM row_hashes")[0][0]
        assert 0 < durable <= in_rally < ROWS

        # A third host on a fresh folder: the dead worker's lock is gone; it resumes.
        code, output = finish(start(c, rally, postgres_url))
        assert code == 0, output
        resumed = summary_of(c)
        writes_before = rally.write_requests()

        # A fourth fresh host: everything is known from the shared state; nothing is written.
        code, output = finish(start(d, rally, postgres_url))
        assert code == 0, output
        again = summary_of(d)
        assert rally.write_requests() == writes_before
        stored = Counter(record["email"] for record in rally.records("contacts", KEY))

    assert stored == Counter({email_of(n): 1 for n in range(ROWS)})
    assert resumed["failed"] == resumed["merged"] == resumed["updated"] == 0
    assert durable <= resumed["unchanged"] == in_rally
    assert resumed["created"] == ROWS - in_rally
    assert again["unchanged"] == ROWS and again["created"] == again["updated"] == 0
    statuses = in_state(postgres_url, pg_schema, "SELECT status FROM runs ORDER BY id")
    assert [status for (status,) in statuses] == ["crashed", "succeeded", "succeeded"]
    # any worker's folder shows the shared history, with no Rally variables set
    history = cli(a, postgres_url, "runs", "--json")
    assert [run["status"] for run in history] == ["succeeded", "succeeded", "crashed"]
    resumed_run = cli(b, postgres_url, "report", str(history[1]["run_id"]), "--json")
    assert resumed_run["created"] == ROWS - in_rally
    for folder in (a, b, c, d):
        assert not (folder / ".crmsync").exists()  # no worker kept state of its own
