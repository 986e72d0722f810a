"""One pipeline file run for several tenants (run_tenants): each its own records, runs, lock
and report folder; a tenant that fails leaves the others running, an interrupt does not."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from crmsync.config import Pipeline, load_pipeline
from crmsync.errors import (
    EXIT_CANNOT_START,
    EXIT_EXPECTATIONS,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_ROWS_FAILED,
    EXIT_STOPPED,
    LockedError,
)
from crmsync.run import RunObserver, RunOptions, lock_path, run_pipeline, run_tenants
from crmsync.run.tenants import TenantRun, worst_exit_code
from crmsync.sandbox.testing import InProcessSandbox, in_process_sandbox
from crmsync.state import StateDB
from crmsync.state.lock import PipelineLock

from .conftest import write_csv

ACME_KEY = "rk_test_acme-key-7f1e"
GLOBEX_KEY = "rk_test_globex-key-03b9"
ROWS = 6
TENANTS = """\
name: contacts
object: contacts
source: {kind: csv, path: people.csv}
mapping: {firstName: First, lastName: Last, email: Email}
destination: {base_url: "${RALLY_BASE_URL}"}
tenants:
  acme: {api_key: "${ACME_RALLY_API_KEY}"}
  globex: {api_key: "${GLOBEX_RALLY_API_KEY}"}
state: {path: state.db}
report: {dir: reports}
"""


@pytest.fixture
def rally() -> Iterator[InProcessSandbox]:
    """One Rally with two tenants: each key is its own."""
    with in_process_sandbox(api_keys=(ACME_KEY, GLOBEX_KEY)) as sandbox:
        yield sandbox


def tenants_file(folder: Path, rally: InProcessSandbox, extra: str = "", **unset: bool) -> Pipeline:
    rows = [f"Ada,No{n},ada{n}@example.com" for n in range(ROWS)]
    write_csv(folder, "people.csv", "First,Last,Email", *rows)
    path = folder / "pipeline.yaml"
    path.write_text(textwrap.dedent(TENANTS) + extra, encoding="utf-8")
    env = {
        "RALLY_BASE_URL": rally.base_url,
        "ACME_RALLY_API_KEY": ACME_KEY,
        "GLOBEX_RALLY_API_KEY": GLOBEX_KEY,
    }
    return load_pipeline(path, env={k: v for k, v in env.items() if not unset.get(k)})


class Heard(RunObserver):
    def __init__(self, interrupt: str | None = None) -> None:
        self.events: list[tuple[str, str]] = []
        self.interrupt = interrupt

    def tenant_started(self, tenant: str, pipeline: str, index: int, total: int) -> None:
        self.events.append(("started", pipeline))

    def run_started(self, pipeline: str, run_id: int, steps: list[str]) -> None:
        if pipeline == self.interrupt:
            raise KeyboardInterrupt

    def tenant_finished(self, run: TenantRun) -> None:
        self.events.append(("finished", f"{run.tenant} {run.status} {run.exit_code}"))


def test_each_tenant_gets_its_records_and_a_rerun_sends_nothing(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    pipeline = tenants_file(tmp_path, rally)
    heard = Heard()
    first = run_tenants(pipeline, ["acme", "globex"], observer=heard, transport=rally.transport)
    assert [(r.tenant, r.status, r.exit_code) for r in first] == [
        ("acme", "succeeded", 0),
        ("globex", "succeeded", 0),
    ]
    assert heard.events == [
        ("started", "contacts@acme"),
        ("finished", "acme succeeded 0"),
        ("started", "contacts@globex"),
        ("finished", "globex succeeded 0"),
    ]
    for key in (ACME_KEY, GLOBEX_KEY):
        assert len(rally.records("contacts", key)) == ROWS
    writes = rally.write_requests()

    again = run_tenants(pipeline, ["acme", "globex"], transport=rally.transport)
    assert [r.result.summary.unchanged for r in again if r.result] == [ROWS, ROWS]
    assert rally.write_requests() == writes

    with StateDB.open(tmp_path / "state.db") as db:
        for tenant in ("acme", "globex"):
            runs = db.runs.latest(f"contacts@{tenant}")
            assert [(r.status, r.report_dir) for r in runs] == [
                ("succeeded", str(tmp_path / "reports" / tenant))
            ] * 2
        assert db.runs.latest("contacts") == []
    assert (tmp_path / "reports" / "acme" / "errors.csv").exists()
    assert (tmp_path / "reports" / "globex" / "errors.csv").exists()


def test_a_tenant_that_cannot_start_leaves_the_others_running(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    pipeline = tenants_file(tmp_path, rally, ACME_RALLY_API_KEY=True)
    runs = run_tenants(pipeline, ["acme", "globex"], transport=rally.transport)
    assert [(r.status, r.exit_code) for r in runs] == [("failed", 2), ("succeeded", 0)]
    assert runs[0].message == (
        "tenant acme cannot run: tenants.acme.api_key: "
        "environment variable ACME_RALLY_API_KEY is not set"
    )
    assert worst_exit_code(r.exit_code for r in runs) == EXIT_CANNOT_START
    assert len(rally.records("contacts", GLOBEX_KEY)) == ROWS


def test_a_tenant_whose_key_is_not_set_alerts_as_a_run_that_could_not_start(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    notify = "notify: {webhook: {url: 'https://hooks.example.com/T0/s3cret', max_attempts: 1}}\n"
    pipeline = tenants_file(tmp_path, rally, notify, ACME_RALLY_API_KEY=True)
    bodies: list[dict[str, Any]] = []

    def receive(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(200)

    runs = run_tenants(
        pipeline,
        ["acme", "globex"],
        transport=rally.transport,
        notify_transport=httpx.MockTransport(receive),
    )
    assert [r.exit_code for r in runs] == [EXIT_CANNOT_START, EXIT_OK]
    [body] = bodies  # globex went well: no message
    assert (body["pipeline"], body["run_id"], body["status"], body["exit_code"]) == (
        "contacts@acme",
        None,
        "failed",
        EXIT_CANNOT_START,
    )
    assert "environment variable ACME_RALLY_API_KEY is not set" in body["error"]
    assert GLOBEX_KEY[:8] not in json.dumps(body)


def test_two_tenants_locks_are_independent(rally: InProcessSandbox, tmp_path: Path) -> None:
    pipeline = tenants_file(tmp_path, rally)
    acme, globex = pipeline.for_tenant("acme"), pipeline.for_tenant("globex")
    assert lock_path(acme) != lock_path(globex)
    assert lock_path(acme).parent == lock_path(globex).parent == tmp_path

    with PipelineLock(lock_path(acme), pipeline=acme.name):  # acme's run elsewhere
        assert run_pipeline(globex, transport=rally.transport).exit_code == EXIT_OK
        with pytest.raises(LockedError, match="pipeline 'contacts@acme' is already running"):
            run_pipeline(pipeline.for_tenant("acme"), transport=rally.transport)
        runs = run_tenants(pipeline, ["acme", "globex"], transport=rally.transport)
    assert [(r.status, r.exit_code) for r in runs] == [("locked", EXIT_LOCKED), ("succeeded", 0)]
    assert rally.records("contacts", ACME_KEY) == []


def test_an_interrupt_ends_the_tenant_it_hits_and_starts_no_other(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    pipeline = tenants_file(tmp_path, rally)
    heard = Heard(interrupt="contacts@acme")
    runs = run_tenants(pipeline, ["acme", "globex"], observer=heard, transport=rally.transport)
    assert [(r.status, r.exit_code, r.started) for r in runs] == [
        ("interrupted", EXIT_INTERRUPTED, True),
        ("not run", EXIT_INTERRUPTED, False),
    ]
    assert heard.events == [("started", "contacts@acme"), ("finished", "acme interrupted 3")]
    assert rally.records("contacts", GLOBEX_KEY) == []


def test_a_report_dir_given_holds_a_folder_per_tenant(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    pipeline = tenants_file(tmp_path, rally)
    options = RunOptions(report_dir=tmp_path / "out")
    run_tenants(pipeline, ["acme", "globex"], options, transport=rally.transport)
    assert (tmp_path / "out" / "acme" / "errors.csv").exists()
    assert (tmp_path / "out" / "globex" / "errors.csv").exists()


@pytest.mark.parametrize(
    ("codes", "worst"),
    [
        ([], EXIT_OK),
        ([0, 0], EXIT_OK),
        ([0, 4, 1], EXIT_ROWS_FAILED),
        ([6, 2], EXIT_CANNOT_START),
        ([2, 5, 6], EXIT_STOPPED),
        ([3, 4], EXIT_INTERRUPTED),
        ([1, 6], EXIT_EXPECTATIONS),
        ([5, 70], EXIT_INTERNAL),
    ],
    ids=[
        "none",
        "all well",
        "rows over locked",
        "start over expect",
        "stopped",
        "interrupted",
        "expect over rows",
        "bug",
    ],
)
def test_the_exit_code_of_several_tenants_is_the_most_urgent(codes: list[int], worst: int) -> None:
    assert worst_exit_code(codes) == worst
