"""Upsert mode, and cancellation (Ctrl-C) reaching the caller promptly."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from crmsync.api import RallyClient
from crmsync.errors import ConfigError
from crmsync.load import LoadResult, LoadSettings, RecordOutcome, load_records
from crmsync.sandbox.testing import in_process_sandbox
from crmsync.schema import OBJECTS

UPSERT = LoadSettings(mode="upsert")


def test_upsert_mode_counts_created_and_updated(fake: Any) -> None:
    fake.load([fake.contact(i) for i in range(3)])  # 0..2 exist already
    items = [fake.contact(i, title="CTO") for i in range(5)]
    result = fake.load(items, settings=UPSERT)
    assert {o.key: o.status for o in result.outcomes} == {
        0: "updated",
        1: "updated",
        2: "updated",
        3: "created",
        4: "created",
    }
    by_id = {doc["id"]: doc for doc in fake.stored("contacts")}
    for outcome in result.outcomes:
        assert by_id[outcome.rally_id]["email"] == items[outcome.key]["email"]
        assert by_id[outcome.rally_id]["title"] == "CTO"
    assert result.requests == 5 and len(by_id) == 5


def test_a_refused_upsert_fails_its_record_only(fake: Any) -> None:
    result = fake.load([fake.contact(0), fake.contact(1, bad=True)], settings=UPSERT)
    assert {o.key: (o.status, o.http_status) for o in result.outcomes} == {
        0: ("created", None),
        1: ("failed", 422),
    }


@pytest.mark.parametrize("fault", [500, "commit+500", "commit+drop"])
def test_an_ambiguous_upsert_by_key_is_simply_retried(fake: Any, fault: Any) -> None:
    fake.plan("upsert", fault)
    result = fake.load([fake.contact(0)], settings=UPSERT)
    assert result.count("created") + result.count("updated") == 1
    assert result.retries == 1 and len(fake.stored("contacts")) == 1


def test_an_upsert_that_never_answers_leaves_the_state_unknown(fake: Any) -> None:
    fake.plan("upsert", *[502] * 5)
    result = fake.load([fake.contact(0)], settings=LoadSettings(mode="upsert", max_retries=2))
    (outcome,) = result.outcomes
    assert outcome.status == "failed" and "state in Rally unknown" in (outcome.error or "")


def test_an_ambiguous_upsert_without_its_key_is_looked_for_not_resent(fake: Any) -> None:
    fake.plan("upsert", "commit+drop")
    result = fake.load([{"name": "No Domain Ltd"}], obj="companies", settings=UPSERT)
    (outcome,) = result.outcomes
    assert (outcome.status, outcome.reconciled) == ("created", True)
    assert len(fake.stored("companies")) == 1 and fake.count("upsert") == 1


def test_activities_have_no_upsert(fake: Any) -> None:
    with pytest.raises(ConfigError):
        fake.load([{"activityType": "note", "subject": "x"}], obj="activities", settings=UPSERT)


def _hanging_client(entered: asyncio.Event, sleep: Any = None) -> RallyClient:
    async def hang(request: httpx.Request) -> httpx.Response:
        entered.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    return RallyClient(
        "https://acme.rallycrm.io", "k", transport=httpx.MockTransport(hang), sleep=sleep
    )


def test_outcomes_settled_before_a_cancellation_are_reported_as_they_come() -> None:
    async def main() -> list[int]:
        seen: list[int] = []
        calls = 0

        async def first_batch_only(request: httpx.Request) -> httpx.Response:
            nonlocal calls
            calls += 1
            if calls == 1:
                return httpx.Response(200, json={"createdIds": ["id-0", "id-1"], "errors": []})
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

        settings = LoadSettings(batch_size=2, concurrency=1)
        transport = httpx.MockTransport(first_batch_only)
        async with RallyClient("https://acme.rallycrm.io", "k", transport=transport) as client:
            record = {"firstName": "A", "lastName": "B"}
            items = [(i, {**record, "email": f"{i}@x.io"}) for i in range(4)]
            task = asyncio.create_task(
                load_records(
                    client,
                    OBJECTS["contacts"],
                    items,
                    settings,
                    on_outcome=lambda outcome: seen.append(outcome.key),
                )
            )
            while len(seen) < 2:
                await asyncio.sleep(0)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        return seen

    assert asyncio.run(main()) == [0, 1]


@pytest.mark.parametrize("mode", ["bulk", "upsert"])
def test_cancellation_propagates_from_a_request_in_flight(mode: str) -> None:
    async def main() -> None:
        entered = asyncio.Event()
        settings = LoadSettings(mode=mode)  # type: ignore[arg-type]
        async with _hanging_client(entered) as client:
            record = {"firstName": "A", "lastName": "B"}
            items = [(i, {**record, "email": f"{i}@x.io"}) for i in range(5)]
            task = asyncio.create_task(load_records(client, OBJECTS["contacts"], items, settings))
            await entered.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(main())


def test_cancellation_propagates_from_a_retry_wait() -> None:
    async def main() -> None:
        waiting = asyncio.Event()

        async def sleep_forever(seconds: float) -> None:
            waiting.set()
            await asyncio.Event().wait()

        transport = httpx.MockTransport(lambda request: httpx.Response(429))
        async with RallyClient(
            "https://acme.rallycrm.io", "k", transport=transport, sleep=sleep_forever
        ) as client:
            items = [(0, {"firstName": "A", "lastName": "B", "email": "a@x.io"})]
            task = asyncio.create_task(
                load_records(client, OBJECTS["contacts"], items, LoadSettings())
            )
            await waiting.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(main())


def test_outcomes_given_to_on_outcome_are_not_kept_too() -> None:
    """A caller that takes each outcome as it comes gets all of them, once; the result keeps
    none (a million-row load would hold a million objects for nobody)."""
    seen: list[RecordOutcome] = []
    items = [(i, {"firstName": "A", "lastName": "B", "email": f"{i}@x.io"}) for i in range(5)]

    async def go() -> LoadResult:
        with in_process_sandbox(api_keys=("k",)) as sandbox:
            async with RallyClient(sandbox.base_url, "k", transport=sandbox.transport) as client:
                return await load_records(
                    client,
                    OBJECTS["contacts"],
                    items,
                    LoadSettings(batch_size=2),
                    on_outcome=seen.append,
                )

    result = asyncio.run(go())
    assert sorted(outcome.key for outcome in seen) == [0, 1, 2, 3, 4]
    assert {outcome.status for outcome in seen} == {"created"}
    assert result.outcomes == []
