"""One pipeline file for two tenants, with the real CLI against two sandboxes (one Rally per
tenant, on 127.0.0.1): each tenant gets its records, a rerun sends nothing to either, their
runs are listed apart, two tenants run at once while the same tenant twice is refused, and
no piece of either key shows anywhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from crmsync.errors import EXIT_LOCKED
from crmsync.sandbox.testing import running_sandbox

pytestmark = pytest.mark.slow  # real servers and the CLI in subprocesses

ACME_KEY = "rk_live_AcmeTenant-7Q2x9ZpL"
GLOBEX_KEY = "rk_live_GlobexTenant-Hw4k0Rv3"
ROWS = 40
PIPELINE_YAML = """\
name: contacts
object: contacts
source: {kind: csv, path: contacts.csv}
mapping: {firstName: First Name, lastName: Last Name, email: Email}
destination: {base_url: "${RALLY_BASE_URL}", api_key: "${RALLY_API_KEY}"}
tenants:
  acme: {base_url: "${ACME_RALLY_BASE_URL}", api_key: "${ACME_RALLY_API_KEY}"}
  globex: {base_url: "${GLOBEX_RALLY_BASE_URL}", api_key: "${GLOBEX_RALLY_API_KEY}"}
load: {mode: bulk, batch_size: 10, concurrency: 1}
report: {dir: reports}
"""


def write_pipeline(folder: Path) -> Path:
    lines = ["First Name,Last Name,Email"]
    lines += [f"Kim,Tenant{n},kim{n}@example.com" for n in range(ROWS)]
    (folder / "contacts.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    pipeline = folder / "pipeline.yaml"
    pipeline.write_text(PIPELINE_YAML, encoding="utf-8")
    return pipeline


def env_for(acme: str, globex: str) -> dict[str, str]:
    """Both tenants' variables, and not the destination's: the tenants override them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RALLY_")}
    return env | {
        "ACME_RALLY_BASE_URL": acme,
        "ACME_RALLY_API_KEY": ACME_KEY,
        "GLOBEX_RALLY_BASE_URL": globex,
        "GLOBEX_RALLY_API_KEY": GLOBEX_KEY,
    }


def crmsync(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crmsync", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )


def runs_json(pipeline: Path, *more: str) -> list[dict[str, Any]]:
    done = crmsync("runs", str(pipeline), "--json", *more, env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, Any]] = json.loads(done.stdout)
    return rows


def assert_no_piece_of_a_key(*texts: str) -> None:
    """Not a key, nor 8 characters of one, in any case (what redaction promises)."""
    for key in (ACME_KEY, GLOBEX_KEY):
        pieces = {key[i : i + 8].lower() for i in range(len(key) - 7)}
        for text in texts:
            folded = text.lower()
            assert not [piece for piece in pieces if piece in folded], "a key leaked"


def test_two_tenants_from_one_file_each_get_their_records_once(tmp_path: Path) -> None:
    pipeline = write_pipeline(tmp_path)
    with (
        running_sandbox(api_keys=(ACME_KEY,)) as acme,
        running_sandbox(api_keys=(GLOBEX_KEY,)) as globex,
    ):
        env = env_for(acme.base_url, globex.base_url)
        refused = crmsync("run", str(pipeline), env=env)
        first = crmsync("run", str(pipeline), "--all-tenants", env=env)
        acme_writes, globex_writes = acme.write_requests(), globex.write_requests()
        stored = {
            "acme": Counter(r["email"] for r in acme.records("contacts", ACME_KEY)),
            "globex": Counter(r["email"] for r in globex.records("contacts", GLOBEX_KEY)),
        }
        again = crmsync(
            "run", str(pipeline), "--tenant", "acme", "--tenant", "globex",
            "--log-format", "json", env=env,
        )  # fmt: skip
        assert (acme.write_requests(), globex.write_requests()) == (acme_writes, globex_writes)

    assert refused.returncode == 2
    assert "runs for tenants (acme, globex): choose with --tenant NAME or --all-tenants" in (
        refused.stderr
    )
    assert first.returncode == 0, first.stdout + first.stderr
    assert "== tenant acme (1/2)" in first.stdout and "== tenant globex (2/2)" in first.stdout
    table = first.stdout[first.stdout.index("tenant  ") :].splitlines()
    assert table[2].split() == ["acme", "succeeded", "0", str(ROWS), str(ROWS), "0", "0", "0", "1"]
    assert table[3].split()[:5] == ["globex", "succeeded", "0", str(ROWS), str(ROWS)]
    for emails in stored.values():
        assert len(emails) == ROWS and max(emails.values()) == 1
    assert acme_writes and globex_writes

    assert again.returncode == 0, again.stdout + again.stderr
    events = [json.loads(line) for line in again.stdout.splitlines()]
    finished = [e for e in events if e["event"] == "run_finished"]
    assert [e["pipeline"] for e in finished] == ["contacts@acme", "contacts@globex"]
    assert events[-1]["event"] == "tenants_finished" and events[-1]["exit_code"] == 0
    plans = [e["detail"] for e in events if e["event"] == "stage" and e["name"] == "plan"]
    assert plans == [f"{ROWS} unchanged, 0 records to send"] * 2

    acme_runs = runs_json(pipeline, "--tenant", "acme")
    globex_runs = runs_json(pipeline, "--tenant", "globex")
    assert [(r["run_id"], r["pipeline"]) for r in acme_runs] == [
        (3, "contacts@acme"),
        (1, "contacts@acme"),
    ]
    assert [(r["run_id"], r["pipeline"]) for r in globex_runs] == [
        (4, "contacts@globex"),
        (2, "contacts@globex"),
    ]
    assert [r["run_id"] for r in runs_json(pipeline)] == [4, 3, 2, 1]
    assert acme_runs[-1]["report_dir"] == str(tmp_path / "reports" / "acme")
    assert (tmp_path / "reports" / "globex" / "summary.json").exists()

    stored_files = [  # the reports, report.html, the state database and its WAL
        path.read_bytes().decode("utf-8", "replace")
        for path in tmp_path.rglob("*")
        if path.is_file()
    ]
    assert any(path.name.startswith("state.db") for path in (tmp_path / ".crmsync").iterdir())
    assert_no_piece_of_a_key(
        refused.stdout, refused.stderr, first.stdout, first.stderr, again.stdout, again.stderr,
        *stored_files,
    )  # fmt: skip


def test_two_tenants_run_at_once_but_not_the_same_tenant_twice(tmp_path: Path) -> None:
    pipeline = write_pipeline(tmp_path)
    with (
        running_sandbox(api_keys=(ACME_KEY,), latency_ms=2000) as acme,  # 4 bulks: 8 s
        running_sandbox(api_keys=(GLOBEX_KEY,)) as globex,
    ):
        env = env_for(acme.base_url, globex.base_url)
        slow = subprocess.Popen(
            [sys.executable, "-m", "crmsync", "run", str(pipeline), "--tenant", "acme"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert slow.stdout is not None
        seen = []
        for line in slow.stdout:  # acme is loading: it holds acme's lock
            seen.append(line)
            if "load:" in line:
                break
        twice = crmsync("run", str(pipeline), "--tenant", "acme", env=env)
        other = crmsync("run", str(pipeline), "--tenant", "globex", env=env)
        overlapped = slow.poll() is None  # globex ran start to end while acme loaded
        rest, err = slow.communicate(timeout=180)
        stored = (
            len(acme.records("contacts", ACME_KEY)),
            len(globex.records("contacts", GLOBEX_KEY)),
        )

    assert other.returncode == 0, other.stdout + other.stderr
    assert overlapped
    assert twice.returncode == EXIT_LOCKED, twice.stdout + twice.stderr
    assert "pipeline 'contacts@acme' is already running" in twice.stderr
    assert slow.returncode == 0, "".join(seen) + rest + err
    assert stored == (ROWS, ROWS)
    assert_no_piece_of_a_key(other.stdout, other.stderr, twice.stdout, twice.stderr, rest, err)
