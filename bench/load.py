"""How close bulk loading gets to a rate limit: adaptive concurrency vs fixed caps.

Starts `crmsync sandbox` in a subprocess with a latency and a per-key rate limit (a token bucket:
capacity N, refill N/s, 429 + Retry-After past it), loads ROWS unique contacts through
load_records in bulk mode, and prints records/s beside the limit (N requests/s x 100 records):
first with the adaptive cap (starting at --concurrency, up to --max-concurrency: the defaults),
then the same load with the cap fixed at --concurrency, and fixed at 1 (one batch at a time).
Each load is verified through the sandbox: every contact arrived exactly once, under the id its
outcome names. Goal: >= 90% of the limit, at 50 ms and at 250 ms latency alike.

    .venv/bin/python bench/load.py [--rows 20000] [--latency-ms 50] [--rate-limit 20]
                                   [--concurrency 4] [--max-concurrency 16] [--no-serial]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass
from typing import Any

from crmsync.api import RallyClient
from crmsync.api.settings import DEFAULT_CONCURRENCY, DEFAULT_MAX_CONCURRENCY
from crmsync.load import LoadResult, LoadSettings, load_records
from crmsync.sandbox.testing import SandboxHandle, running_sandbox
from crmsync.schema import MAX_BULK, OBJECTS

DEFAULT_ROWS = 20_000
DEFAULT_LATENCY_MS = 50
DEFAULT_RATE_LIMIT = 20
GOAL_SHARE = 0.90
# Between loads: let the sandbox's token bucket (capacity = one second of refill) fill again.
BUCKET_REFILL_S = 1.5
CONTACTS = OBJECTS["contacts"]


@dataclass
class Run:
    label: str
    cap: str  # how in-flight requests were capped: "4..16 (end 9, peak 16, 2 cuts)", "fixed 4"
    seconds: float
    result: LoadResult
    final_rate: float | None
    decreases: int

    @property
    def records_per_s(self) -> float:
        return len(self.result.outcomes) / self.seconds


def contacts(rows: int, run: str) -> list[tuple[int, dict[str, Any]]]:
    return [
        (
            n,
            {
                "firstName": "Bench",
                "lastName": f"User{n}",
                "email": f"bench.{run}.{n}@example.com",
                "phone": "+1-555-0100",
                "title": "Engineer",
                "city": "Springfield",
                "tags": "bench,load",
            },
        )
        for n in range(rows)
    ]


async def load(
    sandbox: SandboxHandle, label: str, rows: int, concurrency: int, max_concurrency: int
) -> Run:
    settings = LoadSettings(
        mode="bulk",
        batch_size=MAX_BULK,
        concurrency=concurrency,
        max_concurrency=max_concurrency,
    )
    items = contacts(rows, label)
    async with RallyClient(sandbox.base_url, sandbox.api_key, settings=settings) as client:
        await client.check_auth(CONTACTS)
        start = time.perf_counter()
        result = await load_records(client, CONTACTS, items, settings)
        seconds = time.perf_counter() - start
        cap = f"fixed {concurrency}"
        if max_concurrency > concurrency:
            cap = f"{concurrency}..{max_concurrency}"
            limit = getattr(client, "in_flight", None)  # the adaptive cap, once wired in
            if limit is not None:
                cap += f" (end {limit.limit}, peak {limit.peak}, {limit.decreases} cuts)"
        return Run(label, cap, seconds, result, client.pacer.rate, client.pacer.decreases)


def verify(sandbox: SandboxHandle, run: Run, rows: int) -> str:
    """Every contact stored exactly once, under the id its outcome names."""
    stored = sandbox.records("contacts")
    emails = [doc["email"] for doc in stored if f".{run.label}." in doc["email"]]
    by_id = {doc["id"]: doc["email"] for doc in stored}
    created = [o for o in run.result.outcomes if o.status == "created"]
    problems = []
    if len(emails) != rows:
        problems.append(f"{len(emails)} stored, expected {rows}")
    if len(set(emails)) != len(emails):
        problems.append(f"{len(emails) - len(set(emails))} duplicates")
    if len(created) != rows:
        problems.append(f"{rows - len(created)} not created")
    wrong = [
        o
        for o in created
        if by_id.get(o.rally_id or "") != f"bench.{run.label}.{o.key}@example.com"
    ]
    if wrong:
        problems.append(f"{len(wrong)} outcomes name the wrong id")
    return "OK: all arrived exactly once" if not problems else "FAILED: " + "; ".join(problems)


def report(run: Run, limit_records_per_s: float | None, check: str) -> None:
    share = f"{run.records_per_s / limit_records_per_s:6.1%}" if limit_records_per_s else "   n/a"
    r = run.result
    pace = f"{run.final_rate:.1f} req/s" if run.final_rate is not None else "unpaced"
    print(
        f"  {run.cap:<33} {run.records_per_s:8,.0f} records/s = {share} of the"
        f" limit  ({run.seconds:5.1f} s; {r.requests} requests, {r.retries} retries,"
        f" {r.rate_limited} 429s; pace at end {pace}, {run.decreases} decreases)  {check}"
    )


async def main_async(args: argparse.Namespace) -> None:
    limit = args.rate_limit * MAX_BULK if args.rate_limit else None
    with running_sandbox(latency_ms=args.latency_ms, rate_limit=args.rate_limit) as sandbox:
        print(
            f"{args.rows:,} contacts, bulk of {MAX_BULK}, latency {args.latency_ms} ms, rate limit"
            f" {args.rate_limit} req/s" + (f" = {limit:,} records/s" if limit else " (none)")
        )
        runs = [
            ("adaptive", args.concurrency, args.max_concurrency),
            ("fixed", args.concurrency, args.concurrency),
        ]
        if not args.no_serial:
            runs.append(("one-at-a-time", 1, 1))
        for label, concurrency, max_concurrency in runs:
            run = await load(sandbox, label, args.rows, concurrency, max_concurrency)
            report(run, limit, verify(sandbox, run, args.rows))
            await asyncio.sleep(BUCKET_REFILL_S)
        if limit:
            print(f"  goal: >= {GOAL_SHARE:.0%} of the limit = {GOAL_SHARE * limit:,.0f} records/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--latency-ms", type=int, default=DEFAULT_LATENCY_MS)
    parser.add_argument("--rate-limit", type=int, default=DEFAULT_RATE_LIMIT)
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    parser.add_argument("--max-concurrency", type=int, default=DEFAULT_MAX_CONCURRENCY)
    parser.add_argument(
        "--no-serial", action="store_true", help="skip the one-batch-at-a-time run (slow)"
    )
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
