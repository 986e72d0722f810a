"""RallyClient's cap on requests in flight adapts (needs the client wired to ConcurrencyLimit)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest

from crmsync.api import RallyClient
from crmsync.api.settings import ClientSettings
from crmsync.load import LoadSettings, load_records
from crmsync.schema import OBJECTS

Runner = Callable[[Coroutine[Any, Any, Any]], Any]
LATENCY_S = 0.25


async def _load(settings: LoadSettings, batches: int) -> tuple[int, int]:
    """Bulks answered after LATENCY_S (virtual); returns (peak in flight, final cap)."""
    loop = asyncio.get_running_loop()
    counts = {"open": 0, "peak": 0}

    async def handle(request: httpx.Request) -> httpx.Response:
        counts["open"] += 1
        counts["peak"] = max(counts["peak"], counts["open"])
        await asyncio.sleep(LATENCY_S)
        counts["open"] -= 1
        records = json.loads(request.content)
        ids = [f"id-{loop.time()}-{n}" for n in range(len(records))]
        return httpx.Response(200, json={"created": len(ids), "createdIds": ids, "errors": []})

    async with RallyClient(
        "https://acme.rallycrm.io",
        "rk_test_key",
        settings=settings,
        transport=httpx.MockTransport(handle),
        sleep=asyncio.sleep,
        clock=loop.time,
    ) as client:
        items = [(n, {"email": f"u{n}@example.com"}) for n in range(batches * 100)]
        result = await load_records(client, OBJECTS["contacts"], items, settings)
        assert result.count("created") == len(items)
        return counts["peak"], client.in_flight.limit


@pytest.mark.parametrize(
    ("settings", "peak"),
    [(LoadSettings(), 16), (LoadSettings(concurrency=4, max_concurrency=4), 4)],
    ids=["adaptive-default", "fixed"],
)
def test_slow_answers_open_more_requests_up_to_the_maximum(
    in_virtual_time: Runner, settings: LoadSettings, peak: int
) -> None:
    assert in_virtual_time(_load(settings, 200)) == (peak, peak)


async def _through_a_token_bucket(requests: int, rate: int) -> int:
    """Lists against a server with a token bucket (`rate` a second, as many at once), answered
    after LATENCY_S, through a cap of 8 in flight; returns the 429s."""
    loop = asyncio.get_running_loop()
    bucket = {"tokens": float(rate), "at": loop.time()}
    limited = 0

    async def handle(request: httpx.Request) -> httpx.Response:
        nonlocal limited
        await asyncio.sleep(LATENCY_S)
        now = loop.time()
        bucket["tokens"] = min(rate, bucket["tokens"] + (now - bucket["at"]) * rate)
        bucket["at"] = now
        if bucket["tokens"] < 1:
            limited += 1
            return httpx.Response(429, headers={"Retry-After": "1"}, json={"error": "slow"})
        bucket["tokens"] -= 1
        return httpx.Response(200, json=[])

    async with RallyClient(
        "https://acme.rallycrm.io",
        "rk_test_key",
        settings=ClientSettings(concurrency=8, max_concurrency=8),
        transport=httpx.MockTransport(handle),
        sleep=asyncio.sleep,
        clock=loop.time,
    ) as client:
        await asyncio.gather(*(client.list_page(OBJECTS["contacts"]) for _ in range(requests)))
        return limited


def test_requests_waiting_for_a_slot_when_the_pace_is_cut_take_a_new_turn(
    in_virtual_time: Runner,
) -> None:
    """Unpaced at first, 200 requests queue for 8 slots with their turns already given. When
    the first 429 sets a pace, those still queued take a new turn at it: sent at the turns
    they got while unpaced, they overran the limit for seconds (187 429s, measured), and each
    429 that looked new could cut the pace further under what the server accepts."""
    assert in_virtual_time(_through_a_token_bucket(200, rate=10)) <= 10
