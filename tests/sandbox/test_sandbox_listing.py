"""GET /{object}: limit, offset, updatedSince, fields; ordered by updatedAt then id."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
import pytest

from crmsync.sandbox.testing import SandboxHandle, minimal_body

DEFAULT_LIMIT = 50
# updatedAt shows milliseconds: records written this far apart never share one.
APART_S = 0.002


def make_contacts(api: httpx.Client, count: int, start: int = 0) -> list[str]:
    items = [minimal_body("contacts", n) for n in range(start, start + count)]
    created: list[str] = api.post("/contacts/bulk", json=items).json()["createdIds"]
    return created


def test_empty_list_is_an_empty_array(api: httpx.Client) -> None:
    response = api.get("/companies")
    assert response.status_code == httpx.codes.OK
    assert response.json() == []


def test_default_limit_is_50_and_order_is_updated_at_then_id(api: httpx.Client) -> None:
    make_contacts(api, 60)
    page = api.get("/contacts").json()
    assert len(page) == DEFAULT_LIMIT
    keys = [(record["updatedAt"], record["id"]) for record in page]
    assert keys == sorted(keys)


def test_limit_and_offset_page_through_every_record_once(api: httpx.Client) -> None:
    ids = set(make_contacts(api, 100)) | set(make_contacts(api, 30, start=100))
    seen: list[str] = []
    for offset in range(0, 150, 40):
        page = api.get("/contacts", params={"limit": 40, "offset": offset}).json()
        seen.extend(record["id"] for record in page)
    assert len(seen) == len(ids) and set(seen) == ids


def test_records_helper_pages_past_100(api: httpx.Client, sandbox: SandboxHandle) -> None:
    ids = make_contacts(api, 100) + make_contacts(api, 50, start=100)
    assert {record["id"] for record in sandbox.records("contacts")} == set(ids)


def test_updated_since_returns_records_updated_at_or_after(api: httpx.Client) -> None:
    early = make_contacts(api, 3)
    time.sleep(APART_S)
    late_record = api.post("/contacts", json=minimal_body("contacts", 10)).json()
    since = late_record["updatedAt"]
    later = make_contacts(api, 2, start=20)
    found = [r["id"] for r in api.get("/contacts", params={"updatedSince": since}).json()]
    assert set(found) == {late_record["id"], *later}
    assert not set(found) & set(early)


def test_updated_since_accepts_offsets_and_naive_times_as_utc(api: httpx.Client) -> None:
    make_contacts(api, 2)
    past = datetime.now(UTC) - timedelta(hours=1)
    for value in (past.isoformat(), past.replace(tzinfo=None).isoformat()):
        assert len(api.get("/contacts", params={"updatedSince": value}).json()) == 2
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert api.get("/contacts", params={"updatedSince": future}).json() == []


def test_updated_since_sees_an_update(api: httpx.Client) -> None:
    ids = make_contacts(api, 3)
    time.sleep(APART_S)
    moved = api.put(f"/contacts/{ids[0]}", json=minimal_body("contacts", 0, title="CTO")).json()
    found = api.get("/contacts", params={"updatedSince": moved["updatedAt"]}).json()
    assert [r["id"] for r in found] == [ids[0]]
    assert api.get("/contacts").json()[-1]["id"] == ids[0]  # now the most recent


def test_fields_projects_and_always_includes_id(api: httpx.Client) -> None:
    make_contacts(api, 2)
    page = api.get("/contacts", params={"fields": "email, fullName"}).json()
    assert [list(record) for record in page] == [["id", "email", "fullName"]] * 2
    only_id = api.get("/contacts", params={"fields": "id"}).json()
    assert [list(record) for record in only_id] == [["id"]] * 2


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"limit": "101"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": "-5"}, "offset"),
        ({"offset": "1.5"}, "offset"),
        ({"updatedSince": "yesterday"}, "updatedSince"),
        ({"fields": "email,shoeSize"}, "shoeSize"),
        ({"fields": "first_name"}, "first_name"),
    ],
    ids=[
        "limit-101",
        "limit-0",
        "limit-negative",
        "limit-word",
        "offset-negative",
        "offset-fraction",
        "since-not-a-time",
        "unknown-field",
        "snake-case-field",
    ],
)
def test_bad_query_is_400(api: httpx.Client, params: dict[str, str], fragment: str) -> None:
    response = api.get("/contacts", params=params)
    assert response.status_code == httpx.codes.BAD_REQUEST
    assert fragment in response.json()["error"]


def test_offset_past_the_end_is_empty(api: httpx.Client) -> None:
    make_contacts(api, 3)
    assert api.get("/contacts", params={"offset": 3}).json() == []


def test_every_answer_carries_a_date_read_as_it_starts(api: httpx.Client) -> None:
    """A client estimates Rally's clock from Date (rounded down to the second): a Date cached
    for a second would make that estimate a second late, and its listings start too early."""
    for _ in range(3):
        before = int(time.time())
        response = api.get("/contacts", params={"limit": 1})
        after = time.time()
        date = parsedate_to_datetime(response.headers["Date"]).timestamp()
        assert before <= date <= after
