"""PUT /{object}/upsert: contacts by email, companies by domain, both case-insensitively."""

from __future__ import annotations

import httpx
import pytest

from crmsync.sandbox.testing import SandboxHandle, minimal_body


@pytest.mark.parametrize(
    ("name", "first", "second"),
    [
        (
            "contacts",
            minimal_body("contacts", 1, title="VP"),
            minimal_body("contacts", 1, email="SARAH1@EXAMPLE.com", title="CTO"),
        ),
        (
            "companies",
            minimal_body("companies", 1, industry="Tech"),
            minimal_body("companies", 1, domain="Acme1.COM", industry="Software"),
        ),
    ],
    ids=["contact-by-email", "company-by-domain"],
)
def test_created_then_updated(
    api: httpx.Client, sandbox: SandboxHandle, name: str, first: dict, second: dict
) -> None:
    created = api.put(f"/{name}/upsert", json=first)
    assert created.status_code == httpx.codes.CREATED
    assert created.json()["action"] == "created"
    record_id = created.json()["id"]

    updated = api.put(f"/{name}/upsert", json=second)
    assert updated.status_code == httpx.codes.OK
    assert updated.json() == {"action": "updated", "id": record_id}

    records = sandbox.records(name)
    assert [r["id"] for r in records] == [record_id]
    changed = "title" if name == "contacts" else "industry"
    assert records[0][changed] == second[changed]
    assert records[0]["updatedAt"] >= records[0]["createdAt"]


def test_upsert_updates_a_record_made_by_bulk(api: httpx.Client) -> None:
    made = api.post("/contacts/bulk", json=[minimal_body("contacts", 3)]).json()
    answer = api.put("/contacts/upsert", json=minimal_body("contacts", 3, lastName="Wu")).json()
    assert answer == {"action": "updated", "id": made["createdIds"][0]}
    assert api.get(f"/contacts/{answer['id']}").json()["fullName"] == "Sarah Wu"


@pytest.mark.parametrize(
    "body",
    [{"name": "Acme"}, {"name": "Acme", "domain": None}, {"name": "Acme", "domain": "  "}],
    ids=["absent", "null", "blank"],
)
def test_company_upsert_without_domain_is_422(
    api: httpx.Client, sandbox: SandboxHandle, body: dict
) -> None:
    response = api.put("/companies/upsert", json=body)
    assert response.status_code == httpx.codes.UNPROCESSABLE_ENTITY
    assert response.json() == {"error": "domain: required for upsert"}
    assert sandbox.records("companies") == []


def test_invalid_upsert_body_is_422(api: httpx.Client) -> None:
    response = api.put("/contacts/upsert", json=minimal_body("contacts", email="nope"))
    assert response.status_code == httpx.codes.UNPROCESSABLE_ENTITY
    assert response.json()["error"].startswith("email: invalid email address")


def test_activities_have_no_upsert(api: httpx.Client) -> None:
    response = api.put("/activities/upsert", json=minimal_body("activities"))
    assert response.status_code == httpx.codes.NOT_FOUND
    assert "no upsert" in response.json()["error"]


def test_upsert_is_per_tenant(api: httpx.Client, other_api: httpx.Client) -> None:
    mine = api.put("/contacts/upsert", json=minimal_body("contacts", 1)).json()
    theirs = other_api.put("/contacts/upsert", json=minimal_body("contacts", 1)).json()
    assert mine["action"] == theirs["action"] == "created"
    assert mine["id"] != theirs["id"]
