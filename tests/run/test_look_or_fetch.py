"""A step that only updates records it knows fetches them one by one when listing what
changed since the last look would take more requests (the first sync after a big import
lists every record the import wrote); otherwise it lists, as every other step does."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
import respx

from crmsync.api import RallyClient
from crmsync.errors import MalformedAnswerError
from crmsync.report.changes import ChangeLog
from crmsync.run.artifacts import Delivered
from crmsync.run.ids import IdIndex
from crmsync.run.mirror import Mirror
from crmsync.run.stages import routing
from crmsync.run.stages.dry_run import DryRunDelivery
from crmsync.sandbox.testing import InProcessSandbox
from crmsync.state import StateDB, StepState

from .test_deliver import (
    CONTACTS,
    against,
    deliver,
    in_parts,
    outcomes,
    people,
    request_count,
    step,
    step_config,
)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[StateDB]:
    with StateDB.open(tmp_path / "state.db") as state:
        yield state


IMPORTED = 450  # five pages of a listing


def emails(count: int) -> list[str]:
    return [f"p{i}@x.org" for i in range(count)]


def gets(rally: InProcessSandbox) -> tuple[int, int]:
    """(list requests, requests for one record) Rally answered."""
    return request_count(rally, "GET", "/contacts"), request_count(rally, "GET", "/{id}")


def imported(rally: InProcessSandbox, db: StateDB) -> StepState:
    """IMPORTED contacts loaded, then a person edits one of them in Rally."""
    state = step(db)
    assert set(
        outcomes(
            deliver(rally, against(people(*emails(IMPORTED)), CONTACTS, state), state)
        ).values()
    ) == {"created"}
    edit(rally, "p7@x.org", department="Sales")
    return state


def edit(rally: InProcessSandbox, email: str, **fields: Any) -> None:
    """A person's edit in Rally (a PUT replaces the record: all of it is sent)."""
    record = next(r for r in rally.records("contacts") if r["email"] == email)
    body = {k: v for k, v in record.items() if k in CONTACTS.wire_fields} | fields

    async def go() -> None:
        async with RallyClient(rally.base_url, rally.api_key, transport=rally.transport) as c:
            await c.update(CONTACTS, record["id"], body)

    asyncio.run(go())


def sent(result: dict[int, tuple[str, str | None]]) -> list[str]:
    """The outcomes of the rows sent (the others settled unchanged when planned)."""
    return sorted(outcome for outcome in outcomes(result).values() if outcome != "unchanged")


def listings(monkeypatch: pytest.MonkeyPatch, state: StepState) -> list[str]:
    """The times each look that listed moved the state's mark to, in turn."""
    moved: list[str] = []
    keep = state.listed_at

    def listed_at(obj: str, value: str) -> None:
        moved.append(value)
        keep(obj, value)

    monkeypatch.setattr(state, "listed_at", listed_at)
    return moved


def two_changed() -> pl.DataFrame:
    """The imported people again, two of them with a new title."""
    return people(*emails(IMPORTED)).with_columns(
        pl.when(pl.col("email").is_in(["p7@x.org", "p9@x.org"]))
        .then(pl.lit("CTO"))
        .otherwise(pl.col("title"))
        .alias("title")
    )


def stored(rally: InProcessSandbox, email: str) -> dict[str, Any]:
    return next(r for r in rally.records("contacts") if r["email"] == email)


def test_updates_after_an_import_fetch_their_records_and_keep_what_people_typed(
    rally: InProcessSandbox, db: StateDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = imported(rally, db)
    moved = listings(monkeypatch, state)
    before = gets(rally)
    result = deliver(rally, against(two_changed(), CONTACTS, state), state)
    assert sent(result) == ["updated", "updated"]
    listed, by_id = (after - first for after, first in zip(gets(rally), before, strict=True))
    # the listing's first page, one look past three pages, then the two records: 4 requests
    # where listing the 450 records changed since the last look takes 5
    assert (listed, by_id) == (2, 2)
    assert (stored(rally, "p7@x.org")["title"], stored(rally, "p7@x.org")["department"]) == (
        "CTO",
        "Sales",  # what the person typed stays
    )
    assert stored(rally, "p9@x.org")["title"] == "CTO"
    assert moved == []  # not listed: the next look lists from the last one's time


def test_a_step_that_creates_lists_as_before(rally: InProcessSandbox, db: StateDB) -> None:
    state = imported(rally, db)
    before = gets(rally)
    more = people(*emails(IMPORTED), "new@x.org")
    result = deliver(rally, against(more, CONTACTS, state), state)
    assert sent(result) == ["created"]
    listed, by_id = (after - first for after, first in zip(gets(rally), before, strict=True))
    assert (listed, by_id) == (5, 0)  # every record changed since the last look


def test_a_short_listing_is_read_whole_and_moves_the_mark(
    rally: InProcessSandbox, db: StateDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = step(db)
    deliver(rally, against(people("a@x.org", "b@x.org"), CONTACTS, state), state)
    moved = listings(monkeypatch, state)
    before = gets(rally)
    result = deliver(
        rally, against(people("a@x.org", "b@x.org", title="CTO"), CONTACTS, state), state
    )
    assert outcomes(result) == {2: "updated", 3: "updated"}
    listed, by_id = (after - first for after, first in zip(gets(rally), before, strict=True))
    assert (listed, by_id) == (1, 0)  # one short page: no more to it
    assert len(moved) == 1


def test_a_record_deleted_in_rally_is_created_again(rally: InProcessSandbox, db: StateDB) -> None:
    state = imported(rally, db)
    gone = stored(rally, "p3@x.org")["id"]

    async def delete() -> None:
        async with RallyClient(rally.base_url, rally.api_key, transport=rally.transport) as c:
            await c.delete(CONTACTS, gone)

    asyncio.run(delete())
    changed = people(*emails(IMPORTED)).with_columns(
        pl.when(pl.col("email") == "p3@x.org")
        .then(pl.lit("CTO"))
        .otherwise(pl.col("title"))
        .alias("title")
    )
    result = deliver(rally, against(changed, CONTACTS, state), state)
    assert sent(result) == ["created"]
    assert stored(rally, "p3@x.org")["title"] == "CTO"
    assert len(rally.records("contacts")) == IMPORTED


@pytest.mark.parametrize("last", ["p2@x.org", "new@x.org"], ids=["updates", "a-create"])
def test_a_plan_in_parts_counts_every_part_before_it_fetches(
    rally: InProcessSandbox, db: StateDB, tmp_path: Path, last: str
) -> None:
    state = imported(rally, db)
    before = gets(rally)
    titled = people("p0@x.org", "p1@x.org", last, title="CTO")
    parts = [titled.slice(at, 1) for at in range(3)]
    result = deliver(rally, in_parts(CONTACTS, state, *parts, folder=tmp_path), state)
    assert len(result) == 3
    listed, by_id = (after - first for after, first in zip(gets(rally), before, strict=True))
    if last == "new@x.org":  # a create: the listing, as before
        assert sent(result) == ["created", "updated", "updated"]
        assert (listed, by_id) == (5, 0)
    else:
        assert sent(result) == ["updated"] * 3
        assert (listed, by_id) == (2, 3)


def test_a_dry_run_fetches_the_same_way_and_sends_nothing(
    rally: InProcessSandbox, db: StateDB, tmp_path: Path
) -> None:
    imported(rally, db)
    dry_state = StepState(db, destination="t", step="s", run_id=2, dry_run=True)
    planned = against(people("p7@x.org", title="CTO"), CONTACTS, dry_state)
    before, writes = gets(rally), rally.write_requests()
    into = Delivered()

    async def go() -> None:
        async with RallyClient(rally.base_url, rally.api_key, transport=rally.transport) as c:
            with ChangeLog(tmp_path) as log:
                dry = DryRunDelivery(step_config(), dry_state, IdIndex(), c, log)
                await dry.deliver(planned, into, lambda records, batches: None)

    asyncio.run(go())
    assert dict(into.settled_rows().select("_row", "outcome").iter_rows()) == {2: "planned"}
    listed, by_id = (after - first for after, first in zip(gets(rally), before, strict=True))
    assert (listed, by_id) == (2, 1)
    assert rally.write_requests() == writes
    with (tmp_path / "plan.csv").open(encoding="utf-8") as lines:
        changed = {row["field"] for row in csv.DictReader(lines)}
    assert changed == {"title"}  # the department a person typed is no change to make


BASE = "https://rally.example/api/v1"


async def no_sleep(seconds: float) -> None:
    """Retries of a malformed answer back off in virtual time."""


@respx.mock
def test_get_answers_the_record_none_when_gone_and_refuses_a_non_record() -> None:
    respx.get(f"{BASE}/contacts/a").mock(return_value=httpx.Response(200, json={"id": "a"}))
    respx.get(f"{BASE}/contacts/b").mock(return_value=httpx.Response(404, json={"error": "no"}))
    respx.get(f"{BASE}/contacts/c").mock(return_value=httpx.Response(200, json=["x"]))

    async def go() -> list[Any]:
        async with RallyClient("https://rally.example", "k" * 16, sleep=no_sleep) as client:
            found = [await client.get(CONTACTS, "a"), await client.get(CONTACTS, "b")]
            with pytest.raises(MalformedAnswerError):
                await client.get(CONTACTS, "c")
            return found

    assert asyncio.run(go()) == [{"id": "a"}, None]


def test_past_the_most_fetched_the_step_lists(
    rally: InProcessSandbox, db: StateDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(routing, "MOST_FETCHED", 1)
    state = imported(rally, db)
    before = gets(rally)
    assert sent(deliver(rally, against(two_changed(), CONTACTS, state), state)) == ["updated"] * 2
    listed, by_id = (after - first for after, first in zip(gets(rally), before, strict=True))
    assert (listed, by_id) == (5, 0)


LISTED = {"id": "a", "firstName": "Ada", "lastName": "Lovelace", "email": "ada@x.org"}


@pytest.mark.parametrize(
    ("record", "said"),
    [
        ({k: v for k, v in LISTED.items() if k != "email"}, "without its email"),
        ({**LISTED, "email": None}, "without its email"),
        ({k: v for k, v in LISTED.items() if k != "id"}, "without an id"),
        ({**LISTED, "id": 7}, "without an id"),
    ],
    ids=["email-left-out", "email-null", "no-id", "number-id"],
)
@respx.mock
def test_a_listed_record_without_a_field_rally_always_holds_is_malformed(
    db: StateDB, record: dict[str, Any], said: str
) -> None:
    """An update merged with a contact listed without its email took the email as emptied
    by a person, and sent the contact without it: Rally's PUT then wiped it."""
    respx.get(f"{BASE}/contacts").mock(return_value=httpx.Response(200, json=[record]))
    state = StepState(db, destination="t", step="s", run_id=1, dry_run=False)
    mirror = Mirror(CONTACTS, state)

    async def go() -> None:
        async with RallyClient("https://rally.example", "k" * 16, sleep=no_sleep) as client:
            await mirror.look(client)

    with pytest.raises(MalformedAnswerError, match=said):
        asyncio.run(go())
    assert mirror.get(["a"]) == {}


@respx.mock
def test_the_next_look_starts_on_the_records_clock_when_the_date_header_runs_ahead(
    db: StateDB,
) -> None:
    """A Rally whose Date header ran 10 s ahead of its records' updatedAt set the next
    look's start 5 s after records this run then wrote: they were never listed again."""
    stamp = "2026-11-28T12:00:00.000Z"
    ahead = "Sat, 28 Nov 2026 12:00:10 GMT"
    listed = [{**LISTED, "updatedAt": stamp}]
    respx.get(f"{BASE}/contacts").mock(
        side_effect=[
            httpx.Response(200, json=listed, headers={"Date": ahead}),
            httpx.Response(200, json=[], headers={"Date": ahead}),
        ]
    )

    async def look() -> str | None:
        state = StepState(db, destination="t", step="s", run_id=1, dry_run=False)
        async with RallyClient("https://rally.example", "k" * 16, sleep=no_sleep) as client:
            await Mirror(CONTACTS, state).look(client)
        return state.seen_since(CONTACTS.name)

    assert asyncio.run(look()) == "2026-11-28T11:59:55.000Z"  # the record's time, less 5 s
    assert asyncio.run(look()) == "2026-11-28T11:59:55.000Z"  # nothing listed: kept
