"""Bad bodies get a 4xx with a readable `{"error": ...}`, never a 500, and store nothing."""

from __future__ import annotations

import httpx
import pytest

from crmsync.sandbox.server import MAX_BODY_BYTES
from crmsync.sandbox.testing import SandboxHandle, minimal_body

NESTING = 100_000


def raw(body: dict) -> bytes:
    return httpx.Request("POST", "http://x", json=body).content


CASES: list[tuple[str, str, bytes, int, str]] = [
    # (id, object, body, status, fragment of the error)
    ("malformed", "contacts", b'{"firstName": "Sarah",', 400, "malformed JSON"),
    ("empty", "contacts", b"", 400, "empty"),
    ("array", "contacts", b"[]", 400, "JSON object"),
    ("string", "companies", b'"Acme"', 400, "JSON object"),
    ("not-utf8", "contacts", b'{"firstName": "\xff\xfe"}', 400, "malformed JSON"),
    ("deep-nesting", "contacts", b"[" * NESTING + b"]" * NESTING, 400, "malformed JSON"),
    (
        "missing-required",
        "contacts",
        raw({"firstName": "Sarah"}),
        422,
        "lastName: field required; email: field required",
    ),
    ("blank-name", "contacts", raw(minimal_body("contacts", firstName="  ")), 422, "firstName"),
    (
        "bad-email",
        "contacts",
        raw(minimal_body("contacts", email="sarah@")),
        422,
        "email: invalid email address: ",
    ),
    ("wrong-type", "contacts", raw(minimal_body("contacts", firstName=5)), 422, "firstName"),
    ("score-word", "contacts", raw(minimal_body("contacts", leadScore="high")), 422, "leadScore"),
    ("score-101", "contacts", raw(minimal_body("contacts", leadScore=101)), 422, "leadScore"),
    ("tags-as-list", "contacts", raw(minimal_body("contacts", tags=["a"])), 422, "tags"),
    ("tags-as-string", "companies", raw(minimal_body("companies", tags="a,b")), 422, "tags"),
    ("bad-guid", "contacts", raw(minimal_body("contacts", companyId="acme")), 422, "companyId"),
    (
        "unknown-field",
        "contacts",
        raw(minimal_body("contacts", favouriteColour="red")),
        422,
        "favouriteColour: extra inputs are not permitted",
    ),
    (
        "snake-case-field",
        "contacts",
        raw({"first_name": "A", "lastName": "B", "email": "a@b.co"}),
        422,
        "first_name: extra inputs are not permitted",
    ),
    (
        "negative-count",
        "companies",
        raw(minimal_body("companies", employeeCount=-1)),
        422,
        "employeeCount",
    ),
    ("nan-revenue", "companies", b'{"name": "Acme", "annualRevenue": NaN}', 422, "annualRevenue"),
    ("inf-revenue", "companies", b'{"name": "Acme", "annualRevenue": 1e999}', 422, "annualRevenue"),
    (
        "giant-int",
        "companies",
        b'{"name": "Acme", "employeeCount": 1' + b"0" * 5000 + b"}",
        400,
        "malformed JSON",
    ),
    (
        "bad-type",
        "activities",
        raw(minimal_body("activities", activityType="email")),
        422,
        "activityType",
    ),
    (
        "bad-priority",
        "activities",
        raw(minimal_body("activities", priority="asap")),
        422,
        "priority",
    ),
    ("bad-status", "activities", raw(minimal_body("activities", status="done")), 422, "status"),
    ("bad-due-date", "activities", raw(minimal_body("activities", dueDate="soon")), 422, "dueDate"),
]


@pytest.mark.parametrize(
    ("name", "body", "status", "fragment"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_create_body_is_refused_readably(
    api: httpx.Client, sandbox: SandboxHandle, name: str, body: bytes, status: int, fragment: str
) -> None:
    response = api.post(f"/{name}", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    assert fragment in response.json()["error"]
    assert sandbox.records(name) == []


@pytest.mark.parametrize(
    ("item", "fragment"),
    [
        (c[2], c[4])
        for c in CASES
        if c[3] == httpx.codes.UNPROCESSABLE_ENTITY and c[1] == "contacts"
    ],
    ids=[c[0] for c in CASES if c[3] == httpx.codes.UNPROCESSABLE_ENTITY and c[1] == "contacts"],
)
def test_the_same_bodies_fail_their_bulk_index(
    api: httpx.Client, item: bytes, fragment: str
) -> None:
    good = raw(minimal_body("contacts", 7))
    response = api.post(
        "/contacts/bulk",
        content=b"[" + good + b"," + item + b"]",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == httpx.codes.OK
    result = response.json()
    assert result["created"] == 1
    assert [e["index"] for e in result["errors"]] == [1]
    assert fragment in result["errors"][0]["error"]


def test_a_valid_email_in_an_unusual_form_is_accepted(api: httpx.Client) -> None:
    body = minimal_body("contacts", email="josé.müller@bücher.de")
    assert api.post("/contacts", json=body).status_code == httpx.codes.CREATED


def test_an_oversized_body_is_413(api: httpx.Client) -> None:
    body = minimal_body("contacts", notes="x" * (MAX_BODY_BYTES + 1))
    response = api.post("/contacts", json=body)
    assert response.status_code == httpx.codes.REQUEST_ENTITY_TOO_LARGE
    assert "error" in response.json()
