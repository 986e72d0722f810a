"""Single-record endpoints: create, get, replace, delete, in the documents' response shapes."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import httpx
import pytest

from crmsync.sandbox.testing import minimal_body
from crmsync.schema import OBJECTS

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def contact(n: int = 0, **overrides: Any) -> dict[str, Any]:
    return minimal_body("contacts", n, **overrides)


def company(n: int = 0, **overrides: Any) -> dict[str, Any]:
    return minimal_body("companies", n, **overrides)


def activity(**overrides: Any) -> dict[str, Any]:
    return minimal_body("activities", **overrides)


def response_fields(name: str) -> set[str]:
    model = OBJECTS[name].response
    return {info.alias or field for field, info in model.model_fields.items()}


@pytest.mark.parametrize("name", list(OBJECTS), ids=list(OBJECTS))
def test_create_answers_201_with_every_response_field(api: httpx.Client, name: str) -> None:
    response = api.post(f"/{name}", json=minimal_body(name))
    assert response.status_code == httpx.codes.CREATED
    body = response.json()
    assert set(body) == response_fields(name)
    assert GUID.match(body["id"]) and GUID.match(body["tenantId"])
    assert TIMESTAMP.match(body["createdAt"]) and body["createdAt"] == body["updatedAt"]
    assert api.get(f"/{name}/{body['id']}").json() == body


def test_contact_defaults_and_full_name(api: httpx.Client) -> None:
    body = api.post("/contacts", json=contact(1, firstName="Ada", lastName="Lovelace")).json()
    assert body["fullName"] == "Ada Lovelace"
    assert body["lifecycleStage"] == "lead"
    assert body["isUnsubscribed"] is False
    assert body["lastContactedAt"] is None


def test_company_keeps_tags_list_and_revenue(api: httpx.Client) -> None:
    sent = company(1, tags=["enterprise", "tech"], annualRevenue=45000000, employeeCount=250)
    body = api.post("/companies", json=sent).json()
    assert body["tags"] == ["enterprise", "tech"]
    assert body["annualRevenue"] == 45000000
    assert body["employeeCount"] == 250


def test_tenant_id_is_the_same_for_every_record_of_a_key(api: httpx.Client) -> None:
    first = api.post("/contacts", json=contact(1)).json()
    second = api.post("/companies", json=company(1)).json()
    assert first["tenantId"] == second["tenantId"]


@pytest.mark.parametrize(
    ("status", "completed"),
    [("pending", False), ("completed", True)],
    ids=["pending", "completed"],
)
def test_activity_status_sets_completed_at(api: httpx.Client, status: str, completed: bool) -> None:
    body = api.post("/activities", json=activity(status=status)).json()
    assert body["status"] == status
    assert (body["completedAt"] is not None) is completed


def test_a_time_before_the_year_1000_is_listed_back_as_written(api: httpx.Client) -> None:
    """Written with four digits of year: the year 1 as "1" made every later list a 500."""
    created = api.post("/activities", json=activity(scheduledAt="0001-02-24T00:00:00Z"))
    assert created.status_code == 201, created.text
    assert created.json()["scheduledAt"] == "0001-02-24T00:00:00.000Z"
    listed = api.get("/activities")
    assert listed.status_code == 200, listed.text
    assert [a["scheduledAt"] for a in listed.json()] == ["0001-02-24T00:00:00.000Z"]


def test_activity_default_status_is_pending(api: httpx.Client) -> None:
    assert api.post("/activities", json=activity()).json()["status"] == "pending"


def test_completed_at_is_set_kept_and_cleared_by_updates(api: httpx.Client) -> None:
    created = api.post("/activities", json=activity(activityType="task")).json()
    path = f"/activities/{created['id']}"
    done = api.put(path, json=activity(activityType="task", status="completed")).json()
    assert TIMESTAMP.match(done["completedAt"])
    again = api.put(path, json=activity(activityType="task", status="completed", body="x"))
    assert again.json()["completedAt"] == done["completedAt"]
    reopened = api.put(path, json=activity(activityType="task", status="pending")).json()
    assert reopened["completedAt"] is None


@pytest.mark.parametrize(
    ("kind", "field", "value", "allowed"),
    [
        ("call", "callDirection", "outbound", True),
        ("call", "durationMinutes", 30, False),
        ("meeting", "location", "Room B", True),
        ("meeting", "callOutcome", "connected", False),
        ("note", "meetingUrl", "https://meet.example.com/x", False),
        ("task", "callDurationSeconds", 60, False),
    ],
    ids=[
        "call-field-on-call",
        "meeting-field-on-call",
        "meeting-field-on-meeting",
        "call-field-on-meeting",
        "meeting-field-on-note",
        "call-field-on-task",
    ],
)
def test_type_specific_activity_fields(
    api: httpx.Client, kind: str, field: str, value: Any, allowed: bool
) -> None:
    response = api.post("/activities", json=activity(activityType=kind, **{field: value}))
    if allowed:
        assert response.status_code == httpx.codes.CREATED
        assert response.json()[field] == value
    else:
        assert response.status_code == httpx.codes.UNPROCESSABLE_ENTITY
        assert field in response.json()["error"]


def test_put_replaces_fields_keeps_id_and_created_at(api: httpx.Client) -> None:
    created = api.post("/contacts", json=contact(1, title="VP", phone="+1-555")).json()
    time.sleep(0.002)  # so the new updatedAt differs in its milliseconds
    replaced = api.put(f"/contacts/{created['id']}", json=contact(1, title="CTO"))
    assert replaced.status_code == httpx.codes.OK
    body = replaced.json()
    assert body["id"] == created["id"] and body["createdAt"] == created["createdAt"]
    assert body["title"] == "CTO"
    assert body["phone"] is None  # a full replace, not a patch
    assert body["updatedAt"] > created["updatedAt"]
    assert api.get(f"/contacts/{created['id']}").json() == body


def test_put_validates_like_create(api: httpx.Client) -> None:
    created = api.post("/contacts", json=contact(1)).json()
    response = api.put(f"/contacts/{created['id']}", json=contact(1, email="not-an-email"))
    assert response.status_code == httpx.codes.UNPROCESSABLE_ENTITY
    assert response.json()["error"].startswith("email: invalid email address")


def test_put_cannot_take_another_contacts_email(api: httpx.Client) -> None:
    api.post("/contacts", json=contact(1))
    second = api.post("/contacts", json=contact(2)).json()
    response = api.put(f"/contacts/{second['id']}", json=contact(2, email="SARAH1@example.com"))
    assert response.status_code == httpx.codes.UNPROCESSABLE_ENTITY
    assert "already exists" in response.json()["error"]


def test_create_refuses_an_existing_email(api: httpx.Client) -> None:
    api.post("/contacts", json=contact(1))
    response = api.post("/contacts", json=contact(2, email="Sarah1@Example.com"))
    assert response.status_code == httpx.codes.UNPROCESSABLE_ENTITY
    assert response.json()["error"].startswith("email: a contact with this email already exists")


def test_delete_answers_204_then_the_record_is_gone(api: httpx.Client) -> None:
    created = api.post("/companies", json=company(1)).json()
    response = api.delete(f"/companies/{created['id']}")
    assert response.status_code == httpx.codes.NO_CONTENT
    assert response.content == b""
    assert api.get(f"/companies/{created['id']}").status_code == httpx.codes.NOT_FOUND


@pytest.mark.parametrize(
    ("method", "name"),
    [(method, name) for method in ("GET", "PUT", "DELETE") for name in OBJECTS],
    ids=[f"{method}-{name}" for method in ("GET", "PUT", "DELETE") for name in OBJECTS],
)
def test_unknown_id_is_404_json(api: httpx.Client, method: str, name: str) -> None:
    body = minimal_body(name) if method == "PUT" else None
    response = api.request(method, f"/{name}/{uuid.uuid4()}", json=body)
    assert response.status_code == httpx.codes.NOT_FOUND
    assert "no " in response.json()["error"]


def test_record_of_another_object_is_not_found(api: httpx.Client) -> None:
    created = api.post("/contacts", json=contact(1)).json()
    assert api.get(f"/companies/{created['id']}").status_code == httpx.codes.NOT_FOUND


def test_a_company_answers_tags_as_a_list_never_null(api: httpx.Client) -> None:
    created = api.post("/companies", json=company(7)).json()
    assert created["tags"] == []
    listed = api.get("/companies").json()
    assert [c["tags"] for c in listed] == [[]]
    tagged = api.put(f"/companies/{created['id']}", json=company(7, tags=["a", "b"])).json()
    assert tagged["tags"] == ["a", "b"]


def test_a_contact_answers_only_the_fields_rally_documents(api: httpx.Client) -> None:
    """Address, city, notes and the rest can be written, but Rally's documented answer has no
    field for them: a client must never come to depend on reading them back."""
    body = contact(3, city="Zürich", notes="met at the fair", linkedInUrl="https://x.org/in/ada")
    created = api.post("/contacts", json=body).json()
    assert set(created) == response_fields("contacts")
    assert not {"city", "notes", "linkedInUrl", "address"} & set(created)
    assert all(set(r) == response_fields("contacts") for r in api.get("/contacts").json())
