"""Operating crmsync from a scheduler, with the real CLI against a real sandbox: two runs of the
same pipeline at once (one proceeds, one refuses with exit 4), and the lock of a killed run
taken over by the next one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from crmsync.errors import EXIT_LOCKED
from crmsync.sandbox.testing import running_sandbox

pytestmark = pytest.mark.slow  # real servers and the CLI in subprocesses

KEY = "ops-e2e-secret-0815"
ROWS = 120
PIPELINE_YAML = """\
name: ops-e2e
object: contacts
source: {kind: csv, path: contacts.csv}
mapping: {firstName: First Name, lastName: Last Name, email: Email}
destination: {base_url: "${RALLY_BASE_URL}", api_key: "${RALLY_API_KEY}"}
load: {mode: bulk, batch_size: 10, concurrency: 1}
report: {dir: reports}
"""
LOCK = ".crmsync/state.db.ops-e2e.lock"

# Takes the pipeline's lock and opens a run the way `crmsync run` does, then waits to be killed.
HOLD_AND_DIE = """
import sys
from crmsync.config import load_pipeline
from crmsync.state.lock import PipelineLock
from crmsync.run import lock_path
from crmsync.state import StateDB

pipeline = load_pipeline(sys.argv[1])
lock = PipelineLock(lock_path(pipeline), pipeline=pipeline.name).acquire()
state = StateDB.open(pipeline.resolve(pipeline.state.path))
state.runs.start(pipeline.name)
print("running", flush=True)
sys.stdin.read()
"""


def write_pipeline(folder: Path) -> Path:
    lines = ["First Name,Last Name,Email"]
    lines += [f"Kim,Ops{n},kim{n}@example.com" for n in range(ROWS)]
    (folder / "contacts.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    pipeline = folder / "pipeline.yaml"
    pipeline.write_text(PIPELINE_YAML, encoding="utf-8")
    return pipeline


def env_for(base_url: str) -> dict[str, str]:
    return {**os.environ, "RALLY_BASE_URL": base_url, "RALLY_API_KEY": KEY}


def crmsync(*args: str, base_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crmsync", *args],
        capture_output=True,
        text=True,
        env=env_for(base_url),
        timeout=120,
        check=False,
    )


def runs_of(pipeline: Path) -> list[dict[str, object]]:
    done = crmsync("runs", str(pipeline), "--json", base_url="http://unused")
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, object]] = json.loads(done.stdout)
    return rows


def test_a_second_run_of_a_running_pipeline_refuses_at_once(tmp_path: Path) -> None:
    pipeline = write_pipeline(tmp_path)
    with running_sandbox(api_keys=(KEY,), latency_ms=300, rate_limit=5) as sandbox:
        first = subprocess.Popen(
            [sys.executable, "-m", "crmsync", "run", str(pipeline)],
            env=env_for(sandbox.base_url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert first.stdout is not None
        seen = []
        for line in first.stdout:  # the first run is loading: it holds the lock
            seen.append(line)
            if "load:" in line:
                break
        second = crmsync("run", str(pipeline), base_url=sandbox.base_url)
        rest, err = first.communicate(timeout=120)
        stored = Counter(record["email"] for record in sandbox.records("contacts", KEY))

    assert second.returncode == EXIT_LOCKED, second.stdout + second.stderr
    assert f"pipeline 'ops-e2e' is already running (pid {first.pid} since" in second.stderr
    assert second.stdout == ""
    assert "Traceback" not in second.stderr and KEY not in second.stderr

    assert first.returncode == 0, "".join(seen) + rest + err
    assert len(stored) == ROWS and max(stored.values()) == 1
    assert [(run["run_id"], run["status"]) for run in runs_of(pipeline)] == [(1, "succeeded")]
    assert not (tmp_path / LOCK).exists()


def test_the_lock_of_a_killed_run_is_taken_over_and_its_run_marked_crashed(
    tmp_path: Path,
) -> None:
    pipeline = write_pipeline(tmp_path)
    with running_sandbox(api_keys=(KEY,)) as sandbox:
        holder = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(HOLD_AND_DIE), str(pipeline)],
            env=env_for(sandbox.base_url),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "running"
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        stale = json.loads((tmp_path / LOCK).read_text())
        assert stale["pid"] == holder.pid  # the dead run's lock is still there

        done = crmsync("run", str(pipeline), base_url=sandbox.base_url)
        stored = sandbox.records("contacts", KEY)

    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        f"recovered: took over the lock of pid {holder.pid}, which is no longer running; "
        "marked 1 unfinished run of a dead process as crashed"
    ) in done.stdout
    assert len(stored) == ROWS
    runs = runs_of(pipeline)
    assert [(run["run_id"], run["status"]) for run in runs] == [(2, "succeeded"), (1, "crashed")]
    assert runs[0]["created"] == ROWS
    assert not (tmp_path / LOCK).exists()
