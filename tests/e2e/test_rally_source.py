"""Rally as a source: the rally_to_rally preset copies one sandbox tenant into another through
the real CLI, links translated to the destination's ids, and later runs read only what
changed in the source."""

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
SOURCE_KEY = "source-tenant-key"
DEST_KEY = "destination-tenant-key"
STEPS = ("companies", "contacts", "activities")


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with running_sandbox(api_keys=(DEST_KEY, SOURCE_KEY)) as handle:
        yield handle


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "pipelines", tmp_path / "pipelines", ignore=LOCAL_STATE)
    return tmp_path


def seed(base_url: str) -> dict[str, str]:
    """A small tenant: companies with and without a domain, linked and unlinked contacts,
    activities on contacts and on companies. Returns source ids by a readable name."""
    ids: dict[str, str] = {}
    with httpx.Client(base_url=f"{base_url}/api/v1", headers={"X-Api-Key": SOURCE_KEY}) as api:

        def post(obj: str, name: str, body: dict[str, Any]) -> None:
            response = api.post(f"/{obj}", json=body)
            assert response.status_code == httpx.codes.CREATED, response.text
            ids[name] = response.json()["id"]

        post("companies", "acme", {"name": "Acme GmbH", "domain": "acme.de", "tags": ["eu"]})
        post("companies", "nodomain", {"name": "Müller & Söhne"})
        post(
            "contacts",
            "ada",
            {
                "firstName": "Ada",
                "lastName": "Lovelace",
                "email": "ada@acme.de",
                "companyId": ids["acme"],
                "leadScore": 40,
                "tags": "vip, eu",
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
        post(
            "contacts",
            "grace",
            {"firstName": "Grace", "lastName": "Hopper", "email": "grace@navy.mil"},
        )
        post(
            "activities",
            "call",
            {
                "activityType": "call",
                "subject": "Intro",
                "callDirection": "outbound",
                "contactId": ids["ada"],
                "companyId": ids["acme"],
            },
        )
        post(
            "activities",
            "note",
            {
                "activityType": "note",
                "subject": "Kick-off",
                "body": "hello",
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
                "contactId": ids["grace"],
            },
        )
    return ids


def run(workdir: Path, base_url: str, *args: str, source_key: str = SOURCE_KEY) -> Any:
    env = {
        **os.environ,
        "SOURCE_RALLY_BASE_URL": base_url,
        "SOURCE_RALLY_API_KEY": source_key,
        "RALLY_BASE_URL": base_url,
        "RALLY_API_KEY": DEST_KEY,
    }
    pipeline = workdir / "pipelines" / "rally_to_rally.yaml"
    return subprocess.run(
        [sys.executable, "-m", "crmsync", "run", str(pipeline), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def summaries(workdir: Path) -> dict[str, dict[str, Any]]:
    folder = workdir / "reports" / "rally_to_rally"
    return {step: json.loads((folder / step / "summary.json").read_text()) for step in STEPS}


def by_id(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {record["id"]: record for record in records}


def test_a_tenant_is_copied_linked_then_synced_incrementally(
    sandbox: SandboxHandle, workdir: Path
) -> None:
    ids = seed(sandbox.base_url)
    first = run(workdir, sandbox.base_url)
    assert first.returncode == 0, first.stdout + first.stderr
    assert {step: s["created"] for step, s in summaries(workdir).items()} == {
        "companies": 2,
        "contacts": 3,
        "activities": 3,
    }

    source = {obj: by_id(sandbox.records(obj, SOURCE_KEY)) for obj in STEPS}
    copied = {obj: by_id(sandbox.records(obj, DEST_KEY)) for obj in STEPS}
    assert {obj: len(records) for obj, records in copied.items()} == {
        "companies": 2,
        "contacts": 3,
        "activities": 3,
    }
    assert not set(copied["contacts"]) & set(source["contacts"])  # new ids, another tenant
    company_name = {cid: c["name"] for cid, c in copied["companies"].items()}
    contact_email = {cid: c["email"] for cid, c in copied["contacts"].items()}
    assert {c["email"]: company_name.get(c["companyId"]) for c in copied["contacts"].values()} == {
        "ada@acme.de": "Acme GmbH",
        "jose@muller.example": "Müller & Söhne",
        "grace@navy.mil": None,
    }
    ada = next(c for c in copied["contacts"].values() if c["email"] == "ada@acme.de")
    assert (ada["leadScore"], ada["tags"], ada["fullName"]) == (40, "vip,eu", "Ada Lovelace")
    links = {
        a["subject"]: (contact_email.get(a["contactId"]), company_name.get(a["companyId"]))
        for a in copied["activities"].values()
    }
    assert links == {
        "Intro": ("ada@acme.de", "Acme GmbH"),
        "Kick-off": (None, "Müller & Söhne"),
        "Follow up": ("grace@navy.mil", None),
    }

    writes = sandbox.write_requests()
    again = run(workdir, sandbox.base_url)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "updated since" in again.stdout
    assert sandbox.write_requests() == writes  # nothing changed: nothing sent

    with httpx.Client(base_url=f"{sandbox.base_url}/api/v1") as api:
        changed = api.put(
            f"/contacts/{ids['jose']}",  # a full update, as Rally's PUT is
            json={
                "firstName": "José",
                "lastName": "Núñez",
                "email": "jose@muller.example",
                "companyId": ids["nodomain"],
                "title": "CEO",
            },
            headers={"X-Api-Key": SOURCE_KEY},
        )
    assert changed.status_code == httpx.codes.OK, changed.text
    third = run(workdir, sandbox.base_url)
    assert third.returncode == 0, third.stdout + third.stderr
    contacts = summaries(workdir)["contacts"]
    # all were updated within the watermark's 5-minute overlap, so all are read again; only
    # the changed one is sent
    assert (contacts["updated"], contacts["unchanged"]) == (1, 2)
    assert sandbox.write_requests() == writes + 2  # our PUT to the source, then one upsert
    jose = next(c for c in sandbox.records("contacts", DEST_KEY) if c["email"].startswith("jose"))
    assert jose["title"] == "CEO" and company_name[jose["companyId"]] == "Müller & Söhne"


def test_a_refused_source_key_stops_with_exit_2_and_never_shows_it(
    sandbox: SandboxHandle, workdir: Path
) -> None:
    done = run(workdir, sandbox.base_url, source_key="not-a-key-of-this-sandbox")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "refused" in done.stderr.lower() or "401" in done.stderr
    assert "Traceback" not in done.stderr
    assert "not-a-key-of-this-sandbox" not in done.stdout + done.stderr
    assert sandbox.write_requests() == 0
