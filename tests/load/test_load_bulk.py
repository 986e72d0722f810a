"""Bulk mode: errors[].index and createdIds back to the right keys, 4xx splitting, progress."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from crmsync.api import RallyClient
from crmsync.errors import ConfigError
from crmsync.load import LoadResult, LoadSettings, load_records
from crmsync.schema import OBJECTS

BASE_URL = "https://acme.rallycrm.io"
KEY = "rk_live_S3CRET-test-key-0042"
BAD = {"bad": True}
MALFORMED = {"malformed": True}


def _assert_ids_land_on_their_records(fake: Any, items: list[dict[str, Any]], result: Any) -> None:
    """Every created outcome's id is the stored record that was sent under that key."""
    stored = {doc["id"]: doc for doc in fake.stored("contacts")}
    for outcome in result.outcomes:
        if outcome.status == "created":
            assert stored[outcome.rally_id]["email"] == items[outcome.key]["email"]


@pytest.mark.parametrize(
    "bad",
    [[], [0], [5], [9], [0, 9], [3, 4, 5], [0, 2, 4, 6, 8], list(range(10))],
    ids=["none", "first", "middle", "last", "first-and-last", "middle-run", "alternate", "all"],
)
def test_error_indexes_and_created_ids_map_to_keys(fake: Any, bad: list[int]) -> None:
    items = [fake.contact(i, **(BAD if i in bad else {})) for i in range(10)]
    result = fake.load(items)
    failed = sorted(o.key for o in result.outcomes if o.status == "failed")
    assert failed == bad
    for outcome in result.outcomes:
        if outcome.status == "failed":
            assert outcome.error == f"record {outcome.key} is bad"
            assert outcome.rally_id is None
    _assert_ids_land_on_their_records(fake, items, result)
    assert result.requests == 1
    assert not any(o.reconciled for o in result.outcomes)


def test_batches_are_cut_at_batch_size_and_keys_survive_them(fake: Any) -> None:
    items = [fake.contact(i, **(BAD if i % 7 == 3 else {})) for i in range(250)]
    result = fake.load(items, settings=LoadSettings(batch_size=40, concurrency=3))
    assert sorted(fake.bulk_sizes) == sorted([40] * 6 + [10])
    assert sorted(o.key for o in result.outcomes) == list(range(250))
    assert {o.key for o in result.outcomes if o.status == "failed"} == {
        i for i in range(250) if i % 7 == 3
    }
    _assert_ids_land_on_their_records(fake, items, result)


def test_items_are_pulled_a_batch_at_a_time_as_workers_free_up(fake: Any) -> None:
    """A million-row load must not hold every payload: load_records takes a generator and
    only draws the next batch when a worker is about to send it."""
    total, pulled, seen_at_progress = 1_500, [0], []

    def items() -> Iterator[dict[str, Any]]:
        for i in range(total):
            pulled[0] += 1
            yield fake.contact(i)

    settings = LoadSettings(batch_size=100, concurrency=1, max_concurrency=1)
    result = fake.load(
        items(), settings=settings, on_progress=lambda *_: seen_at_progress.append(pulled[0])
    )
    workers = 2  # WORKERS_PER_SLOT per request the client may have in flight
    assert seen_at_progress[0] <= workers * settings.batch_size
    assert seen_at_progress == sorted(seen_at_progress) and seen_at_progress[-1] == total
    assert sorted(o.key for o in result.outcomes) == list(range(total))
    assert result.count("created") == total


def test_duplicate_keys_fail_at_their_index(fake: Any) -> None:
    fake.load([fake.contact(1)])
    items = [fake.contact(0), fake.contact(1), fake.contact(2)]
    result = fake.load(items)
    assert {o.key: o.status for o in result.outcomes} == {0: "created", 1: "failed", 2: "created"}


@pytest.mark.parametrize("position", [0, 37, 99], ids=["first", "middle", "last"])
def test_a_refused_bulk_is_split_until_the_bad_record_is_isolated(fake: Any, position: int) -> None:
    items = [fake.contact(i, **(MALFORMED if i == position else {})) for i in range(100)]
    result = fake.load(items)
    (failed,) = [o for o in result.outcomes if o.status == "failed"]
    assert (failed.key, failed.http_status) == (position, 400)
    assert failed.error == "malformed record in request"
    assert result.count("created") == 99
    assert len(fake.stored("contacts")) == 99
    # Halving 100 down to 1: one refused and one accepted request per level.
    assert result.requests <= 2 * math.ceil(math.log2(100)) + 1
    assert result.retries == 0
    _assert_ids_land_on_their_records(fake, items, result)


def test_two_bad_records_are_both_isolated(fake: Any) -> None:
    items = [fake.contact(i, **(MALFORMED if i in (10, 80) else {})) for i in range(100)]
    result = fake.load(items)
    assert sorted(o.key for o in result.outcomes if o.status == "failed") == [10, 80]
    assert result.count("created") == 98


@pytest.mark.parametrize(
    ("status", "split"), [(413, True), (422, True), (409, False), (410, False)]
)
def test_which_refusals_split(fake: Any, status: int, split: bool) -> None:
    fake.plan("bulk", status)
    result = fake.load([fake.contact(i) for i in range(4)])
    if split:
        assert result.count("created") == 4
        assert fake.count("bulk") == 3
    else:
        assert result.count("failed") == 4
        assert f"HTTP {status}" in (result.outcomes[0].error or "")
        assert fake.count("bulk") == 1


def _drop_last_created_id(response: httpx.Response) -> httpx.Response:
    body = json.loads(response.content)
    body["createdIds"] = body["createdIds"][:-1]
    return httpx.Response(response.status_code, json=body, headers=response.headers)


def _bogus_error_index(response: httpx.Response) -> httpx.Response:
    body = json.loads(response.content)
    body["errors"].append({"index": 77, "error": "nowhere"})
    return httpx.Response(response.status_code, json=body, headers=response.headers)


def _one_id_for_all(response: httpx.Response) -> httpx.Response:
    body = json.loads(response.content)
    body["createdIds"] = [body["createdIds"][0]] * len(body["createdIds"])
    return httpx.Response(response.status_code, json=body, headers=response.headers)


@pytest.mark.parametrize(
    "rewrite",
    [_drop_last_created_id, _bogus_error_index, _one_id_for_all],
    ids=["short-ids", "bad-index", "one-id-for-all"],
)
def test_an_answer_that_does_not_add_up_is_reconciled_not_guessed(fake: Any, rewrite: Any) -> None:
    items = [fake.contact(i, **(BAD if i == 2 else {})) for i in range(5)]
    fake.plan("bulk", rewrite)
    result = fake.load(items)
    assert {o.key: o.status for o in result.outcomes} == {
        0: "created",
        1: "created",
        2: "failed",
        3: "created",
        4: "created",
    }
    assert all(o.reconciled for o in result.outcomes if o.status == "created")
    assert fake.count("upsert") == 0 and fake.count("list") >= 1
    created = [o.rally_id for o in result.outcomes if o.status == "created"]
    assert len(set(created)) == len(created)  # never two rows mapped to one record
    assert len(fake.stored("contacts")) == 4
    _assert_ids_land_on_their_records(fake, items, result)


def test_an_unreadable_2xx_is_ambiguous(fake: Any) -> None:
    fake.plan("bulk", lambda response: httpx.Response(200, text="<html>oops</html>"))
    result = fake.load([fake.contact(i) for i in range(3)])
    assert result.count("created") == 3
    assert all(o.reconciled for o in result.outcomes)
    assert len(fake.stored("contacts")) == 3


def test_progress_reports_records_and_batches(fake: Any) -> None:
    seen: list[tuple[int, int]] = []
    fake.load(
        [fake.contact(i) for i in range(25)],
        settings=LoadSettings(batch_size=10),
        on_progress=lambda records, batches: seen.append((records, batches)),
    )
    assert seen[-1] == (25, 3)
    assert [batches for _, batches in seen] == [1, 2, 3]


def test_a_load_cancelled_says_which_batches_never_left(fake: Any) -> None:
    """One request at a time; the first bulk is on the wire, unanswered, when the load is
    cancelled (Ctrl-C): the batch waiting for its turn was never sent, and says so; the one
    on the wire may have been written, and does not."""
    on_wire = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        on_wire.set()
        await asyncio.sleep(3600)  # never answered
        raise AssertionError("unreachable")

    unsent: list[int] = []
    settings = LoadSettings(batch_size=2, concurrency=1, max_concurrency=1)

    async def go() -> None:
        async with RallyClient(
            BASE_URL, KEY, settings=settings, transport=httpx.MockTransport(handler)
        ) as client:
            items = enumerate(fake.contact(i) for i in range(10))
            load = asyncio.create_task(
                load_records(client, OBJECTS["contacts"], items, settings, on_unsent=unsent.extend)
            )
            await on_wire.wait()
            for _ in range(20):  # the second worker takes its batch and waits its turn
                await asyncio.sleep(0)
            load.cancel()
            with pytest.raises(asyncio.CancelledError):
                await load

    asyncio.run(go())
    assert unsent == [2, 3]  # the second batch; the first may be in Rally; the rest never taken


def test_nothing_to_load(fake: Any) -> None:
    result: LoadResult = fake.load([])
    assert (result.outcomes, result.requests) == ([], 0)


@pytest.mark.parametrize(
    "options",
    [
        {"batch_size": 0},
        {"batch_size": 101},
        {"concurrency": 0},
        {"concurrency": 8, "max_concurrency": 7},
        {"max_retries": -1},
        {"max_backoff_s": 0},
        {"read_timeout_s": -1},
        {"mode": "replace"},
    ],
    ids=[
        "batch-0",
        "batch-101",
        "concurrency-0",
        "max-below-start",
        "retries",
        "backoff",
        "timeout",
        "mode",
    ],
)
def test_bad_settings_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        LoadSettings(**options)
