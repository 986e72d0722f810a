"""Change detection and resume (issue 7) with the real CLI against a real sandbox: a load killed
with SIGKILL at random points finishes on the next run with every row once and nothing
acknowledged sent again; an unchanged rerun writes nothing; 10 changed rows of 100,000 send
exactly 10 records; a record deleted in Rally since the last run is created again."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.shipped import LOCAL_STATE

from crmsync.sandbox.testing import INSPECT_HEADERS, SandboxHandle, running_sandbox
from crmsync.schema import MAX_BULK
from crmsync.state import StateDB

pytestmark = pytest.mark.slow  # real servers and the CLI in subprocesses

ROOT = Path(__file__).resolve().parents[2]
KEY = "sync-e2e-secret-5150"
RUN_TIMEOUT_S = 240
POLL_S = 0.02
SETTLE_S = 0.3  # the sandbox finishes requests a killed client left on the wire

KILL_ROWS = 20_000
KILL_LATENCY_MS = 50
KILL_RATE_LIMIT = 40  # requests a second: the 200 bulk requests take about 4 s
KILL_WINDOW_S = 2.5  # the kill lands this long at most after the first write, well before the end
KILL_SEEDS = [1, 2, 3]

BIG_ROWS = 100_000
CHANGED_ROWS = 10
DELETE_ROWS = 40

CONTACT_HEADER = "First Name,Last Name,Email,Title,City,Lead Score"
CONTACTS_PIPELINE = """\
name: sync-e2e
object: contacts
source: {kind: csv, path: contacts.csv}
mapping:
  firstName: First Name
  lastName: Last Name
  email: Email
  title: Title
  city: City
  leadScore: Lead Score
sync: {unreadable: rewrite}  # updates may rewrite what Rally never shows
destination: {base_url: "${RALLY_BASE_URL}", api_key: "${RALLY_API_KEY}"}
state: {path: state/sync.db}
load: {mode: auto, batch_size: 100, concurrency: 4}
report: {dir: reports}
"""
ACTIVITIES_PIPELINE = """\
name: sync-activities-e2e
sync: {unreadable: rewrite}  # updates may rewrite what Rally never shows
destination: {base_url: "${RALLY_BASE_URL}", api_key: "${RALLY_API_KEY}"}
state: {path: state/sync.db}
report: {dir: reports}
steps:
  - name: contacts
    object: contacts
    source: {kind: csv, path: contacts.csv}
    mapping: {firstName: First Name, lastName: Last Name, email: Email, title: Title}
    load: {mode: auto}
  - name: activities
    object: activities
    source_id: Activity ID
    source: {kind: csv, path: activities.csv}
    mapping:
      activityType: Type
      subject: Subject
      contactId:
        lookup: {object: contacts, by: [email: Contact Email]}
    load: {mode: auto}
"""
TITLES = ("Engineer", "Account Executive", "CTO", "Head of Sales")
CITIES = ("Austin", "Zürich", "São Paulo", "Oslo")


# -- helpers -------------------------------------------------------------------------------


def contact_line(n: int, title: str | None = None) -> str:
    title = title or TITLES[n % len(TITLES)]
    return f"Kim,Sync{n},kim.sync{n}@example.com,{title},{CITIES[n % len(CITIES)]},{n % 101}"


def email_of(n: int) -> str:
    return f"kim.sync{n}@example.com"


def write_contacts(folder: Path, rows: int, changed: dict[int, str] | None = None) -> None:
    """`rows` contacts with unique emails; `changed` gives some rows another title."""
    changed = changed or {}
    lines = [CONTACT_HEADER, *(contact_line(n, changed.get(n)) for n in range(rows))]
    (folder / "contacts.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_pipeline(folder: Path, text: str = CONTACTS_PIPELINE) -> Path:
    pipeline = folder / "pipeline.yaml"
    pipeline.write_text(text, encoding="utf-8")
    return pipeline


def env_for(sandbox: SandboxHandle) -> dict[str, str]:
    return {**os.environ, "RALLY_BASE_URL": sandbox.base_url, "RALLY_API_KEY": KEY}


def start_run(pipeline: Path, sandbox: SandboxHandle, report: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "crmsync", "run", str(pipeline), "--report-dir", report],
        env=env_for(sandbox),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run(
    pipeline: Path, sandbox: SandboxHandle, report: Path, expect: int = 0
) -> dict[str, dict[str, Any]]:
    """Run to the end; returns summary.json per step (a single step is under 'main')."""
    done = subprocess.run(
        [sys.executable, "-m", "crmsync", "run", str(pipeline), "--report-dir", str(report)],
        env=env_for(sandbox),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == expect, done.stdout + done.stderr
    assert KEY not in done.stdout + done.stderr
    if (report / "summary.json").exists():
        return {"main": json.loads((report / "summary.json").read_text())}
    return {
        step.name: json.loads((step / "summary.json").read_text())
        for step in report.iterdir()
        if (step / "summary.json").exists()
    }


def assert_counts_add_up(summary: dict[str, Any]) -> None:
    outcomes = ("created", "updated", "unchanged", "skipped", "merged", "failed")
    assert summary["rows_read"] == sum(summary[o] for o in outcomes), summary


def requests_to(sandbox: SandboxHandle, method: str, path: str, status: int | None = None) -> int:
    """Requests the sandbox answered for (method, path template[, status])."""
    return sum(
        row["count"]
        for row in sandbox.stats()["requests"]
        if row["method"] == method
        and row["path"] == path
        and (status is None or row["status"] == status)
    )


def stored_count(sandbox: SandboxHandle, obj: str = "contacts") -> int:
    counts: dict[str, int] = sandbox.stats()["records"]
    return counts.get(obj, 0)


def settled_count(sandbox: SandboxHandle) -> int:
    """The contacts count once requests a killed client left behind are done."""
    before = stored_count(sandbox)
    while True:
        time.sleep(SETTLE_S)
        now = stored_count(sandbox)
        if now == before:
            return now
        before = now


def acknowledged(state_db: Path) -> int:
    """Records whose batch Rally acknowledged and the run made durable before it died."""
    with sqlite3.connect(state_db) as connection:
        (count,) = connection.execute("SELECT count(*) FROM row_hashes").fetchone()
    connection.close()
    return int(count)


def updated_since(sandbox: SandboxHandle, obj: str, since: str) -> list[dict[str, Any]]:
    """Records Rally changed after `since`, read without touching the stats."""
    found: list[dict[str, Any]] = []
    with httpx.Client(base_url=sandbox.base_url) as client:
        while True:
            page = client.get(
                f"/api/v1/{obj}",
                params={"updatedSince": since, "limit": MAX_BULK, "offset": len(found)},
                headers={"X-Api-Key": KEY, **INSPECT_HEADERS},
            )
            page.raise_for_status()
            records: list[dict[str, Any]] = page.json()
            found += records
            if len(records) < MAX_BULK:
                return found


def delete_in_rally(sandbox: SandboxHandle, obj: str, rally_id: str) -> None:
    with httpx.Client(base_url=sandbox.base_url) as client:
        answer = client.delete(f"/api/v1/{obj}/{rally_id}", headers={"X-Api-Key": KEY})
    assert answer.status_code in (200, 204), answer.text


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


# -- 1. kill -9 at random points, then resume ---------------------------------------------


@pytest.mark.parametrize("seed", KILL_SEEDS, ids=[f"seed{s}" for s in KILL_SEEDS])
def test_a_load_killed_at_a_random_point_resumes_with_every_row_once(
    tmp_path: Path, seed: int
) -> None:
    write_contacts(tmp_path, KILL_ROWS)
    pipeline = write_pipeline(tmp_path)
    pause = random.Random(seed).uniform(0, KILL_WINDOW_S)
    with running_sandbox(
        api_keys=(KEY,), latency_ms=KILL_LATENCY_MS, rate_limit=KILL_RATE_LIMIT
    ) as sandbox:
        first = start_run(pipeline, sandbox, str(tmp_path / "r1"))
        while sandbox.write_requests() == 0 and first.poll() is None:
            time.sleep(POLL_S)
        time.sleep(pause)
        first.send_signal(signal.SIGKILL)
        out, err = first.communicate(timeout=RUN_TIMEOUT_S)
        assert first.returncode == -signal.SIGKILL, out + err  # killed mid-load, not finished
        in_rally = settled_count(sandbox)
        durable = acknowledged(tmp_path / "state" / "sync.db")
        assert durable <= in_rally < KILL_ROWS

        summary = run(pipeline, sandbox, tmp_path / "r2")["main"]
        stored = Counter(r["email"] for r in sandbox.records("contacts", KEY))

    assert stored == Counter({email_of(n): 1 for n in range(KILL_ROWS)})
    assert_counts_add_up(summary)
    assert summary["rows_read"] == KILL_ROWS and summary["failed"] == summary["merged"] == 0
    # acknowledged batches are not sent again; what in-flight ones left in Rally is found in
    # Rally's list, merged, and, being what the source says, not written again
    assert durable <= summary["unchanged"] == in_rally
    assert summary["updated"] == 0
    assert summary["created"] == KILL_ROWS - in_rally
    assert summary["created"] + summary["updated"] + summary["unchanged"] == KILL_ROWS
    with StateDB.open(tmp_path / "state" / "sync.db") as state:
        assert [run.status for run in state.runs.latest()] == ["succeeded", "crashed"]


# Runs a pipeline through the library's public entry point with one change to the network:
# right after Rally commits bulk number CRASH_AT, before its answer reaches crmsync, the process
# kills itself. The kill lands exactly between Rally's commit and the run's record of it, the
# window a random kill hits only sometimes.
CRASH_AFTER_COMMIT = """
import os, signal, sys
import httpx
from crmsync.config import load_pipeline
from crmsync.run import run_pipeline

crash_at = int(os.environ["SYNC_E2E_CRASH_AT"])


class DieAfterCommit(httpx.AsyncHTTPTransport):
    bulks = 0

    async def handle_async_request(self, request):
        response = await super().handle_async_request(request)
        if request.method == "POST" and request.url.path.endswith("/bulk"):
            DieAfterCommit.bulks += 1
            if DieAfterCommit.bulks == crash_at:
                os.kill(os.getpid(), signal.SIGKILL)
        return response


run_pipeline(load_pipeline(sys.argv[1]), transport=DieAfterCommit())
"""
CRASH_ROWS = 1_000
CRASH_AT = 4  # batches of 100, one at a time: Rally holds 400 records, the state DB 300
BATCH = 100
SINGLE_STEP = """\
name: crash-e2e
object: {object}
{source_id}
source: {{kind: csv, path: {object}.csv}}
mapping: {mapping}
sync: {{unreadable: rewrite}}
destination: {{base_url: "${{RALLY_BASE_URL}}", api_key: "${{RALLY_API_KEY}}"}}
state: {{path: state/sync.db}}
load: {{mode: auto, batch_size: {batch}, concurrency: 1, max_concurrency: 1}}
report: {{dir: reports}}
"""
CONTACT_MAPPING = "{firstName: First Name, lastName: Last Name, email: Email, title: Title}"
ACTIVITY_MAPPING = "{activityType: Type, subject: Subject}"


@pytest.mark.parametrize(
    ("obj", "source_id", "mapping", "field"),
    [
        pytest.param("contacts", "", CONTACT_MAPPING, "email", id="contacts-by-email"),
        pytest.param(
            "activities",
            "source_id: Activity ID",
            ACTIVITY_MAPPING,
            "subject",
            id="activities-by-source-id",
        ),
        pytest.param(
            "activities",
            "",
            ACTIVITY_MAPPING,
            "subject",
            id="activities-by-content",
        ),
    ],
)
def test_a_batch_rally_committed_but_the_killed_run_never_recorded_is_not_sent_twice(
    tmp_path: Path, obj: str, source_id: str, mapping: str, field: str
) -> None:
    if obj == "contacts":
        write_contacts(tmp_path, CRASH_ROWS)
        expected = Counter(email_of(n) for n in range(CRASH_ROWS))
    else:
        write_activities(tmp_path, rows=CRASH_ROWS)
        expected = Counter(f"Call notes {n}" for n in range(CRASH_ROWS))
    text = SINGLE_STEP.format(object=obj, source_id=source_id, mapping=mapping, batch=BATCH)
    pipeline = write_pipeline(tmp_path, text)
    with running_sandbox(api_keys=(KEY,)) as sandbox:
        env = {**env_for(sandbox), "SYNC_E2E_CRASH_AT": str(CRASH_AT)}
        crashed = subprocess.run(
            [sys.executable, "-c", CRASH_AFTER_COMMIT, str(pipeline)],
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
            check=False,
        )
        assert crashed.returncode == -signal.SIGKILL, crashed.stdout + crashed.stderr
        assert stored_count(sandbox, obj) == CRASH_AT * BATCH
        assert acknowledged(tmp_path / "state" / "sync.db") == (CRASH_AT - 1) * BATCH

        summary = run(pipeline, sandbox, tmp_path / "r2")["main"]
        stored = Counter(record[field] for record in sandbox.records(obj, KEY))

    assert stored == expected
    assert_counts_add_up(summary)
    if obj == "contacts":  # the batch in flight: found in Rally's list, identical: not sent
        assert summary["unchanged"] == CRASH_AT * BATCH
        assert (summary["created"], summary["updated"]) == (CRASH_ROWS - CRASH_AT * BATCH, 0)
    else:  # no key to find it by: matched by content among what Rally stored since the crash
        assert summary["unchanged"] == (CRASH_AT - 1) * BATCH
        assert summary["created"] == CRASH_ROWS - (CRASH_AT - 1) * BATCH


# -- 2. an unchanged rerun writes nothing ---------------------------------------------------


@pytest.mark.parametrize(
    ("pipeline_name", "samples"),
    [("contacts_csv.yaml", ["contacts.csv"]), ("migration.yaml", ["migration"])],
    ids=["contacts-demo", "migration-demo"],
)
def test_an_unchanged_rerun_of_the_demo_sends_zero_write_requests(
    tmp_path: Path, pipeline_name: str, samples: Sequence[str]
) -> None:
    shutil.copytree(ROOT / "pipelines", tmp_path / "pipelines", ignore=LOCAL_STATE)
    for sample in samples:
        source = ROOT / "sample_data" / sample
        target = tmp_path / "sample_data" / sample
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
    pipeline = tmp_path / "pipelines" / pipeline_name
    with running_sandbox(api_keys=(KEY,)) as sandbox:
        first = run(pipeline, sandbox, tmp_path / "r1", expect=1)  # the samples hold bad rows
        writes = sandbox.write_requests()
        records = sandbox.stats()["records"]
        second = run(pipeline, sandbox, tmp_path / "r2", expect=1)
        assert sandbox.write_requests() == writes > 0
        assert sandbox.stats()["records"] == records

    for step, summary in second.items():
        assert_counts_add_up(summary)
        sent = first[step]["created"] + first[step]["updated"]
        assert summary["unchanged"] == sent > 0, step
        assert summary["created"] == summary["updated"] == summary["requests"] == 0, step


# -- 3. ten changed rows of 100,000 ---------------------------------------------------------


def test_ten_changed_rows_of_100000_send_exactly_those_ten_records(tmp_path: Path) -> None:
    write_contacts(tmp_path, BIG_ROWS)
    pipeline = write_pipeline(tmp_path)
    rows = sorted(random.Random(BIG_ROWS).sample(range(BIG_ROWS), CHANGED_ROWS))
    changed = {n: f"Director {n}" for n in rows}
    with running_sandbox(api_keys=(KEY,)) as sandbox:
        first = run(pipeline, sandbox, tmp_path / "r1")["main"]
        assert first["created"] == BIG_ROWS
        writes = sandbox.write_requests()
        lists = requests_to(sandbox, "GET", "/api/v1/contacts")
        upserts = requests_to(sandbox, "PUT", "/api/v1/contacts/upsert")

        write_contacts(tmp_path, BIG_ROWS, changed)
        since = now_iso()
        second = run(pipeline, sandbox, tmp_path / "r2")["main"]
        # each changed record merged into Rally's and written by id. What changed in Rally
        # since the first run is every record that run created (1,001 pages to list): the
        # listing's first page and one look past eleven show it longer than the ten records
        # to update, which are fetched one by one instead (besides the one-record list that
        # checks the key)
        assert sandbox.write_requests() - writes == CHANGED_ROWS
        assert requests_to(sandbox, "PUT", "/api/v1/contacts/upsert") == upserts
        listed = requests_to(sandbox, "GET", "/api/v1/contacts") - lists - 1
        assert listed == 2
        assert requests_to(sandbox, "GET", "/api/v1/contacts/{id}") == CHANGED_ROWS
        assert second["requests"] == listed + 2 * CHANGED_ROWS
        touched = updated_since(sandbox, "contacts", since)
        assert stored_count(sandbox) == BIG_ROWS

    assert {r["email"]: r["title"] for r in touched} == {email_of(n): changed[n] for n in rows}
    assert_counts_add_up(second)
    assert second["updated"] == CHANGED_ROWS
    assert second["unchanged"] == BIG_ROWS - CHANGED_ROWS
    assert second["created"] == second["failed"] == 0


# -- 4. deleted in Rally since the last run -------------------------------------------------


def test_a_contact_deleted_in_rally_whose_row_changed_is_created_again(tmp_path: Path) -> None:
    write_contacts(tmp_path, DELETE_ROWS)
    pipeline = write_pipeline(tmp_path)
    victim = DELETE_ROWS // 2
    with running_sandbox(api_keys=(KEY,)) as sandbox:
        run(pipeline, sandbox, tmp_path / "r1")
        by_email = {r["email"]: r for r in sandbox.records("contacts", KEY)}
        delete_in_rally(sandbox, "contacts", by_email[email_of(victim)]["id"])
        write_contacts(tmp_path, DELETE_ROWS, {victim: "Returning Customer"})
        writes = sandbox.write_requests()
        second = run(pipeline, sandbox, tmp_path / "r2")["main"]
        # the merged write by id answers 404; the record is created again in one bulk
        assert sandbox.write_requests() - writes == 2
        stored = sandbox.records("contacts", KEY)

    assert Counter(r["email"] for r in stored) == Counter(email_of(n) for n in range(DELETE_ROWS))
    again = next(r for r in stored if r["email"] == email_of(victim))
    assert again["title"] == "Returning Customer"
    assert again["id"] != by_email[email_of(victim)]["id"]
    assert_counts_add_up(second)
    assert (second["created"], second["updated"]) == (1, 0)
    assert second["unchanged"] == DELETE_ROWS - 1


def write_activities(
    folder: Path, subjects: dict[int, str] | None = None, rows: int = DELETE_ROWS
) -> None:
    """Notes on the contacts of write_contacts; `subjects` gives some rows another subject."""
    subjects = subjects or {}
    lines = ["Activity ID,Type,Subject,Contact Email"]
    lines += [f"A-{n},note,{subjects.get(n, f'Call notes {n}')},{email_of(n)}" for n in range(rows)]
    (folder / "activities.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_an_activity_deleted_in_rally_whose_row_changed_is_created_again_once(
    tmp_path: Path,
) -> None:
    write_contacts(tmp_path, DELETE_ROWS)
    write_activities(tmp_path)
    pipeline = write_pipeline(tmp_path, ACTIVITIES_PIPELINE)
    victim = DELETE_ROWS // 3
    with running_sandbox(api_keys=(KEY,)) as sandbox:
        first = run(pipeline, sandbox, tmp_path / "r1")
        assert first["activities"]["created"] == DELETE_ROWS
        contacts = {r["id"]: r["email"] for r in sandbox.records("contacts", KEY)}
        activities = {r["subject"]: r for r in sandbox.records("activities", KEY)}
        gone = activities[f"Call notes {victim}"]
        delete_in_rally(sandbox, "activities", gone["id"])
        write_activities(tmp_path, {victim: "Call notes (corrected)"})
        writes = sandbox.write_requests()
        second = run(pipeline, sandbox, tmp_path / "r2")
        # PUT by the stored id answers 404, then one bulk create: nothing else is written
        assert requests_to(sandbox, "PUT", "/api/v1/activities/{id}", 404) == 1
        assert sandbox.write_requests() - writes == 2
        stored = sandbox.records("activities", KEY)

    subjects = Counter(r["subject"] for r in stored)
    expected = Counter(f"Call notes {n}" for n in range(DELETE_ROWS) if n != victim)
    assert subjects == expected + Counter({"Call notes (corrected)": 1})
    again = next(r for r in stored if r["subject"] == "Call notes (corrected)")
    assert contacts[again["contactId"]] == email_of(victim)
    for summary in second.values():
        assert_counts_add_up(summary)
    assert second["contacts"]["unchanged"] == DELETE_ROWS
    assert (second["activities"]["created"], second["activities"]["updated"]) == (1, 0)
    assert second["activities"]["unchanged"] == DELETE_ROWS - 1
