"""Redmine CRM sandbox -> the redmine_to_rally preset -> Rally sandbox, checked through both
APIs: every Redmine record arrived once, linked, and the counts add up."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.shipped import LOCAL_STATE

from crmsync.sandbox.testing import running_redmine, running_sandbox
from crmsync.transform.keys import name_key

pytestmark = pytest.mark.slow  # real servers and the CLI in subprocesses

ROOT = Path(__file__).resolve().parents[2]
KEY = "rally-key"
STEPS = ("companies", "contacts", "notes-on-contacts", "notes-on-companies")


def redmine_contacts(base_url: str, key: str) -> list[dict[str, Any]]:
    """Every Redmine contact with its notes, read through Redmine's own API."""
    headers = {"X-Redmine-API-Key": key}
    out: list[dict[str, Any]] = []
    with httpx.Client(base_url=base_url, headers=headers, timeout=10) as client:
        offset = 0
        while True:
            page = client.get(
                "/contacts.json", params={"sort": "id", "offset": offset, "limit": 100}
            )
            contacts = page.json()["contacts"]
            out += contacts
            if len(contacts) < 100:
                break
            offset += 100
        for contact in out:
            shown = client.get(f"/contacts/{contact['id']}.json", params={"include": "notes"})
            contact["notes"] = shown.json()["contact"].get("notes", [])
    return out


def key_of(name: str) -> str:
    import polars as pl

    return pl.DataFrame({"n": [name]}).select(name_key(pl.col("n")))["n"][0]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "pipelines", tmp_path / "pipelines", ignore=LOCAL_STATE)
    return tmp_path


def run(
    workdir: Path, rally: str, redmine: str, redmine_key: str, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "RALLY_BASE_URL": rally,
        "RALLY_API_KEY": KEY,
        "REDMINE_URL": redmine,
        "REDMINE_API_KEY": redmine_key,
    }
    pipeline = workdir / "pipelines" / "redmine_to_rally.yaml"
    return subprocess.run(
        [sys.executable, "-m", "crmsync", "run", str(pipeline), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )


def test_redmine_migrates_once_and_linked(workdir: Path) -> None:
    with running_redmine() as redmine, running_sandbox(api_keys=(KEY,)) as rally:
        first = run(workdir, rally.base_url, redmine.base_url, redmine.api_key)
        assert first.returncode == 1, first.stdout + first.stderr  # two people have no email
        source = redmine_contacts(redmine.base_url, redmine.api_key)
        data = {obj: rally.records(obj, KEY) for obj in ("companies", "contacts", "activities")}

        companies = [c for c in source if c["is_company"]]
        people = [c for c in source if not c["is_company"]]
        with_email = [p for p in people if p.get("emails")]
        notes = [(c, n) for c in source for n in c["notes"]]
        assert len(data["companies"]) == len(companies)
        assert len(data["contacts"]) == len(with_email)
        assert len(data["activities"]) == len(notes)

        # each arrived once
        rally_names = Counter(key_of(c["name"]) for c in data["companies"])
        assert all(rally_names[key_of(c["first_name"])] == 1 for c in companies)
        rally_contacts = {c["email"]: c for c in data["contacts"]}
        company_by_id = {c["id"]: c for c in data["companies"]}
        for person in with_email:
            contact = rally_contacts[person["emails"][0]["address"].lower()]
            assert contact["lastName"] == person["last_name"]
            wanted = key_of(person.get("company") or "")
            known = {key_of(c["first_name"]) for c in companies}
            if wanted in known:  # linked to its company, also when the company came later
                assert key_of(company_by_id[contact["companyId"]]["name"]) == wanted
            else:
                assert contact["companyId"] is None

        # every note became one activity, on the right record, with author and date kept
        by_note = {}
        for activity in data["activities"]:
            found = re.search(r"\(Redmine note (\d+)\)", activity["body"] or "")
            assert found, activity
            by_note[int(found.group(1))] = activity
        contact_by_id = {c["id"]: c for c in data["contacts"]}
        kinds = {None: "note", 0: "note", 1: "call", 2: "meeting"}
        for owner, note in notes:
            activity = by_note[note["id"]]
            assert activity["activityType"] == kinds[note.get("type_id")]
            assert note["author"]["name"] in activity["body"]
            if owner["is_company"]:
                assert key_of(company_by_id[activity["companyId"]]["name"]) == key_of(
                    owner["first_name"]
                )
            else:
                assert (
                    contact_by_id[activity["contactId"]]["email"]
                    == owner["emails"][0]["address"].lower()
                )

        reports = workdir / "reports" / "redmine-to-rally"
        for step in STEPS:
            s = json.loads((reports / step / "summary.json").read_text())
            assert (
                s["rows_read"]
                == s["created"] + s["updated"] + s["unchanged"] + s["merged"] + s["failed"]
            )
        failed = json.loads((reports / "contacts" / "summary.json").read_text())
        assert failed["failed"] == len(people) - len(with_email)

        # the second run reads only what changed in Redmine since (nothing) and sends nothing
        writes = rally.write_requests()
        second = run(workdir, rally.base_url, redmine.base_url, redmine.api_key)
        assert second.returncode == 0, second.stdout + second.stderr
        assert "updated since" in second.stdout
        for step, total in (("companies", len(companies)), ("contacts", len(people))):
            s = json.loads((reports / step / "summary.json").read_text())
            # only records inside the watermark's clock-skew overlap are read again
            assert s["rows_read"] < total
            assert s["created"] == s["updated"] == s["failed"] == 0
        notes_summary = json.loads((reports / "notes-on-contacts" / "summary.json").read_text())
        assert notes_summary["unchanged"] == notes_summary["rows_read"] > 0
        assert rally.write_requests() == writes

        # --full reads everything again and compares every record with what Rally holds
        # (ignoring the stored hashes); Rally already says what the sources say: no write
        full = run(workdir, rally.base_url, redmine.base_url, redmine.api_key, "--full")
        assert full.returncode == 1, full.stdout + full.stderr  # the people without email again
        assert rally.write_requests() == writes
        again = {obj: rally.records(obj, KEY) for obj in data}
        for obj in data:
            assert sorted(r["id"] for r in again[obj]) == sorted(r["id"] for r in data[obj])


def test_refused_redmine_key_exits_2(workdir: Path) -> None:
    with running_redmine() as redmine, running_sandbox(api_keys=(KEY,)) as rally:
        done = run(workdir, rally.base_url, redmine.base_url, "wrong-redmine-key")
        assert rally.write_requests() == 0
    assert done.returncode == 2
    assert "wrong-redmine-key" not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
