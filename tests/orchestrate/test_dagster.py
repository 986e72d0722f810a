"""crmsync.orchestrate.dagster: a pipeline file materialized by Dagster in this process
(`dagster.materialize`, no daemon) into the in-process Rally, one asset per step."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import pytest

from crmsync.errors import ConfigError
from crmsync.orchestrate.dagster import definitions, pipeline_assets
from crmsync.report.history import list_runs, pipeline_state
from crmsync.sandbox.testing import InProcessSandbox
from crmsync.state import PipelineLock

from .conftest import write_migration

COMPANIES = dg.AssetKey(["migration", "companies"])
CONTACTS = dg.AssetKey(["migration", "contacts"])
OP = "crmsync_migration"
FAST_RETRY = {"retries": 2, "retry_delay_s": 0.01}


def materialize(assets: list[dg.AssetsDefinition], **config: Any) -> dg.ExecuteInProcessResult:
    run_config = {"ops": {OP: {"config": config}}} if config else None
    return dg.materialize(assets, run_config=run_config, raise_on_error=False)


def assets_of(path: Path, rally: InProcessSandbox, **options: Any) -> list[dg.AssetsDefinition]:
    """The pipeline's assets, sending to the in-process Rally; a lock or an unreachable Rally
    is retried twice, after 10 ms then 20 ms."""
    return pipeline_assets(path, **({"transport": rally.transport} | FAST_RETRY | options))


def metadata(result: dg.ExecuteInProcessResult) -> dict[dg.AssetKey, dict[str, Any]]:
    """Each materialized asset's metadata, as plain values."""
    return {
        event.asset_key: {k: v.value for k, v in event.materialization.metadata.items()}
        for event in result.get_asset_materialization_events()
    }


def events(result: dg.ExecuteInProcessResult, kind: str) -> list[dg.DagsterEvent]:
    return [event for event in result.all_events if event.event_type_value == kind]


def failure(result: dg.ExecuteInProcessResult) -> Any:
    [event] = result.get_step_failure_events()
    return event.step_failure_data


def test_each_step_is_an_asset_depending_on_the_step_before(tmp_path: Path) -> None:
    [assets] = pipeline_assets(write_migration(tmp_path), deps=["crm_export"])
    assert assets.keys == {COMPANIES, CONTACTS}
    assert assets.asset_deps[COMPANIES] == {dg.AssetKey("crm_export")}  # what it reads
    assert assets.asset_deps[CONTACTS] == {COMPANIES}
    assert assets.group_names_by_key == {COMPANIES: "migration", CONTACTS: "migration"}
    assert not assets.can_subset


def test_a_single_step_pipeline_is_one_asset_named_after_it(tmp_path: Path) -> None:
    path = tmp_path / "contacts.yaml"
    path.write_text("name: contacts-csv\nobject: contacts\n")  # only the names are read now
    [assets] = pipeline_assets(path, key_prefix="crm", group_name="nightly")
    assert assets.keys == {dg.AssetKey(["crm", "contacts-csv"])}
    assert set(assets.group_names_by_key.values()) == {"nightly"}
    assert assets.op.name == "crmsync_contacts_csv"


def test_a_run_materializes_each_step_with_its_counts_and_a_rerun_finds_them_unchanged(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    assets = assets_of(write_migration(tmp_path), rally)
    first = materialize(assets)
    assert first.success
    found = metadata(first)
    assert [found[key]["created"] for key in (COMPANIES, CONTACTS)] == [2, 2]
    assert found[CONTACTS]["rows_read"] == 2 and found[CONTACTS]["failed"] == 0
    assert found[CONTACTS]["status"] == "succeeded" and found[CONTACTS]["exit_code"] == 0
    assert found[CONTACTS]["report_dir"] == str(tmp_path / "reports")
    assert found[CONTACTS]["step_report_dir"] == str(tmp_path / "reports" / "contacts")
    assert {r["email"] for r in rally.records("contacts")} == {"ada@acme.com", "hank@globex.com"}
    assert all(contact["companyId"] for contact in rally.records("contacts"))

    second = metadata(materialize(assets))
    assert [second[key]["unchanged"] for key in (COMPANIES, CONTACTS)] == [2, 2]
    assert second[CONTACTS]["created"] == 0
    assert second[CONTACTS]["crmsync_run_id"] == found[CONTACTS]["crmsync_run_id"] + 1


def test_definitions_hold_the_assets_of_each_file(tmp_path: Path) -> None:
    defs = definitions(write_migration(tmp_path))
    assert {key for assets in defs.assets or () for key in assets.keys} == {COMPANIES, CONTACTS}


@pytest.mark.parametrize(
    ("rows_failed", "success"), [("warn", True), ("fail", False)], ids=["warn", "fail"]
)
def test_rows_that_failed_warn_by_default_or_fail_the_materialization(
    rally: InProcessSandbox, tmp_path: Path, rows_failed: Any, success: bool
) -> None:
    path = write_migration(tmp_path, "Ada,Lovelace,ada@acme.com", "Cy,Nope,not-an-email")
    result = materialize(assets_of(path, rally, rows_failed=rows_failed))
    assert result.success is success
    found = metadata(result)  # materialized either way: Ada did reach Rally
    assert (found[CONTACTS]["created"], found[CONTACTS]["failed"]) == (1, 1)
    assert found[CONTACTS]["failed_by_stage"] == {"validate": 1}
    assert found[CONTACTS]["status"] == "partial" and found[CONTACTS]["exit_code"] == 1
    assert len(rally.records("contacts")) == 1
    if success:
        assert found[CONTACTS]["warning"].startswith("1 of 2 rows failed: see ")
        assert "warning" not in found[COMPANIES]
    else:
        failed = failure(result)
        assert failed.user_failure_data.description.startswith("1 of 4 rows failed")
        assert failed.user_failure_data.metadata["exit_code"].value == 1
        assert not events(result, "STEP_UP_FOR_RETRY")


def test_a_locked_pipeline_is_retried_with_a_growing_wait_and_never_run_meanwhile(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    path = write_migration(tmp_path)
    assets = assets_of(path, rally)
    with PipelineLock(tmp_path / "state.db.migration.lock", pipeline="migration"):
        locked = materialize(assets)
    waits = [e.event_specific_data.seconds_to_wait for e in events(locked, "STEP_UP_FOR_RETRY")]
    assert waits == [0.01, 0.02]
    assert not locked.success
    error = failure(locked).error
    assert "Exceeded max_retries of 2" in error.message
    assert "pipeline 'migration' is already running" in error.cause.message
    assert rally.write_requests() == 0
    assert materialize(assets).success  # the lock is free again


class _Refused(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


def test_an_unreachable_rally_is_retried(rally: InProcessSandbox, tmp_path: Path) -> None:
    assets = assets_of(write_migration(tmp_path), rally, transport=_Refused(), retries=1)
    result = materialize(assets)
    assert len(events(result, "STEP_UP_FOR_RETRY")) == 1
    assert "cannot reach Rally" in failure(result).error.cause.message


def test_a_refused_key_fails_without_retry(
    rally: InProcessSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RALLY_API_KEY", "rk_test_someone-elses-key")
    result = materialize(assets_of(write_migration(tmp_path), rally))
    assert not result.success and not events(result, "STEP_UP_FOR_RETRY")
    failed = failure(result).user_failure_data
    assert failed.metadata["exit_code"].value == 2
    assert "someone-elses" not in failed.description


def test_a_bad_pipeline_file_fails_with_crmsync_message(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    path = write_migration(tmp_path)
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match=r"broken\.yaml: line 2: not valid YAML"):
        pipeline_assets(broken)

    assets = assets_of(path, rally)
    companies = "    mapping: {name: Name, domain: Website}\n"
    edited = companies + "    load: {batch_sise: 10}\n"
    path.write_text(path.read_text().replace(companies, edited))
    result = materialize(assets)
    assert not result.success and not events(result, "STEP_UP_FOR_RETRY")
    assert "did you mean 'batch_size'" in failure(result).user_failure_data.description
    assert rally.write_requests() == 0


def test_a_file_whose_steps_changed_since_the_definitions_asks_to_reload_them(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    path = write_migration(tmp_path)
    assets = assets_of(path, rally)
    path.write_text(path.read_text().replace("name: contacts", "name: people"))
    result = materialize(assets)
    assert "reload the definitions" in failure(result).user_failure_data.description
    assert rally.write_requests() == 0


def test_broken_expectations_materialize_the_steps_then_fail(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    path = write_migration(tmp_path, extra="expect: {min_rows_read: 100}\n")
    result = materialize(assets_of(path, rally))
    assert not result.success and not events(result, "STEP_UP_FOR_RETRY")
    assert set(metadata(result)) == {COMPANIES, CONTACTS}
    failed = failure(result).user_failure_data
    assert failed.description.startswith("expectation broken: min_rows_read 100: ")
    assert failed.metadata["exit_code"].value == 6
    assert failed.metadata["rows_read"].value == 4


def test_a_dry_run_observes_the_steps_and_writes_nothing(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    result = materialize(assets_of(write_migration(tmp_path), rally), dry_run=True, limit=1)
    assert result.success
    assert not result.get_asset_materialization_events()
    observed = {
        e.asset_key: e.event_specific_data.asset_observation.metadata
        for e in events(result, "ASSET_OBSERVATION")
    }
    assert observed[COMPANIES]["planned"].value == 1  # --limit 1
    assert observed[COMPANIES]["dry_run"].value is True
    assert rally.write_requests() == 0


class _Signal(httpx.AsyncBaseTransport):
    """Rally, until the first bulk: then the process gets `signum`, as from a run stopped."""

    def __init__(self, inner: httpx.AsyncBaseTransport, signum: int) -> None:
        self._inner = inner
        self._signum = signum

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/bulk"):
            os.kill(os.getpid(), self._signum)
        return await self._inner.handle_async_request(request)


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(),
    reason="signal handlers are only set on the main thread",
)
@pytest.mark.parametrize(
    "signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT-dagster-cancels", "SIGTERM"]
)
def test_a_stopped_run_is_interrupted_as_ctrl_c_interrupts_the_cli(
    rally: InProcessSandbox, tmp_path: Path, signum: int
) -> None:
    path = write_migration(tmp_path)
    result = materialize(assets_of(path, rally, transport=_Signal(rally.transport, signum)))
    assert not result.success
    assert "DagsterExecutionInterruptedError" in failure(result).error.cls_name
    [run] = list_runs(pipeline_state(path))
    assert run.status == "interrupted"  # not crashed: the report is written, the rest resumes


def test_without_dagster_the_module_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dagster", None)  # as if not installed
    monkeypatch.delitem(sys.modules, "crmsync.orchestrate.dagster")
    with pytest.raises(ImportError, match=r"pip install 'crmsync\[dagster\]'"):
        importlib.import_module("crmsync.orchestrate.dagster")


@pytest.mark.slow
def test_no_module_but_the_integration_imports_dagster() -> None:
    code = (
        "import sys, crmsync.cli.app, crmsync.orchestrate, crmsync.run;"
        "assert 'dagster' not in sys.modules, 'dagster imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
