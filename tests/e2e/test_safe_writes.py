"""A nightly sync into a CRM people work in, through the real CLI against the sandbox: their
edits survive, blanks never clear, defaults never reset, conflicts follow the policy and are
reported, the dry run plans what the real run does, modes skip, and a run can be undone, also
after kill -9, also under faults."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from crmsync.sandbox.testing import SandboxHandle, running_sandbox

pytestmark = pytest.mark.slow  # real servers and the CLI in subprocesses

KEY = "rk_test_safe-writes-0042"
RUN_TIMEOUT_S = 120
EDIT_ATTEMPTS = 50
POLL_S = 0.02
HEADER = "First,Last,Email,Phone,Lifecycle Stage"
PIPELINE = """\
name: nightly
object: contacts
source: {{kind: csv, path: people.csv}}
mapping:
  firstName: First
  lastName: Last
  email: Email
  phone: Phone
  lifecycleStage: {{column: Lifecycle Stage, default: lead}}
normalize: {{default_region: US}}
{extra}
destination: {{base_url: "${{RALLY_BASE_URL}}", api_key: "${{RALLY_API_KEY}}"}}
state: {{path: state.db}}
report: {{dir: reports}}
"""


def people(folder: Path, *rows: str) -> None:
    (folder / "people.csv").write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")


ADA = "Ada,Lovelace,ada@example.com,415 555 0100,"
BOB = "Bob,Byte,bob@example.com,415 555 0101,"


def _sync(extra: str) -> str:
    """`extra`, its updates allowed to rewrite what Rally never shows (these tests are of the
    merge of what it shows; tests/run/test_unreadable.py holds such updates back)."""
    if extra.startswith("sync: {"):
        return extra.replace("sync: {", "sync: {unreadable: rewrite, ", 1)
    return "sync: {unreadable: rewrite}\n" + extra


def pipeline(folder: Path, extra: str = "") -> Path:
    path = folder / "nightly.yaml"
    path.write_text(PIPELINE.format(extra=_sync(extra)), encoding="utf-8")
    return path


def crmsync(sandbox: SandboxHandle, *args: str, expect: int | None = 0) -> str:
    env = {**os.environ, "RALLY_BASE_URL": sandbox.base_url, "RALLY_API_KEY": KEY}
    done = subprocess.run(
        [sys.executable, "-m", "crmsync", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    output = done.stdout + done.stderr
    if expect is not None:
        assert done.returncode == expect, output
    assert KEY not in output and "Traceback" not in output
    return output


def summary(folder: Path) -> dict[str, Any]:
    return dict(json.loads((folder / "summary.json").read_text()))


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def contact(sandbox: SandboxHandle, email: str) -> dict[str, Any]:
    return next(r for r in sandbox.records("contacts", KEY) if r["email"] == email)


def edit(sandbox: SandboxHandle, email: str, **fields: Any) -> None:
    """A salesperson edits a contact in Rally (a PUT of the whole record, as Rally's UI does)."""
    record = contact(sandbox, email)
    body = {k: v for k, v in record.items() if v is not None and k not in READ_ONLY} | fields
    with httpx.Client(base_url=sandbox.base_url, headers={"X-Api-Key": KEY}) as client:
        for _ in range(EDIT_ATTEMPTS):  # a faulty sandbox fails people's edits too: they retry
            try:
                answer = client.put(f"/api/v1/contacts/{record['id']}", json=body)
            except httpx.TransportError:
                continue
            if answer.status_code == httpx.codes.TOO_MANY_REQUESTS:
                time.sleep(float(answer.headers.get("Retry-After") or 1))
            elif answer.status_code < httpx.codes.INTERNAL_SERVER_ERROR:
                answer.raise_for_status()
                return
        raise AssertionError(f"could not edit {email}")


READ_ONLY = {
    "id",
    "tenantId",
    "fullName",
    "isUnsubscribed",
    "lastContactedAt",
    "createdAt",
    "updatedAt",
}


def test_a_person_s_edits_survive_a_nightly_sync(tmp_path: Path) -> None:
    people(tmp_path, ADA, BOB)
    nightly = pipeline(tmp_path)
    with running_sandbox(api_keys=(KEY,)) as sandbox:
        crmsync(sandbox, "run", str(nightly), "--report-dir", str(tmp_path / "r1"))
        edit(
            sandbox,
            "ada@example.com",
            lifecycleStage="customer",
            leadScore=95,
            title="Countess",
            tags="vip",
        )
        people(tmp_path, ADA.replace("0100", "0199"), BOB)  # only Ada's phone changes
        crmsync(sandbox, "run", str(nightly), "--report-dir", str(tmp_path / "r2"))
        ada = contact(sandbox, "ada@example.com")
    second = summary(tmp_path / "r2")
    assert (second["updated"], second["unchanged"]) == (1, 1)
    assert ada["phone"] == "+14155550199"
    # unmapped fields, and a stage the default must not reset, are as the person left them
    assert (ada["title"], ada["leadScore"], ada["tags"], ada["lifecycleStage"]) == (
        "Countess",
        95,
        "vip",
        "customer",
    )
    changes = rows(tmp_path / "r2" / "plan.csv")
    assert [(c["field"], c["to"], c["why"]) for c in changes] == [
        ("phone", "'+14155550199", "source changed")  # escaped: no formula in a spreadsheet
    ]


@pytest.mark.parametrize(
    ("policy", "kept", "title"),
    [("", "crm", "Countess"), ("sync: {on_conflict: source}", "source", "Engineer")],
    ids=["crm-kept", "source-written"],
)
def test_a_conflict_follows_the_policy_and_is_reported(
    tmp_path: Path, policy: str, kept: str, title: str
) -> None:
    header = HEADER + ",Title"
    (tmp_path / "people.csv").write_text(f"{header}\n{ADA},Analyst\n", encoding="utf-8")
    extra = policy + "\n" if policy else ""
    nightly = tmp_path / "nightly.yaml"
    nightly.write_text(
        PIPELINE.format(extra=_sync(extra)).replace(
            "  phone: Phone\n", "  phone: Phone\n  title: Title\n"
        ),
        encoding="utf-8",
    )
    with running_sandbox(api_keys=(KEY,)) as sandbox:
        crmsync(sandbox, "run", str(nightly), "--report-dir", str(tmp_path / "r1"))
        edit(sandbox, "ada@example.com", title="Countess")
        (tmp_path / "people.csv").write_text(f"{header}\n{ADA},Engineer\n", encoding="utf-8")
        crmsync(sandbox, "run", str(nightly), "--report-dir", str(tmp_path / "r2"))
        assert contact(sandbox, "ada@example.com")["title"] == title
    [conflict] = rows(tmp_path / "r2" / "conflicts.csv")
    assert (conflict["field"], conflict["base"], conflict["crm"], conflict["source"]) == (
        "title",
        "Analyst",
        "Countess",
        "Engineer",
    )
    assert conflict["kept"] == kept and summary(tmp_path / "r2")["conflicts"] == 1


def test_a_blank_in_the_source_never_clears_rally(tmp_path: Path) -> None:
    people(tmp_path, ADA, BOB)
    nightly = pipeline(tmp_path)
    with running_sandbox(api_keys=(KEY,)) as sandbox:
        crmsync(sandbox, "run", str(nightly), "--report-dir", str(tmp_path / "r1"))
        people(tmp_path, "Ada,Lovelace,ada@example.com,,", BOB)  # the phone emptied at the source
        crmsync(sandbox, "run", str(nightly), "--report-dir", str(tmp_path / "r2"))
        assert contact(sandbox, "ada@example.com")["phone"] == "+14155550100"
        cleared = pipeline(tmp_path, "sync: {blank: clear}")
        crmsync(sandbox, "run", str(cleared), "--report-dir", str(tmp_path / "r3"))
        assert contact(sandbox, "ada@example.com")["phone"] is None


def test_create_only_and_update_only_skip_with_a_reason(tmp_path: Path) -> None:
    people(tmp_path, ADA)
    with running_sandbox(api_keys=(KEY,)) as sandbox:
        crmsync(sandbox, "run", str(pipeline(tmp_path)), "--report-dir", str(tmp_path / "r1"))
        people(tmp_path, ADA.replace("0100", "0199"), BOB)
        create_only = pipeline(tmp_path, "load: {mode: create_only}")
        crmsync(sandbox, "run", str(create_only), "--report-dir", str(tmp_path / "r2"))
        assert contact(sandbox, "ada@example.com")["phone"] == "+14155550100"
        people(tmp_path, ADA.replace("0100", "0199"), "Cy,Typo,cy@exmaple.com,,")
        update_only = pipeline(tmp_path, "load: {mode: update_only}")
        crmsync(sandbox, "run", str(update_only), "--report-dir", str(tmp_path / "r3"))
        emails = sorted(r["email"] for r in sandbox.records("contacts", KEY))
    created, updated = summary(tmp_path / "r2"), summary(tmp_path / "r3")
    assert (created["created"], created["skipped"]) == (1, 1)  # Bob new; Ada exists
    assert (updated["updated"], updated["skipped"]) == (1, 1)  # Ada; the typo never created
    assert emails == ["ada@example.com", "bob@example.com"]
    [skipped] = rows(tmp_path / "r3" / "skipped.csv")
    assert skipped["row"] == "3" and "update_only never creates" in skipped["reason"]


def test_the_dry_run_plans_field_for_field_what_the_real_run_does(tmp_path: Path) -> None:
    people(tmp_path, ADA, BOB)
    nightly = pipeline(tmp_path)
    with running_sandbox(api_keys=(KEY,)) as sandbox:
        crmsync(sandbox, "run", str(nightly), "--report-dir", str(tmp_path / "r1"))
        edit(sandbox, "bob@example.com", lifecycleStage="customer", title="Sales")
        people(
            tmp_path,
            ADA.replace("0100", "0199"),
            "Bob,Byte,bob@example.com,415 555 0101,opportunity",
            "Cy,Sea,cy@example.com,,",
        )
        writes = sandbox.write_requests()
        crmsync(sandbox, "run", str(nightly), "--dry-run", "--report-dir", str(tmp_path / "dry"))
        assert sandbox.write_requests() == writes  # read Rally, wrote nothing
        crmsync(sandbox, "run", str(nightly), "--report-dir", str(tmp_path / "real"))

    def changes(folder: str) -> list[tuple[str, ...]]:
        found = rows(tmp_path / folder / "plan.csv")
        return sorted((c["row"], c["field"], c["from"], c["to"], c["why"]) for c in found)

    # the changes to records Rally had, field for field; the dry run also lists the new ones
    planned = changes("dry")
    assert [c for c in planned if c[4] != "new"] == changes("real")
    assert {c[4] for c in changes("real")} >= {"source changed", "conflict kept"}
    assert {c[0] for c in planned if c[4] == "new"} == {"4"}  # Cy, created by the real run
    dry, real = summary(tmp_path / "dry"), summary(tmp_path / "real")
    assert dry["planned"] == real["created"] + real["updated"]
    assert dry["would_update"] == real["updated"] and dry["conflicts"] == real["conflicts"]


def test_undo_puts_the_tenant_back_except_what_people_changed(tmp_path: Path) -> None:
    people(tmp_path, ADA, BOB)
    nightly = pipeline(tmp_path)
    with running_sandbox(api_keys=(KEY,)) as sandbox:
        crmsync(sandbox, "run", str(nightly), "--report-dir", str(tmp_path / "r1"))
        before = {r["email"]: r for r in sandbox.records("contacts", KEY)}
        people(
            tmp_path,
            ADA.replace("0100", "0199"),
            BOB.replace("0101", "0198"),
            "Cy,Sea,cy@example.com,,",
        )
        out = crmsync(sandbox, "run", str(nightly), "--report-dir", str(tmp_path / "r2"))
        run_id = _run_id(sandbox, nightly)
        edit(sandbox, "bob@example.com", phone="+14155550000")  # after the bad run
        crmsync(sandbox, "undo", str(nightly), str(run_id), "--report-dir", str(tmp_path), expect=1)
        after = {r["email"]: r for r in sandbox.records("contacts", KEY)}
        history = crmsync(sandbox, "runs", str(nightly))
    assert "cy@example.com" not in after  # created by the run: deleted
    for field in ("phone", "firstName", "lifecycleStage", "updatedAt"):
        if field != "updatedAt":
            assert after["ada@example.com"][field] == before["ada@example.com"][field]
    assert after["bob@example.com"]["phone"] == "+14155550000"  # a person's edit: left alone
    report = rows(tmp_path / f"undo-{run_id}" / "undo.csv")
    assert sorted(r["result"] for r in report) == ["deleted", "left alone", "restored"]
    assert f"(undo of {run_id})" in history and out


def _run_id(sandbox: SandboxHandle, nightly: Path) -> int:
    listed = json.loads(crmsync(sandbox, "runs", str(nightly), "--json"))
    return int(listed[0]["run_id"])


def test_an_undo_killed_half_way_completes_when_run_again(tmp_path: Path) -> None:
    people(tmp_path, *(f"P{n},Q{n},p{n}@example.com,," for n in range(60)))
    nightly = pipeline(tmp_path)
    env_keys = {"RALLY_API_KEY": KEY}
    with running_sandbox(api_keys=(KEY,), latency_ms=20) as sandbox:
        crmsync(sandbox, "run", str(nightly), "--report-dir", str(tmp_path / "r1"))
        run_id = _run_id(sandbox, nightly)
        env = {**os.environ, "RALLY_BASE_URL": sandbox.base_url, **env_keys}
        undo = subprocess.Popen(
            [sys.executable, "-m", "crmsync", "undo", str(nightly), str(run_id)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while len(sandbox.records("contacts", KEY)) > 40 and time.monotonic() < deadline:
            time.sleep(POLL_S)
        undo.send_signal(signal.SIGKILL)
        undo.wait(timeout=RUN_TIMEOUT_S)
        assert 0 < len(sandbox.records("contacts", KEY)) < 60
        crmsync(sandbox, "undo", str(nightly), str(run_id), "--report-dir", str(tmp_path))
        assert sandbox.records("contacts", KEY) == []
        listed = json.loads(crmsync(sandbox, "runs", str(nightly), "--json"))
    assert [r["status"] for r in listed[:3]] == ["succeeded", "crashed", "succeeded"]


def test_faults_lose_nothing_and_duplicate_nothing_and_undo_still_works(tmp_path: Path) -> None:
    people(tmp_path, *(f"P{n},Q{n},p{n}@example.com,415 555 {n:04d}," for n in range(300)))
    nightly = pipeline(tmp_path, "load: {concurrency: 1, max_concurrency: 1}")
    faults = {"fail_rate": 0.1, "commit_then_fail_rate": 0.05, "rate_limit": 50, "seed": 11}
    with running_sandbox(api_keys=(KEY,), **faults) as sandbox:  # type: ignore[arg-type]
        crmsync(sandbox, "run", str(nightly), "--report-dir", str(tmp_path / "r1"), expect=None)
        crmsync(sandbox, "run", str(nightly), "--report-dir", str(tmp_path / "r2"), expect=None)
        stored = [r["email"] for r in sandbox.records("contacts", KEY)]
        assert sorted(stored) == sorted(f"p{n}@example.com" for n in range(300))
        for n in range(0, 300, 7):
            edit(sandbox, f"p{n}@example.com", title="Edited")
        people(tmp_path, *(f"P{n},Q{n},p{n}@example.com,415 555 {n + 1:04d}," for n in range(300)))
        crmsync(sandbox, "run", str(nightly), "--report-dir", str(tmp_path / "r3"), expect=None)
        titles = {r["email"]: r["title"] for r in sandbox.records("contacts", KEY)}
    assert len(titles) == 300
    assert all(titles[f"p{n}@example.com"] == "Edited" for n in range(0, 300, 7))
    third = summary(tmp_path / "r3")
    assert third["rows_read"] == sum(
        third[o] for o in ("created", "updated", "unchanged", "skipped", "merged", "failed")
    )
