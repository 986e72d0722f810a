"""The load over time: one client's requests folded into per-second buckets as they end, so
the report can draw records/s, requests in flight, latency percentiles, 429s and retries
against the pace the client kept, and a run's page can be drawn again from the state
database long after the run.

A bucket is what happened in one second of the client's clock (injected: tests run on a
virtual clock). Latencies are kept per bucket only until it is closed (`seconds()`), then
reduced to percentiles: a long load keeps a few numbers per second, not a sample per request.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from crmsync.api.pacing import Clock

MS_PER_S = 1000.0
PERCENTILES = (50, 95, 99)


@dataclass(frozen=True)
class LoadSecond:
    """One second of a load, `second` counted from the client's start. Latencies are of the
    requests that ended in it (ms; None when none did)."""

    second: int
    requests: int = 0  # attempts that ended, whatever their answer
    rate_limited: int = 0  # of those, 429s
    failed: int = 0  # of those, other refusals, 5xx and transport failures
    retries: int = 0  # attempts scheduled again after a failure
    records: int = 0  # records that got their outcome
    in_flight: int = 0  # the most requests in flight at once
    limit: int = 0  # the cap on requests in flight at the end of the second
    pace_rps: float | None = None  # the rate the client allowed itself, None while unpaced
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None


@dataclass
class _Open:
    requests: int = 0
    rate_limited: int = 0
    failed: int = 0
    retries: int = 0
    records: int = 0
    in_flight: int = 0
    limit: int = 0
    pace_rps: float | None = None
    latencies: list[float] = field(default_factory=list)


def percentile(ordered: list[float], pct: float) -> float:
    """The nearest-rank percentile of an ascending, non-empty list."""
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


class LoadTimeline:
    """Counts one client's requests per second of its clock. Not thread-safe: the client's
    requests all run on one event loop."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._origin = clock()
        self._open: dict[int, _Open] = {}
        self._in_flight = 0
        self._records = 0
        self.rate_limited = 0  # 429s so far, for a live display
        self.retries = 0
        self.limit = 0
        self.pace_rps: float | None = None

    @property
    def in_flight(self) -> int:
        """Requests sent and not yet answered."""
        return self._in_flight

    def _bucket(self) -> _Open:
        second = max(0, math.floor(self._clock() - self._origin))
        bucket = self._open.get(second)
        if bucket is None:
            bucket = self._open[second] = _Open()
        bucket.limit = self.limit
        bucket.pace_rps = self.pace_rps
        return bucket

    def sent(self) -> float:
        """A request leaves; returns its start, for `answered`."""
        self._in_flight += 1
        bucket = self._bucket()
        bucket.in_flight = max(bucket.in_flight, self._in_flight)
        return self._clock()

    def answered(self, started: float, *, ok: bool, rate_limited: bool = False) -> None:
        """The request sent at `started` ended: a success, a 429, or another failure."""
        self._in_flight = max(0, self._in_flight - 1)
        bucket = self._bucket()
        bucket.requests += 1
        if ok:
            bucket.latencies.append((self._clock() - started) * MS_PER_S)
        elif rate_limited:
            bucket.rate_limited += 1
            self.rate_limited += 1
        else:
            bucket.failed += 1

    def retried(self) -> None:
        self._bucket().retries += 1
        self.retries += 1

    def settled(self, records_done: int) -> None:
        """`records_done` records of the load have their outcome (a running total)."""
        if records_done > self._records:
            self._bucket().records += records_done - self._records
            self._records = records_done

    def seconds(self) -> list[LoadSecond]:
        """Every second in which something happened, in order."""
        found = []
        for second in sorted(self._open):
            bucket = self._open[second]
            ordered = sorted(bucket.latencies)
            p50, p95, p99 = (
                (round(percentile(ordered, pct), 1) for pct in PERCENTILES)
                if ordered
                else (None, None, None)
            )
            found.append(
                LoadSecond(
                    second=second,
                    requests=bucket.requests,
                    rate_limited=bucket.rate_limited,
                    failed=bucket.failed,
                    retries=bucket.retries,
                    records=bucket.records,
                    in_flight=bucket.in_flight,
                    limit=bucket.limit,
                    pace_rps=None if bucket.pace_rps is None else round(bucket.pace_rps, 2),
                    p50_ms=p50,
                    p95_ms=p95,
                    p99_ms=p99,
                    max_ms=round(ordered[-1], 1) if ordered else None,
                )
            )
        return found
