"""Exports, end to end: a seeded sandbox tenant exported to files by the real CLI
(pipelines/rally_export.yaml), the files imported into an empty second sandbox
(pipelines/rally_import.yaml), and the two tenants compared through the API: every field
Rally returns, references resolved to the records they point at."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.shipped import LOCAL_STATE

from crmsync.sandbox.testing import SandboxHandle, running_sandbox

pytestmark = pytest.mark.slow  # real servers and the CLI in subprocesses

ROOT = Path(__file__).resolve().parents[2]
SOURCE_KEY = "export-source-key"
DEST_KEY = "import-destination-key"
OBJECTS = ("companies", "contacts", "activities")
OWNER = "0b6f1d3e-8a52-4c1e-9d7a-3f1e2b4c5d6e"
DEAL = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
# What Rally sets itself: another tenant's ids and times, never written by an import.
SERVER_SET = {"id", "tenantId", "createdAt", "updatedAt", "completedAt"}
REFERENCES = {"companyId": "companies", "contactId": "contacts"}


@pytest.fixture
def tenants() -> Iterator[tuple[SandboxHandle, SandboxHandle]]:
    with (
        running_sandbox(api_keys=(SOURCE_KEY,)) as source,
        running_sandbox(api_keys=(DEST_KEY,)) as destination,
    ):
        yield source, destination


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "pipelines", tmp_path / "pipelines", ignore=LOCAL_STATE)
    return tmp_path


def seed(base_url: str) -> dict[str, str]:
    """Every writable field Rally returns, set on at least one record; references between
    them. Phones are in E.164, as crmsync writes them (an export normalizes like any step).
    Returns the ids by a readable name."""
    ids: dict[str, str] = {}
    with httpx.Client(base_url=f"{base_url}/api/v1", headers={"X-Api-Key": SOURCE_KEY}) as api:

        def post(obj: str, name: str, body: dict[str, Any]) -> None:
            response = api.post(f"/{obj}", json=body)
            assert response.status_code == httpx.codes.CREATED, response.text
            ids[name] = response.json()["id"]

        post(
            "companies",
            "acme",
            {
                "name": "Acme GmbH",
                "domain": "acme.de",
                "industry": "Manufacturing",
                "description": "Makes anvils",
                "employeeCount": 250,
                "annualRevenue": 45000000.5,
                "phone": "+49301234567",
                "website": "https://acme.de",
                "linkedInUrl": "https://www.linkedin.com/company/acme",
                "address": "Hauptstraße 1",
                "city": "Berlin",
                "state": "BE",
                "postalCode": "10115",
                "country": "DE",
                "tags": ["eu", "key account"],
                "notes": "since 2019",
                "ownerId": OWNER,
            },
        )
        post("companies", "nodomain", {"name": "Müller & Söhne"})
        post(
            "contacts",
            "ada",
            {
                "firstName": "Ada",
                "lastName": "Lovelace",
                "email": "ada@acme.de",
                "phone": "+49307654321",
                "mobile": "+491512345678",
                "title": "CTO",
                "department": "R&D",
                "companyId": ids["acme"],
                "lifecycleStage": "customer",
                "leadSource": "referral",
                "leadScore": 40,
                "tags": "vip,eu",
                "ownerId": OWNER,
            },
        )
        post(
            "contacts",
            "jose",
            {
                "firstName": "José",
                "lastName": "Núñez",
                "email": "jose@muller.example",
                "companyId": ids["nodomain"],
            },
        )
        post("contacts", "grace", {"firstName": "Grace", "lastName": "Hopper", "email": "g@n.mil"})
        post(
            "activities",
            "call",
            {
                "activityType": "call",
                "subject": "Intro",
                "body": "first call",
                "callDirection": "outbound",
                "callOutcome": "connected",
                "callDurationSeconds": 300,
                "priority": "high",
                "status": "completed",
                "contactId": ids["ada"],
                "companyId": ids["acme"],
                "dealId": DEAL,
                "ownerId": OWNER,
            },
        )
        post(
            "activities",
            "meeting",
            {
                "activityType": "meeting",
                "subject": "Kick-off",
                "scheduledAt": "2026-11-02T10:00:00Z",
                "durationMinutes": 45,
                "location": "Berlin",
                "meetingUrl": "https://meet.example/acme",
                "companyId": ids["nodomain"],
            },
        )
        post(
            "activities",
            "task",
            {
                "activityType": "task",
                "subject": "Follow up",
                "dueDate": "2026-12-01T09:00:00Z",
                "status": "pending",
                "priority": "urgent",
                "contactId": ids["grace"],
            },
        )
    return ids


def crmsync(pipeline: str, workdir: Path, env: dict[str, str], *args: str) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "crmsync", "run", str(workdir / "pipelines" / pipeline), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )


def export(workdir: Path, source: SandboxHandle, *args: str) -> Any:
    env = {"SOURCE_RALLY_BASE_URL": source.base_url, "SOURCE_RALLY_API_KEY": SOURCE_KEY}
    return crmsync("rally_export.yaml", workdir, env, *args)


def import_(workdir: Path, destination: SandboxHandle, folder: Path) -> Any:
    env = {
        "RALLY_BASE_URL": destination.base_url,
        "RALLY_API_KEY": DEST_KEY,
        "EXPORT_DIR": str(folder),
    }
    return crmsync("rally_import.yaml", workdir, env)


def comparable(handle: SandboxHandle, key: str) -> dict[str, dict[str, Any]]:
    """Per object, the records by a natural name, without what Rally sets itself, each
    reference replaced by the name of the record it points at."""
    records = {obj: handle.records(obj, key) for obj in OBJECTS}
    names = {
        "companies": {r["id"]: r["name"] for r in records["companies"]},
        "contacts": {r["id"]: r["email"] for r in records["contacts"]},
    }
    out: dict[str, dict[str, Any]] = {}
    for obj, natural in (("companies", "name"), ("contacts", "email"), ("activities", "subject")):
        out[obj] = {}
        for record in records[obj]:
            kept = {k: v for k, v in record.items() if k not in SERVER_SET}
            for field, target in REFERENCES.items():
                if kept.get(field) is not None:
                    kept[field] = names[target][kept[field]]
            out[obj][record[natural]] = kept
    return out


def test_a_tenant_exported_and_imported_into_an_empty_one_is_the_same_run_after_run(
    tenants: tuple[SandboxHandle, SandboxHandle], workdir: Path
) -> None:
    source, destination = tenants
    ids = seed(source.base_url)
    exported = export(workdir, source)
    assert exported.returncode == 0, exported.stdout + exported.stderr
    folder = workdir / "exports" / "rally" / "run-1"
    assert sorted(p.name for p in folder.iterdir()) == [
        "activities.ndjson",
        "companies.ndjson",
        "contacts.ndjson",
    ]
    contacts = [json.loads(line) for line in (folder / "contacts.ndjson").read_text().splitlines()]
    source_ids = {r["id"] for r in source.records("companies", SOURCE_KEY)}
    assert {c["companyId"] for c in contacts} - {None} <= source_ids  # the source's own ids
    summary = json.loads((workdir / "reports/rally_export/contacts/summary.json").read_text())
    assert (summary["rows_read"], summary["created"]) == (3, 3)

    imported = import_(workdir, destination, folder)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    copied, original = comparable(destination, DEST_KEY), comparable(source, SOURCE_KEY)
    assert copied == original
    acme = original["companies"]["Acme GmbH"]
    assert (acme["tags"], acme["annualRevenue"]) == (["eu", "key account"], 45000000.5)
    assert original["activities"]["Intro"]["contactId"] == "ada@acme.de"
    assert source.write_requests() == 8  # only the seed: an export never writes to its source

    # an incremental export: a folder of its own, imported on top of the first
    with httpx.Client(base_url=f"{source.base_url}/api/v1") as api:
        changed = api.put(
            f"/contacts/{ids['grace']}",
            json={"firstName": "Grace", "lastName": "Hopper", "email": "g@n.mil", "title": "RADM"},
            headers={"X-Api-Key": SOURCE_KEY},
        )
    assert changed.status_code == httpx.codes.OK, changed.text
    first_file = (folder / "contacts.ndjson").read_bytes()
    again = export(workdir, source)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "updated since" in again.stdout
    second = workdir / "exports/rally/run-2"
    assert (second / "contacts.ndjson").exists()
    assert (folder / "contacts.ndjson").read_bytes() == first_file  # the first run's kept
    imported = import_(workdir, destination, second)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    contacts_import = json.loads(
        (workdir / "reports/rally_import/contacts/summary.json").read_text()
    )
    assert contacts_import["updated"] == 1
    assert comparable(destination, DEST_KEY) == comparable(source, SOURCE_KEY)
