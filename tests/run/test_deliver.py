"""Delivery: what a plan sends by each load mode, against a strict in-process Rally, and what
it makes durable. The dry run is the same plan with a delivery that sends nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from crmsync.api import RallyClient
from crmsync.config import Step
from crmsync.report.changes import ChangeLog
from crmsync.run.artifacts import SETTLED_SCHEMA, Delivered, Plan, Settled, SettledRows
from crmsync.run.ids import IdIndex
from crmsync.run.observer import RunObserver
from crmsync.run.stages.deliver import RallyDelivery
from crmsync.run.stages.dry_run import DryRunDelivery
from crmsync.run.stages.plan import Mode, payload_columns, plan
from crmsync.run.stages.spool import Spool
from crmsync.sandbox.testing import InProcessSandbox
from crmsync.schema import OBJECTS, RallyObject
from crmsync.state import StateDB, StepState

CONTACTS = OBJECTS["contacts"]
ACTIVITIES = OBJECTS["activities"]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[StateDB]:
    with StateDB.open(tmp_path / "state.db") as state:
        yield state


def frame(**columns: list[Any]) -> pl.DataFrame:
    n = len(next(iter(columns.values())))
    return pl.DataFrame({"_source": ["f"] * n, "_row": list(range(2, n + 2)), **columns})


def people(*emails: str, title: str = "Engineer") -> pl.DataFrame:
    return frame(
        firstName=["Ada"] * len(emails),
        lastName=[e.split("@")[0] for e in emails],
        email=list(emails),
        title=[title] * len(emails),
    )


def notes(*subjects: str) -> pl.DataFrame:
    return frame(activityType=["note"] * len(subjects), subject=list(subjects))


def request_count(rally: InProcessSandbox, method: str, suffix: str = "") -> int:
    return sum(
        r["count"]
        for r in rally.stats()["requests"]
        if r["method"] == method and r["path"].endswith(suffix)
    )


MAPPINGS = {
    "contacts": {"firstName": "First", "lastName": "Last", "email": "Email", "title": "Title"},
    "activities": {"activityType": "Type", "subject": "Subject"},
}


def step_config(obj: str = "contacts", mode: Mode = "auto", **extra: Any) -> Step:
    """A step whose updates may rewrite what Rally never shows (the tests here are of
    delivery; tests/run/test_unreadable.py holds them back)."""
    return Step.model_validate(
        {
            "name": "s",
            "object": obj,
            "source": {"kind": "csv", "path": "x.csv"},
            "mapping": MAPPINGS[obj],
            "load": {"mode": mode},
            "sync": {"unreadable": "rewrite"},
            **extra,
        }
    )


def deliver(
    rally: InProcessSandbox,
    planned: Plan,
    state: StepState,
    mode: Mode = "auto",
    resume_since: datetime | None = None,
) -> dict[int, tuple[str, str | None]]:
    """row -> (outcome, error) after delivering `planned`."""
    into = Delivered()

    async def go() -> None:
        async with RallyClient(rally.base_url, rally.api_key, transport=rally.transport) as c:
            delivery = RallyDelivery(
                c,
                step=step_config(planned.obj.name, mode),
                state=state,
                observer=RunObserver(),
                resume_since=resume_since,
            )
            await delivery.deliver(planned, into, lambda records, batches: None)

    asyncio.run(go())
    return {row: (outcome, error) for row, outcome, error in into.settled_rows().iter_rows()}


def against(frame: pl.DataFrame, obj: RallyObject, state: StepState) -> Plan:
    """`frame` planned against what `state` holds, as a run plans it."""
    return plan(frame, obj, state.accepted(), known_ids=state.accepted_ids)


def step(db: StateDB, name: str = "s") -> StepState:
    return StepState(db, destination="t", step=name, run_id=1, dry_run=False)


def outcomes(result: dict[int, tuple[str, str | None]]) -> dict[int, str]:
    return {row: outcome for row, (outcome, _) in result.items()}


def seed(rally: InProcessSandbox, obj: str, *bodies: dict[str, Any]) -> list[str]:
    async def go() -> list[str]:
        async with RallyClient(rally.base_url, rally.api_key, transport=rally.transport) as c:
            return (await c.bulk_create(OBJECTS[obj], list(bodies))).created_ids

    return asyncio.run(go())


def test_auto_creates_in_bulk_and_merges_a_contact_rally_already_has(
    rally: InProcessSandbox, db: StateDB
) -> None:
    seed(rally, "contacts", {"firstName": "Bea", "lastName": "b", "email": "b@x.org"})
    state = step(db)
    result = deliver(rally, against(people("a@x.org", "b@x.org"), CONTACTS, state), state)
    assert outcomes(result) == {2: "created", 3: "updated"}
    # one look at Rally, the seed and one bulk, one merged write by id; no upsert
    assert request_count(rally, "GET", "/contacts") == 1
    assert request_count(rally, "POST", "/bulk") == 2
    assert request_count(rally, "PUT") == 1
    bea = next(r for r in rally.records("contacts") if r["email"] == "b@x.org")
    assert (bea["firstName"], bea["title"]) == ("Bea", "Engineer")  # her name kept, blank filled
    assert len(rally.records("contacts")) == 2
    again = against(people("a@x.org", "b@x.org"), CONTACTS, state)
    assert again.todo.is_empty()  # both were made durable


def test_auto_writes_changed_contacts_by_id(rally: InProcessSandbox, db: StateDB) -> None:
    state = step(db)
    deliver(rally, against(people("a@x.org", "b@x.org"), CONTACTS, state), state)
    changed = against(people("a@x.org", "b@x.org", title="CTO"), CONTACTS, state)
    assert outcomes(deliver(rally, changed, state)) == {2: "updated", 3: "updated"}
    assert (request_count(rally, "PUT"), request_count(rally, "PUT", "/upsert")) == (2, 0)
    assert {r["title"] for r in rally.records("contacts")} == {"CTO"}


def test_bulk_mode_refuses_a_contact_rally_already_has(
    rally: InProcessSandbox, db: StateDB
) -> None:
    seed(rally, "contacts", {"firstName": "B", "lastName": "b", "email": "b@x.org"})
    state = step(db)
    planned = against(people("a@x.org", "b@x.org"), CONTACTS, state)
    result = deliver(rally, planned, state, mode="bulk")
    assert outcomes(result) == {2: "created", 3: "failed"}
    assert "already exists" in (result[3][1] or "")
    assert request_count(rally, "PUT") == 0


def test_upsert_mode_creates_one_record_a_request(rally: InProcessSandbox, db: StateDB) -> None:
    state = step(db)
    planned = against(people("a@x.org", "b@x.org", "c@x.org"), CONTACTS, state)
    assert outcomes(deliver(rally, planned, state, mode="upsert")) == dict.fromkeys(
        (2, 3, 4), "created"
    )
    assert (request_count(rally, "PUT", "/upsert"), request_count(rally, "POST")) == (3, 0)


def test_keyless_records_are_updated_by_id_and_created_again_when_deleted(
    rally: InProcessSandbox, db: StateDB
) -> None:
    state = step(db)
    source = frame(activityType=["note", "note"], subject=["One", "Two"], _source_id=["A-1", "A-2"])
    first = deliver(rally, against(source, ACTIVITIES, state), state)
    assert outcomes(first) == {2: "created", 3: "created"}
    [two] = [r for r in rally.records("activities") if r["subject"] == "Two"]
    asyncio.run(_delete(rally, "activities", two["id"]))
    edited = source.with_columns(pl.Series("subject", ["One, edited", "Two, edited"]))
    second = deliver(rally, against(edited, ACTIVITIES, state), state)
    assert outcomes(second) == {2: "updated", 3: "created"}
    assert sorted(r["subject"] for r in rally.records("activities")) == [
        "One, edited",
        "Two, edited",
    ]


async def _delete(rally: InProcessSandbox, obj: str, record_id: str) -> None:
    async with RallyClient(rally.base_url, rally.api_key, transport=rally.transport) as c:
        await c.delete(OBJECTS[obj], record_id)  # a person deleting it in Rally


def test_after_an_unfinished_run_keyless_records_rally_has_are_not_sent_again(
    rally: InProcessSandbox, db: StateDB
) -> None:
    # the unfinished run created the first note, then died before recording it
    seed(rally, "activities", {"activityType": "note", "subject": "Met at the fair"})
    state = step(db)
    planned = against(notes("Met at the fair", "Called back"), ACTIVITIES, state)
    since = datetime.now(UTC) - timedelta(minutes=10)
    result = deliver(rally, planned, state, resume_since=since)
    assert outcomes(result) == {2: "created", 3: "created"}
    assert len(rally.records("activities")) == 2  # the first was found, not sent twice


def test_a_dry_run_sends_nothing_and_says_what_it_would(
    rally: InProcessSandbox, db: StateDB, tmp_path: Path
) -> None:
    state = step(db)
    deliver(rally, against(people("a@x.org"), CONTACTS, state), state)
    writes = rally.write_requests()
    ids = IdIndex()
    planned = against(people("a@x.org", "b@x.org"), CONTACTS, state)
    into = Delivered()
    with ChangeLog(tmp_path) as log:
        dry = DryRunDelivery(step_config(), state, ids, None, log)
        asyncio.run(dry.deliver(planned, into, lambda records, batches: None))
    settled = into.settled_rows().select("_row", "outcome").iter_rows()
    assert dict(settled) == {2: "unchanged", 3: "planned"}
    assert log.written["payloads"] == tmp_path / "payloads.ndjson"
    lines = (tmp_path / "payloads.ndjson").read_text("utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {"firstName": "Ada", "lastName": "b", "email": "b@x.org", "title": "Engineer"}
    ]
    # later steps of the dry run resolve the record it would create
    assert ids.get("contacts", "email") == {"b@x.org": "(new contacts row 3)"}
    assert rally.write_requests() == writes


def in_parts(obj: RallyObject, state: StepState, *frames: pl.DataFrame, folder: Path) -> Plan:
    """A plan made a part at a time, as a big file's partitions are: each part's rows to
    send spooled (to files past 1 byte)."""
    parts = Spool(folder, held_bytes=1, name="planned")
    for part in frames:
        parts.add(against(part, obj, state).todo)
    return Plan(obj, parts.shape.clear(), payload_columns(parts.shape, obj), parts=parts)


def test_a_plan_in_parts_is_sent_part_by_part_after_one_count(
    rally: InProcessSandbox, db: StateDB, tmp_path: Path
) -> None:
    seed(rally, "contacts", {"firstName": "Bea", "lastName": "b", "email": "b@x.org"})
    state = step(db)
    untitled = people("c@x.org", "d@x.org").drop("title").with_columns(pl.Series("_row", [4, 5]))
    later = people("e@x.org").with_columns(pl.Series("_row", [6]))
    planned = in_parts(
        CONTACTS, state, people("a@x.org", "b@x.org"), untitled, later, folder=tmp_path
    )
    assert len(list(tmp_path.glob("planned-*.parquet"))) == 3
    into, counts = Delivered(), []

    async def go() -> None:
        async with RallyClient(rally.base_url, rally.api_key, transport=rally.transport) as c:
            delivery = RallyDelivery(
                c, step=step_config(), state=state, observer=RunObserver(), resume_since=None
            )
            await delivery.deliver(planned, into, lambda records, batches: counts.append(records))

    asyncio.run(go())
    settled = dict(into.settled_rows().select("_row", "outcome").iter_rows())
    assert settled == {2: "created", 3: "updated", 4: "created", 5: "created", 6: "created"}
    assert counts == [5]  # one count of every part, before the first is sent
    assert request_count(rally, "GET", "/contacts") == 1  # one look at Rally for all parts
    assert request_count(rally, "POST", "/bulk") == 1 + 3  # the seed, then a bulk a part
    by_email = {r["email"]: r for r in rally.records("contacts")}
    assert len(by_email) == 5 and by_email["c@x.org"].get("title") is None
    assert not list(tmp_path.glob("planned-*.parquet"))  # each part's file gone once sent
    assert against(people("a@x.org"), CONTACTS, state).todo.is_empty()


def test_parts_after_an_unfinished_run_list_what_it_created_once(
    rally: InProcessSandbox, db: StateDB, tmp_path: Path
) -> None:
    seed(rally, "activities", {"activityType": "note", "subject": "Met at the fair"})
    state = step(db)
    second = notes("Called back", "Met at the fair").with_columns(pl.Series("_row", [4, 5]))
    planned = in_parts(
        ACTIVITIES, state, notes("Met at the fair", "Wrote"), second, folder=tmp_path
    )
    since = datetime.now(UTC) - timedelta(minutes=10)
    result = deliver(rally, planned, state, resume_since=since)
    # the one note the unfinished run created is found for one row, not both that have it
    assert sorted(outcome for outcome, _ in result.values()) == ["created"] * 4
    assert len(rally.records("activities")) == 4
    assert request_count(rally, "GET", "/activities") == 2  # one listing since, one look


def test_rows_settled_one_by_one_are_kept_as_columns() -> None:
    settled = SettledRows()
    settled.CHUNK = 3
    for row in range(7):
        settled.append(Settled(row, "created", f"r{row}"))
    settled += [Settled(9, "failed", None, "refused")]
    for _ in range(2):  # taken twice: nothing lost or doubled
        frame = pl.concat(settled.frames())
        assert frame["_row"].to_list() == [0, 1, 2, 3, 4, 5, 6, 9]
        assert frame.row(7) == (9, "failed", "refused")
    assert len(settled) == 8
    assert Delivered().settled_rows().schema == pl.Schema(SETTLED_SCHEMA)
