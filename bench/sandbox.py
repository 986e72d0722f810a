"""How many bulk creates a second the sandbox sustains (target: 100 requests, 10,000 records).

Starts `crmsync sandbox` in a subprocess (faults off), then keeps CONCURRENCY bulk requests of
100 unique contacts in flight for DURATION seconds and prints throughput and latency.

    .venv/bin/python bench/sandbox.py [--seconds 10] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from dataclasses import dataclass, field

import httpx

from crmsync.sandbox.testing import running_sandbox
from crmsync.schema import MAX_BULK

DEFAULT_SECONDS = 10.0
DEFAULT_CONCURRENCY = 8
WARMUP_SECONDS = 0.5
WARMUP_WORKERS = 2
TARGET_REQUESTS_PER_S = 100
MS_PER_S = 1000
PERCENTILES = 100  # statistics.quantiles cut points: index 49 is p50, 94 is p95


@dataclass
class Tally:
    latencies_s: list[float] = field(default_factory=list)
    records: int = 0
    errors: int = 0


class Bodies:
    """Bulk bodies of unique contacts, built as bytes so the client spends little CPU."""

    def __init__(self) -> None:
        self._next = 0

    def next(self) -> bytes:
        start, self._next = self._next, self._next + MAX_BULK
        items = [
            {
                "firstName": "Bench",
                "lastName": f"User{n}",
                "email": f"bench.user{n}@example.com",
                "phone": "+1-555-0100",
                "title": "Engineer",
                "city": "Springfield",
                "tags": "bench,load",
            }
            for n in range(start, start + MAX_BULK)
        ]
        return json.dumps(items).encode()


async def _worker(client: httpx.AsyncClient, bodies: Bodies, deadline: float, tally: Tally) -> None:
    while time.perf_counter() < deadline:
        body = bodies.next()
        started = time.perf_counter()
        response = await client.post("/api/v1/contacts/bulk", content=body)
        tally.latencies_s.append(time.perf_counter() - started)
        if response.status_code == httpx.codes.OK:
            tally.records += response.json()["created"]
        else:
            tally.errors += 1


async def _drive(
    base_url: str, api_key: str, seconds: float, concurrency: int
) -> tuple[Tally, float]:
    """Warm up, then run; answers the tally and the measured seconds of the run."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"X-Api-Key": api_key, "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits) as client:
        bodies = Bodies()
        warmup = Tally()
        warmup_deadline = time.perf_counter() + WARMUP_SECONDS
        await asyncio.gather(
            *(_worker(client, bodies, warmup_deadline, warmup) for _ in range(WARMUP_WORKERS))
        )
        tally = Tally()
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(
            *(_worker(client, bodies, deadline, tally) for _ in range(concurrency))
        )
        return tally, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=DEFAULT_SECONDS)
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    args = parser.parse_args()
    with running_sandbox() as sandbox:
        tally, seconds = asyncio.run(
            _drive(sandbox.base_url, sandbox.api_key, args.seconds, args.concurrency)
        )
        stored = sandbox.stats()["records"]["contacts"]
    requests = len(tally.latencies_s)
    cuts = statistics.quantiles(tally.latencies_s, n=PERCENTILES)
    rate = requests / seconds
    print(
        f"sandbox bulk create: {args.concurrency} in flight for {seconds:.1f} s,"
        f" {requests} requests; load average {os.getloadavg()[0]:.2f} (2 shared cores)"
    )
    print(f"  bulk requests/s : {rate:8.1f}   (target {TARGET_REQUESTS_PER_S})")
    print(f"  records/s       : {tally.records / seconds:8.0f}")
    print(f"  latency p50/p95 : {cuts[49] * MS_PER_S:.1f} / {cuts[94] * MS_PER_S:.1f} ms")
    print(f"  errors          : {tally.errors}; contacts stored (incl. warm-up): {stored}")
    verdict = "MEETS" if rate >= TARGET_REQUESTS_PER_S else "BELOW"
    print(f"  {verdict} the target of {TARGET_REQUESTS_PER_S} bulk requests/s")


if __name__ == "__main__":
    main()
