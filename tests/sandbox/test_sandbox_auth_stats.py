"""X-Api-Key and tenants, unknown paths, and the /_sandbox endpoints (stats, reset)."""

from __future__ import annotations

import httpx
import pytest

from crmsync.sandbox.testing import SandboxHandle, minimal_body
from crmsync.schema import OBJECTS

WRONG_KEY = "wrong-key-3f9a"


def api_client(sandbox: SandboxHandle, key: str | None) -> httpx.Client:
    headers = {"X-Api-Key": key} if key is not None else {}
    return httpx.Client(base_url=f"{sandbox.base_url}/api/v1", headers=headers)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/contacts"),
        ("POST", "/contacts/bulk"),
        ("PUT", "/companies/upsert"),
        ("GET", "/activities/00000000-0000-0000-0000-000000000000"),
        ("GET", "/no-such-object"),
    ],
    ids=["list", "bulk", "upsert", "get", "unknown-path"],
)
@pytest.mark.parametrize("key", [None, WRONG_KEY], ids=["missing-key", "wrong-key"])
def test_requests_without_a_valid_key_are_401(
    sandbox: SandboxHandle, method: str, path: str, key: str | None
) -> None:
    with api_client(sandbox, key) as client:
        response = client.request(method, path, json=[minimal_body("contacts")])
    assert response.status_code == httpx.codes.UNAUTHORIZED
    assert response.json()["error"] in ("missing X-Api-Key header", "unknown API key")
    assert WRONG_KEY not in response.text
    assert sandbox.records("contacts") == []


def test_tenants_never_see_each_others_records(
    api: httpx.Client, other_api: httpx.Client, sandbox: SandboxHandle
) -> None:
    mine = api.post("/contacts", json=minimal_body("contacts", 1)).json()
    theirs = other_api.post("/contacts", json=minimal_body("contacts", 1)).json()
    assert mine["tenantId"] != theirs["tenantId"]
    assert [r["id"] for r in api.get("/contacts").json()] == [mine["id"]]
    assert other_api.get(f"/contacts/{mine['id']}").status_code == httpx.codes.NOT_FOUND
    assert other_api.delete(f"/contacts/{mine['id']}").status_code == httpx.codes.NOT_FOUND
    replaced = other_api.put(f"/contacts/{mine['id']}", json=minimal_body("contacts", 1))
    assert replaced.status_code == httpx.codes.NOT_FOUND
    assert [r["id"] for r in sandbox.records("contacts", api_key="other-key")] == [theirs["id"]]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/nowhere", 404),
        ("GET", "/api/v1/deals", 404),
        ("POST", "/api/v1/contacts/bulk/extra", 404),
        ("PATCH", "/api/v1/contacts", 405),
        ("GET", "/api/v1/contacts/bulk", 404),
        ("DELETE", "/api/v1/contacts", 405),
    ],
    ids=["outside-api", "unknown-object", "too-deep", "patch", "get-bulk", "delete-collection"],
)
def test_unknown_routes_answer_json(
    sandbox: SandboxHandle, method: str, path: str, status: int
) -> None:
    with httpx.Client(base_url=sandbox.base_url, headers={"X-Api-Key": "test-key"}) as client:
        response = client.request(method, path)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    assert "error" in response.json()


def test_stats_count_requests_by_path_template(api: httpx.Client, sandbox: SandboxHandle) -> None:
    created = api.post("/contacts/bulk", json=[minimal_body("contacts", n) for n in range(5)])
    first_id = created.json()["createdIds"][0]
    api.get(f"/contacts/{first_id}")
    api.get(f"/contacts/{created.json()['createdIds'][1]}")
    api.delete(f"/contacts/{first_id}")
    api.post("/contacts", json={"firstName": "x"})
    api.put("/companies/upsert", json=minimal_body("companies"))
    with api_client(sandbox, None) as anonymous:
        anonymous.post("/contacts/bulk", json=[])
    sandbox.records("contacts")  # inspection reads are not counted

    stats = sandbox.stats()
    assert set(stats) == {"requests", "records", "writes", "faults"}
    assert sorted(stats["requests"], key=lambda r: (r["path"], r["method"], r["status"])) == [
        {"method": "PUT", "path": "/api/v1/companies/upsert", "status": 201, "count": 1},
        {"method": "POST", "path": "/api/v1/contacts", "status": 422, "count": 1},
        {"method": "POST", "path": "/api/v1/contacts/bulk", "status": 200, "count": 1},
        {"method": "POST", "path": "/api/v1/contacts/bulk", "status": 401, "count": 1},
        {"method": "DELETE", "path": "/api/v1/contacts/{id}", "status": 204, "count": 1},
        {"method": "GET", "path": "/api/v1/contacts/{id}", "status": 200, "count": 2},
    ]
    assert stats["records"] == {"contacts": 4, "companies": 1, "activities": 0}
    assert stats["writes"] == 5
    assert sandbox.write_requests() == 5


def test_records_count_all_tenants(
    api: httpx.Client, other_api: httpx.Client, sandbox: SandboxHandle
) -> None:
    api.post("/activities/bulk", json=[minimal_body("activities", n) for n in range(3)])
    other_api.post("/activities", json=minimal_body("activities"))
    assert sandbox.stats()["records"]["activities"] == 4


def test_reset_clears_records_and_stats(api: httpx.Client, sandbox: SandboxHandle) -> None:
    for name in OBJECTS:
        api.post(f"/{name}", json=minimal_body(name))
    with httpx.Client(base_url=sandbox.base_url) as client:
        response = client.post("/_sandbox/reset")
    assert response.status_code == httpx.codes.NO_CONTENT
    assert sandbox.stats() == {
        "requests": [],
        "records": {"contacts": 0, "companies": 0, "activities": 0},
        "writes": 0,
        "faults": {"fail": 0, "commit-then-error": 0, "commit-then-drop": 0},
    }
    assert api.get("/contacts").json() == []
