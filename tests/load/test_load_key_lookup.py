"""Looking up the keys an ambiguous bulk may have stored: where the listing starts and stops."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any, cast

import httpx

from crmsync.api import RallyClient
from crmsync.api.concurrency import ConcurrencyLimit
from crmsync.api.pacing import Pacer
from crmsync.api.paging import PageSize
from crmsync.api.server_clock import Created, ServerClock
from crmsync.load.reconcile import PAGES_AHEAD, _windows, find_keys
from crmsync.schema import OBJECTS, RallyObject

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NOW = 100.0  # the fake pacer's clock
PAGE = 100


def _stamp(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


class ListingClient:
    """A Rally list ordered by updatedAt: counts the records and pages it hands out."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = sorted(records, key=lambda r: (r["updatedAt"], r["id"]))
        self.pages = 0
        self.urgent: list[bool] = []
        self.pacer = Pacer(clock=lambda: NOW)  # unpaced until `limited`
        self.page_size = PageSize()
        self.in_flight = self.most_in_flight = 0

    def limited(self) -> None:
        """As after a 429: the client now paces its requests."""
        for _ in range(4):
            self.pacer.on_success()
        self.pacer.on_rate_limited(NOW)

    async def list_page(
        self,
        obj: RallyObject,
        *,
        limit: int,
        offset: int,
        updated_since: datetime | None = None,
        fields: Sequence[str] | None = None,
        urgent: bool = False,
    ) -> list[dict[str, Any]]:
        since = _stamp(0) if updated_since is None else updated_since.isoformat()
        since = since.replace("+00:00", "Z")
        listed = [r for r in self.records if r["updatedAt"] >= since]
        self.pages += 1
        self.urgent.append(urgent)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(0)
        self.in_flight -= 1
        page = listed[offset : offset + limit]
        return [{name: record[name] for name in (fields or record)} for record in page]

    iter_records = RallyClient.iter_records  # the client's own paging, over these pages


def _contacts(first: int, count: int, at: float) -> list[dict[str, Any]]:
    return [
        {"id": f"id-{n}", "email": f"c{n}@example.com", "updatedAt": _stamp(at + n / 10_000)}
        for n in range(first, first + count)
    ]


def _find(client: ListingClient, wanted: set[str], **kwargs: Any) -> dict[str, str]:
    return asyncio.run(
        find_keys(
            cast(RallyClient, client),
            OBJECTS["contacts"],
            kwargs.pop("since"),
            "email",
            wanted,
            **kwargs,
        )
    )


def test_the_search_stops_once_every_key_is_found() -> None:
    client = ListingClient(_contacts(0, 1_000, at=10))
    found = _find(client, {f"c{n}@example.com" for n in range(150, 250)}, since=T0)
    assert len(found) == 100 and found["c150@example.com"] == "id-150"
    # pages 0-2, not the 11 of the listing (page 3, asked for ahead, is called off unsent)
    assert client.pages == 3
    assert all(client.urgent)  # records already sent wait on it


def test_while_requests_wait_for_turns_the_search_asks_for_no_page_ahead() -> None:
    """A page asked for ahead and not needed costs a turn under the limit that a bulk could
    have had (the search mostly ends a page or two in); without a limit, or once no request
    waits for a turn (the bulks are sent), it costs only a request, and saves a latency per
    page."""
    wanted = {f"c{n}@example.com" for n in range(150, 450)}
    free = ListingClient(_contacts(0, 1_000, at=10))
    assert len(_find(free, wanted, since=T0)) == 300
    assert free.most_in_flight == PAGES_AHEAD
    paced = ListingClient(_contacts(0, 1_000, at=10))
    paced.limited()
    asyncio.run(paced.pacer.acquire())  # a bulk's turn: the next request would wait for one
    assert paced.pacer.rate is not None and not paced.pacer.idle
    assert len(_find(paced, wanted, since=T0)) == 300
    assert paced.most_in_flight == 1 and paced.pages == 5  # pages 0-4, none past them
    done = ListingClient(_contacts(0, 1_000, at=10))
    done.limited()  # paced, but no request waits
    assert done.pacer.rate is not None and done.pacer.idle
    assert len(_find(done, wanted, since=T0)) == 300
    assert done.most_in_flight == PAGES_AHEAD


def test_a_key_never_found_stops_at_the_first_record_stored_after_until() -> None:
    """A refused key was stored before the re-send was answered: what Rally stored later
    cannot be it, however much of it there is."""
    client = ListingClient(_contacts(0, 200, at=10) + _contacts(200, 5_000, at=30))
    found = _find(
        client, {"c5@example.com", "nobody@example.com"}, since=T0, until=T0 + timedelta(seconds=20)
    )
    assert found == {"c5@example.com": "id-5"}
    # the 200 stored before until, and the page that passes it
    assert client.pages == 3


def test_keys_stored_just_before_the_narrow_start_are_found_from_the_wide_one() -> None:
    """A server clock a little behind ours (or two servers that disagree) stores the bulk's
    records a moment before where the search starts: the margin before it is searched too."""
    client = ListingClient(_contacts(0, 50, at=9.8) + _contacts(50, 300, at=10.5))
    wanted = {f"c{n}@example.com" for n in range(0, 50)}
    found = _find(
        client,
        wanted,
        since=T0 + timedelta(seconds=10),
        until=T0 + timedelta(seconds=11),
        wide_since=T0 + timedelta(seconds=9.5),
    )
    assert set(found) == wanted


def test_a_probe_that_holds_the_keys_spares_the_pages_before_it() -> None:
    """A bulk committed just before its failed answer: its records are found around that
    answer, not after every record of the bulks in flight since it left."""
    client = ListingClient(_contacts(0, 800, at=10) + _contacts(800, 100, at=10.4))
    wanted = {f"c{n}@example.com" for n in range(800, 900)}
    probe = (T0 + timedelta(seconds=10.3), T0 + timedelta(seconds=10.5))
    found = _find(client, wanted, since=T0 + timedelta(seconds=9.9), probes=[probe])
    assert set(found) == wanted and found["c800@example.com"] == "id-800"
    assert client.pages == 1  # the one page since the probe's start, not the 9 since `since`


def test_keys_a_probe_misses_are_searched_in_the_whole_window_then_the_wide_one() -> None:
    client = ListingClient(
        _contacts(0, 50, at=9.8) + _contacts(50, 50, at=10.1) + _contacts(100, 500, at=12)
    )
    wanted = {"c10@example.com", "c60@example.com"}
    found = _find(
        client,
        wanted,
        since=T0 + timedelta(seconds=10.05),
        until=T0 + timedelta(seconds=11),
        wide_since=T0 + timedelta(seconds=9.5),
        probes=[(T0 + timedelta(seconds=10.5), T0 + timedelta(seconds=10.7))],
    )
    assert found == {"c10@example.com": "id-10", "c60@example.com": "id-60"}


def test_probes_are_cut_to_the_window_and_empty_ones_skipped() -> None:
    since, until = T0 + timedelta(seconds=10), T0 + timedelta(seconds=11)
    inside = (T0 + timedelta(seconds=10.5), T0 + timedelta(seconds=10.7))
    straddling = (T0 + timedelta(seconds=10.9), T0 + timedelta(seconds=11.2))
    before = (T0 + timedelta(seconds=8), T0 + timedelta(seconds=9))
    windows = _windows(since, until, None, [inside, straddling, before])
    assert windows == [inside, (straddling[0], until), (since, until)]
    assert _windows(since, None, None, [straddling]) == [straddling, (since, None)]


def _answer(date: datetime) -> httpx.Response:
    return httpx.Response(200, headers={"Date": format_datetime(date, usegmt=True)})


def test_the_server_clock_is_bounded_from_both_sides() -> None:
    """Rally's clock is 42.3 s ahead of ours. Each Date is rounded down to the second: the
    lower bound never passes the truth, the upper bound never falls under it."""
    offset = 42.3
    clock = ServerClock()
    assert clock.at_least(0.0) is None and clock.at_most(0.0) is None
    for sent in [0.0, 0.45, 1.2, 1.71, 2.05, 3.9]:
        stamped = sent + 0.1  # Rally writes the Date 100 ms after the request left
        server = datetime.fromtimestamp(1_800_000_000 + stamped + offset, UTC)
        clock.note(_answer(server.replace(microsecond=0)), sent=sent, received=sent + 0.25)
        truth = datetime.fromtimestamp(1_800_000_000 + 5.0 + offset, UTC)
        low, high = clock.at_least(5.0), clock.at_most(5.0)
        assert low is not None and high is not None
        assert low <= truth <= high
    assert (high - low).total_seconds() < 1.3


def test_the_records_clock_widens_both_bounds_once_read() -> None:
    """Records are stamped 2.5 s behind the Date headers' clock (to the millisecond): once a
    created record is read, the lower bound falls behind the records' clock and the upper one
    stays past the Date headers' (the wider of the two, each way); a record's stamp rounded
    to the second counts as up to a second late."""
    clock = ServerClock()
    epoch = 1_800_000_000
    clock.note(_answer(datetime.fromtimestamp(epoch + 10, UTC)), sent=10.0, received=10.2)
    date_low, date_high = clock.at_least(20.0), clock.at_most(20.0)
    assert date_low is not None and date_high is not None
    created = Created("contacts", "id-1", sent=11.0, received=11.3)
    clock.created(created)
    assert clock.to_read() == created and clock.to_read() is None  # read once
    stamp = datetime.fromtimestamp(epoch + 11.1 - 2.5, UTC)
    clock.note_record(stamp, created)
    truth = datetime.fromtimestamp(epoch + 20.0 - 2.5, UTC)
    low, high = clock.at_least(20.0), clock.at_most(20.0)
    assert low is not None and high is not None
    assert low <= truth and (truth - low).total_seconds() < 0.3
    assert high == date_high
    assert clock.stamped_at(20.0) == low
    clock.created(Created("contacts", "id-2", sent=12.0, received=12.1))
    assert clock.to_read() is None  # read already: never again
    coarse = ServerClock()
    coarse.note_record(stamp.replace(microsecond=0), created)
    ceiling = coarse.at_most(20.0)
    assert ceiling is not None and ceiling >= truth


def test_the_records_clock_is_read_from_one_record_even_while_its_read_waits() -> None:
    """A record created while the first one is being read is not kept for a second read
    (a request more, and every search waits for it); a read that failed gives its record
    back, so a later search reads the clock from it."""
    clock = ServerClock()
    first = Created("contacts", "id-1", sent=11.0, received=11.3)
    clock.created(first)
    assert clock.to_read() == first
    assert clock.knows_records  # being read: searches wait for it, not for answers
    clock.created(Created("contacts", "id-2", sent=12.0, received=12.1))
    assert clock.to_read() is None
    clock.unread(first)  # the GET failed
    assert clock.to_read() == first


def test_an_urgent_request_goes_before_those_already_waiting() -> None:
    async def go() -> list[str]:
        limit = ConcurrencyLimit(1, 1)
        order: list[str] = []

        async def request(name: str, urgent: bool) -> None:
            async with limit.slot(urgent=urgent):
                order.append(name)
                await asyncio.sleep(0)

        first = limit.try_acquire()
        assert first is not None
        waiting = [asyncio.create_task(request(f"bulk{n}", False)) for n in range(3)]
        await asyncio.sleep(0)
        waiting += [asyncio.create_task(request(f"lookup{n}", True)) for n in range(2)]
        await asyncio.sleep(0)
        limit.release(first)
        await asyncio.gather(*waiting)
        return order

    assert asyncio.run(go()) == ["lookup0", "lookup1", "bulk0", "bulk1", "bulk2"]
