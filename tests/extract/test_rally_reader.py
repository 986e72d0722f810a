"""read_rally_api: a Rally list walked into the frame every reader yields (respx, no network)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
import respx

from crmsync.errors import AuthError
from crmsync.extract.rally import read_rally_api

BASE = "https://old.rallycrm.io"
KEY = "rk_live_source-secret"


def _contact(n: int, **extra: object) -> dict[str, object]:
    return {
        "id": f"00000000-0000-4000-8000-{n:012d}",
        "firstName": "Ada",
        "lastName": f"L{n}",
        "email": f"ada{n}@example.com",
        "updatedAt": "2026-11-01T10:00:00Z",
        **extra,
    }


@respx.mock
def test_pages_until_a_short_page_and_numbers_rows_in_list_order() -> None:
    pages = [[_contact(n) for n in range(100)], [_contact(n) for n in range(100, 130)]]
    route = respx.get(f"{BASE}/api/v1/contacts").mock(
        side_effect=[
            httpx.Response(200, json=[_contact(0)]),
            *(httpx.Response(200, json=page) for page in pages),
        ]
    )
    extracted = read_rally_api(BASE, KEY, "contacts")
    frame = extracted.frame
    assert frame.height == 130
    assert frame["_row"].to_list() == list(range(1, 131))
    assert frame["_source"][0] == f"{BASE}/api/v1/contacts"
    assert frame["lastName"][129] == "L129"
    offsets = [call.request.url.params.get("offset") for call in route.calls[1:]]
    assert offsets == ["0", "100"]
    assert all(call.request.headers["X-Api-Key"] == KEY for call in route.calls)


@respx.mock
def test_cells_are_text_and_lists_read_like_an_export() -> None:
    record = _contact(
        1,
        tags=["vip", "eu"],
        leadScore=40,
        isUnsubscribed=False,
        customFields={"tier": ["gold"]},
        notes="",
    )
    respx.get(f"{BASE}/api/v1/contacts").mock(return_value=httpx.Response(200, json=[record]))
    row = read_rally_api(BASE, KEY, "contacts").frame.row(0, named=True)
    assert row["tags"] == "vip, eu"
    assert (row["leadScore"], row["isUnsubscribed"]) == ("40", "false")
    assert row["customFields"] == '{"tier": ["gold"]}'
    assert row["notes"] is None


@respx.mock
def test_an_empty_incremental_read_still_has_the_documented_columns() -> None:
    route = respx.get(f"{BASE}/api/v1/companies").mock(return_value=httpx.Response(200, json=[]))
    since = datetime(2026, 11, 1, 9, 55, tzinfo=UTC)
    extracted = read_rally_api(BASE, KEY, "companies", updated_since=since)
    assert extracted.frame.height == 0
    assert {"id", "name", "domain", "updatedAt"} <= set(extracted.columns)
    assert route.calls[-1].request.url.params["updatedSince"].startswith("2026-11-01T09:55:00")


@respx.mock
def test_a_refused_source_key_is_an_auth_error_without_the_key() -> None:
    respx.get(f"{BASE}/api/v1/contacts").mock(
        return_value=httpx.Response(401, json={"error": "invalid API key"})
    )
    with pytest.raises(AuthError) as caught:
        read_rally_api(BASE, KEY, "contacts")
    assert KEY not in str(caught.value)
