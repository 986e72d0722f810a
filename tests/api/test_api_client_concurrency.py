"""RallyClient's cap on requests in flight adapts (needs the client wired to ConcurrencyLimit)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest

from crmsync.api import RallyClient
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
