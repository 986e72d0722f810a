"""A whole migration (companies -> contacts -> activities) through the real CLI into a sandbox:
links checked through the sandbox's API, a re-run creating nothing twice."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from tests.shipped import LOCAL_STATE

from crmsync.sandbox.testing import SandboxHandle, running_sandbox
from crmsync.state import StateDB

pytestmark = pytest.mark.slow  # real servers and the CLI in subprocesses

ROOT = Path(__file__).resolve().parents[2]
KEY = "migration-key"
FREE_MAIL = {"gmail.com", "outlook.com", "yahoo.com"}


def run(workdir: Path, base_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RALLY_BASE_URL": base_url, "RALLY_API_KEY": KEY}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "crmsync",
            "run",
            str(workdir / "pipelines" / "migration.yaml"),
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A copy of the pipeline and its samples, so state and reports stay in tmp_path."""
    shutil.copytree(ROOT / "pipelines", tmp_path / "pipelines", ignore=LOCAL_STATE)
    shutil.copytree(ROOT / "sample_data" / "migration", tmp_path / "sample_data" / "migration")
    return tmp_path


def snapshot(sandbox: SandboxHandle) -> dict[str, list[dict[str, object]]]:
    return {obj: sandbox.records(obj, KEY) for obj in ("companies", "contacts", "activities")}


def test_migration_links_everything_and_reruns_without_duplicates(workdir: Path) -> None:
    with running_sandbox(api_keys=(KEY,)) as sandbox:
        first = run(workdir, sandbox.base_url)
        assert first.returncode == 1, first.stdout + first.stderr  # the samples hold bad rows
        data = snapshot(sandbox)

        companies = {c["domain"]: c for c in data["companies"] if c["domain"]}
        assert len(companies) == len([c for c in data["companies"] if c["domain"]])  # no dup domain
        contacts = {c["email"]: c for c in data["contacts"]}
        assert len(contacts) == len(data["contacts"])

        # contacts linked to their company: by website, else by a non-free-mail email domain
        company_by_id = {c["id"]: c for c in data["companies"]}
        for person in rows(workdir / "sample_data" / "migration" / "contacts.csv"):
            record = contacts.get(person["Email"].strip().lower())
            if record is None:
                continue
            domain = person["Email"].split("@")[-1].lower()
            if domain in companies:
                assert record["companyId"] == companies[domain]["id"], person
            elif person["Company"] and record["companyId"]:
                assert (
                    company_by_id[record["companyId"]]["name"].lower() == person["Company"].lower()
                )
        bakery = contacts["rosie.baker@gmail.com"]
        assert company_by_id[bakery["companyId"]]["name"] == "Corner Bakery Co-op"  # by name

        # every activity points at the right contact, found through the id map
        with StateDB.open(workdir / ".crmsync" / "migration.db") as state:
            scope = f"{sandbox.base_url}#{hashlib.sha256(KEY.encode()).hexdigest()[:12]}"
            activity_ids = state.ids.get(f"{scope}/activities", "source_id")
        activities = {a["id"]: a for a in data["activities"]}
        contact_by_id = {c["id"]: c for c in data["contacts"]}
        source = {
            a["Activity ID"]: a
            for a in rows(workdir / "sample_data" / "migration" / "activities.csv")
        }
        assert activity_ids and set(activity_ids.values()) == set(activities)
        for source_id, rally_id in activity_ids.items():
            activity = activities[rally_id]
            assert (
                contact_by_id[activity["contactId"]]["email"]
                == source[source_id]["Contact Email"].lower()
            )
            assert activity["activityType"] == source[source_id]["Type"]

        # unresolvable references are reported with stage resolve and the value
        reports = workdir / "reports" / "migration"
        contact_errors = rows(reports / "contacts" / "errors.csv")
        resolve = [r for r in contact_errors if r["stage"] == "resolve"]
        assert {r["Email"] for r in resolve} == {
            "nina.ghost@gmail.com",
            "otto@nosuchcompany.com",
        }
        assert any("phantomholdings" in r["error"] or "Phantom" in r["error"] for r in resolve)
        activity_errors = rows(reports / "activities" / "errors.csv")
        assert {r["Activity ID"] for r in activity_errors if r["stage"] == "resolve"} >= {"A-9001"}
        for step in ("companies", "contacts", "activities"):
            s = json.loads((reports / step / "summary.json").read_text())
            assert (
                s["rows_read"]
                == s["created"] + s["updated"] + s["unchanged"] + s["merged"] + s["failed"]
            )

        # a second run creates nothing new
        second = run(workdir, sandbox.base_url)
        assert second.returncode == 1, second.stdout + second.stderr
        again = snapshot(sandbox)
        for obj in data:
            assert Counter(r["id"] for r in again[obj]) == Counter(r["id"] for r in data[obj]), obj
        s = json.loads((reports / "activities" / "summary.json").read_text())
        assert s["created"] == 0 and s["unchanged"] == len(activity_ids)


def test_step_that_cannot_start_stops_the_run_before_any_step_writes(workdir: Path) -> None:
    pipeline = workdir / "pipelines" / "migration.yaml"
    pipeline.write_text(pipeline.read_text().replace("Contact Email", "Contact Mailbox"))
    with running_sandbox(api_keys=(KEY,)) as sandbox:
        done = run(workdir, sandbox.base_url)
        assert done.returncode == 2
        assert "'Contact Mailbox' is not in the file" in done.stderr
        assert sandbox.write_requests() == 0  # the steps before it did not start either
        assert sandbox.records("companies", KEY) == []


def test_state_of_one_destination_never_skips_records_in_another(workdir: Path) -> None:
    """Rehearse against one sandbox, then run against another: nothing is skipped there."""
    with running_sandbox(api_keys=(KEY,)) as rehearsal:
        run(workdir, rehearsal.base_url)
        rehearsed = snapshot(rehearsal)
    with running_sandbox(api_keys=(KEY,)) as production:
        done = run(workdir, production.base_url)
        assert done.returncode == 1, done.stdout + done.stderr
        real = snapshot(production)
    for obj in rehearsed:
        assert len(real[obj]) == len(rehearsed[obj]) > 0, obj
