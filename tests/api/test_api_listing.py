"""Listing every record: pages in order, each record once, read ahead only once a listing
proves long, and nothing left in flight when the listing ends or its reader stops."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from crmsync.api import RallyClient, paging
from crmsync.api.answers import PAGE_LIMIT
from crmsync.api.paging import read_ahead
from crmsync.api.rally import PAGES_IN_FLIGHT, PAGES_PER_STEP
from crmsync.errors import MalformedAnswerError
from crmsync.sandbox.testing import InProcessSandbox, in_process_sandbox, minimal_body
from crmsync.schema import OBJECTS

KEY = "rk_test_listing-0001"
CONTACTS = OBJECTS["contacts"]


class Counting(httpx.AsyncBaseTransport):
    """The sandbox, counting the list requests it gets and the most in flight at once."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.offsets: list[int] = []
        self.in_flight = 0
        self.most = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            self.offsets.append(int(request.url.params["offset"]))
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            await asyncio.sleep(0.001)  # an answer takes a moment: let others overlap
            return await self.inner.handle_async_request(request)
        finally:
            self.in_flight -= 1


@pytest.fixture
def rally() -> Iterator[InProcessSandbox]:
    with in_process_sandbox(api_keys=(KEY,)) as sandbox:
        yield sandbox


def seed(rally: InProcessSandbox, count: int) -> None:
    async def go() -> None:
        async with RallyClient(rally.base_url, KEY, transport=rally.transport) as client:
            for start in range(0, count, 100):
                bodies = [
                    minimal_body("contacts", n) for n in range(start, min(count, start + 100))
                ]
                await client.bulk_create(CONTACTS, bodies)

    asyncio.run(go())


def listing(
    rally: InProcessSandbox, *, stop_after: int | None = None
) -> tuple[list[Any], Counting]:
    counting = Counting(rally.transport)

    async def go() -> list[Any]:
        found = []
        async with RallyClient(rally.base_url, KEY, transport=counting) as client:
            async for record in client.iter_records(CONTACTS):
                found.append(record["id"])
                if stop_after is not None and len(found) == stop_after:
                    break
        return found

    return asyncio.run(go()), counting


@pytest.mark.parametrize(
    ("count", "requests"), [(0, 1), (99, 1), (100, 2), (799, 8), (800, 10), (850, 10)]
)
def test_a_short_listing_asks_for_no_page_it_does_not_need(
    rally: InProcessSandbox, count: int, requests: int
) -> None:
    """Eight pages one at a time; after eight full pages, two in flight."""
    seed(rally, count)
    ids, counting = listing(rally)
    assert len(ids) == len(set(ids)) == count
    assert len(counting.offsets) == requests


def test_a_long_listing_reads_pages_ahead_in_order_and_at_most_a_window_past_the_end(
    rally: InProcessSandbox,
) -> None:
    seed(rally, 2_050)
    ids, counting = listing(rally)
    assert ids == [record["id"] for record in rally.records("contacts", KEY)]  # in order, once
    assert Counter(counting.offsets).most_common(1)[0][1] == 1  # no page asked twice
    assert counting.most > 1  # read ahead
    assert counting.most <= PAGES_IN_FLIGHT
    needed = 21  # 20 full pages and a short one
    assert needed <= len(counting.offsets) <= needed + 20 // PAGES_PER_STEP


def test_a_reader_that_stops_leaves_nothing_in_flight(rally: InProcessSandbox) -> None:
    seed(rally, 1_000)
    ids, counting = listing(rally, stop_after=450)
    assert len(ids) == 450
    assert counting.in_flight == 0


def _records(start: int, count: int) -> list[dict[str, Any]]:
    return [{"id": f"id-{n}", "email": f"p{n}@x.org"} for n in range(start, start + count)]


def _listed(page_at: Any, **options: Any) -> list[dict[str, Any]]:
    async def go() -> list[dict[str, Any]]:
        return [record async for record in read_ahead(page_at, **options)]

    return asyncio.run(go())


@pytest.mark.parametrize(
    "answer",
    [
        lambda offset: _records(0, PAGE_LIMIT),  # offset ignored: the first page for ever
        lambda offset: _records(0, 40) + _records(39, 1) * 60,  # a short page padded
    ],
    ids=["offset-ignored", "page-repeats-itself"],
)
def test_a_listing_that_repeats_its_pages_is_a_malformed_answer_not_a_loop(answer: Any) -> None:
    async def page_at(offset: int) -> list[dict[str, Any]]:
        return answer(offset)  # type: ignore[no-any-return]

    with pytest.raises(MalformedAnswerError, match="does not page by offset"):
        _listed(page_at)


def test_a_listing_that_never_ends_stops_at_max_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paging, "MAX_PAGES", 30)

    async def page_at(offset: int) -> list[dict[str, Any]]:
        return _records(offset, PAGE_LIMIT)  # new records at every offset, for ever

    with pytest.raises(MalformedAnswerError, match="never ends it"):
        _listed(page_at)


def test_a_listing_that_skips_one_record_is_read_to_its_end() -> None:
    """A record updated while it is listed moves to the end: the next page starts one later."""

    async def page_at(offset: int) -> list[dict[str, Any]]:
        start = offset if offset < 200 else offset + 1
        return _records(start, max(0, min(PAGE_LIMIT, 350 - start)))

    assert len(_listed(page_at)) == 349


def _capped(records: int, cap: int) -> tuple[list[int], list[dict[str, Any]]]:
    """(offsets asked, records read) of a listing from a server that answers at most `cap`
    records a page, whatever limit is asked."""
    rows = [{"id": f"id-{n:04d}", "email": f"p{n}@x.org"} for n in range(records)]
    asked: list[int] = []

    def page_at(offset: int) -> Any:
        asked.append(offset)

        async def page() -> list[dict[str, Any]]:
            return rows[offset : offset + cap]

        return page()

    async def go() -> list[dict[str, Any]]:
        return [r async for r in read_ahead(page_at, sizes=paging.PageSize())]

    return asked, asyncio.run(go())


def test_a_server_capping_pages_at_50_is_read_whole() -> None:
    """Its first short page of 50 is no end: the offset after it shows more, and the pages
    are then taken 50 at a time (a listing cut at 50 made a nightly merge blind)."""
    asked, read = _capped(120, 50)
    assert len(read) == 120 and len({r["id"] for r in read}) == 120
    assert asked == [0, 50, 100]


def test_a_listing_that_ends_on_a_page_of_50_costs_one_look_more() -> None:
    asked, read = _capped(50, 100)
    assert len(read) == 50 and asked == [0, 50]
    asked, read = _capped(37, 100)  # not the size of a usual cap: the end
    assert len(read) == 37 and asked == [0]
