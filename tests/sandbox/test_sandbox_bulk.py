"""POST /{object}/bulk: per-index failures, createdIds in request order, dedupe, limits."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from crmsync.sandbox.testing import SandboxHandle, minimal_body
from crmsync.schema import MAX_BULK, OBJECTS


def contacts(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [minimal_body("contacts", n) for n in range(start, start + count)]


def bulk(api: httpx.Client, name: str, items: Any) -> dict[str, Any]:
    response = api.post(f"/{name}/bulk", json=items)
    assert response.status_code == httpx.codes.OK, response.text
    result: dict[str, Any] = response.json()
    return result


@pytest.mark.parametrize("name", list(OBJECTS), ids=list(OBJECTS))
def test_all_valid_are_created_in_request_order(
    api: httpx.Client, sandbox: SandboxHandle, name: str
) -> None:
    items = [minimal_body(name, n) for n in range(5)]
    result = bulk(api, name, items)
    assert result == {
        "created": 5,
        "updated": 0,
        "failed": 0,
        "createdIds": result["createdIds"],
        "errors": [],
    }
    fetched = [api.get(f"/{name}/{record_id}").json() for record_id in result["createdIds"]]
    sent_fields = [
        {key: record[key] for key in item} for record, item in zip(fetched, items, strict=True)
    ]
    assert sent_fields == items
    assert len(sandbox.records(name)) == len(items)


@pytest.mark.parametrize("bad_index", [0, 2, 4], ids=["first", "middle", "last"])
def test_an_invalid_record_fails_at_its_index_and_the_rest_are_stored(
    api: httpx.Client, sandbox: SandboxHandle, bad_index: int
) -> None:
    items = contacts(5)
    items[bad_index] = minimal_body("contacts", bad_index, email="not-an-email")
    result = bulk(api, "contacts", items)
    assert (result["created"], result["failed"]) == (4, 1)
    assert [e["index"] for e in result["errors"]] == [bad_index]
    assert result["errors"][0]["error"].startswith("email: invalid email address")
    stored = {r["email"]: r["id"] for r in sandbox.records("contacts")}
    expected_order = [stored[item["email"]] for i, item in enumerate(items) if i != bad_index]
    assert result["createdIds"] == expected_order


def test_company_without_name_fails_like_the_documented_example(api: httpx.Client) -> None:
    items = [minimal_body("companies", 0), minimal_body("companies", 1), {"domain": "x.com"}]
    result = bulk(api, "companies", items)
    assert result["errors"] == [{"index": 2, "error": "name: field required"}]
    assert len(result["createdIds"]) == 2


def test_several_failures_are_listed_in_index_order(api: httpx.Client) -> None:
    items = contacts(6)
    items[1] = {"firstName": "A"}
    items[3] = "not an object"
    items[5] = minimal_body("contacts", 5, leadScore=101, unknownField=1)
    result = bulk(api, "contacts", items)
    assert [e["index"] for e in result["errors"]] == [1, 3, 5]
    assert "lastName: field required" in result["errors"][0]["error"]
    assert "valid dictionary" in result["errors"][1]["error"]
    assert "leadScore" in result["errors"][2]["error"]
    assert "unknownField" in result["errors"][2]["error"]
    assert result["created"] == 3


def test_duplicate_within_the_batch_fails_the_later_one(api: httpx.Client) -> None:
    items = contacts(3)
    items.append(minimal_body("contacts", 9, email="SARAH1@example.COM"))
    result = bulk(api, "contacts", items)
    assert result["created"] == 3
    assert result["errors"][0]["index"] == 3
    assert "duplicate of the record at index 1" in result["errors"][0]["error"]


def test_email_existing_in_the_tenant_fails_at_its_index(api: httpx.Client) -> None:
    existing = api.post("/contacts", json=minimal_body("contacts", 2)).json()
    items = contacts(4)
    items[2] = minimal_body("contacts", 2, email="Sarah2@Example.com")
    result = bulk(api, "contacts", items)
    assert [e["index"] for e in result["errors"]] == [2]
    assert "already exists" in result["errors"][0]["error"]
    assert existing["id"] in result["errors"][0]["error"]
    assert result["created"] == 3


def test_company_domain_dedupes_but_companies_without_domain_do_not(api: httpx.Client) -> None:
    items = [
        minimal_body("companies", 1),
        minimal_body("companies", 2, domain="ACME1.com"),
        {"name": "No domain"},
        {"name": "No domain either"},
    ]
    result = bulk(api, "companies", items)
    assert [e["index"] for e in result["errors"]] == [1]
    assert result["created"] == 3


def test_dedupe_is_per_tenant(api: httpx.Client, other_api: httpx.Client) -> None:
    assert bulk(api, "contacts", contacts(3))["created"] == 3
    assert bulk(other_api, "contacts", contacts(3))["created"] == 3


def test_exactly_max_bulk_records_are_accepted(api: httpx.Client) -> None:
    assert bulk(api, "contacts", contacts(MAX_BULK))["created"] == MAX_BULK


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (contacts(MAX_BULK + 1), "at most 100"),
        ([], "1 to 100"),
        (minimal_body("contacts"), "JSON array"),
        ("just a string", "JSON array"),
    ],
    ids=["101-records", "empty", "object-not-array", "string"],
)
def test_bad_bulk_bodies_are_400_and_store_nothing(
    api: httpx.Client, sandbox: SandboxHandle, body: Any, fragment: str
) -> None:
    response = api.post("/contacts/bulk", json=body)
    assert response.status_code == httpx.codes.BAD_REQUEST
    assert fragment in response.json()["error"]
    assert sandbox.records("contacts") == []


def test_malformed_json_bulk_is_400(api: httpx.Client) -> None:
    response = api.post("/contacts/bulk", content=b'[{"firstName": ')
    assert response.status_code == httpx.codes.BAD_REQUEST
    assert response.json()["error"].startswith("malformed JSON")
