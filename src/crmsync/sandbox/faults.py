"""Fault injection and rate limiting: the failures a loader must survive, on demand.

Every random decision comes from one `random.Random(seed)`, and a rate of 0 never draws, so
a seeded run makes the same decisions for the same sequence of requests.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from collections.abc import Callable
from enum import Enum

from crmsync.sandbox.errors import HTTP_UNAVAILABLE

FAULT_STATUSES = (500, 502, 503)
RETRY_AFTER_SECONDS = 1  # sent with an injected 503, like a real overloaded gateway
FAULT_HEADER = b"x-sandbox-fault"  # names an injected fault, for people reading traces
MIN_RETRY_AFTER = 1  # Retry-After is whole seconds; 0 would be no hint at all
FAULT_KINDS = ("fail", "commit-then-error", "commit-then-drop")


def fault_headers(status: int) -> list[tuple[bytes, bytes]]:
    """The headers of an injected `status`: the fault's name, and Retry-After on a 503."""
    headers = [(FAULT_HEADER, b"fail")]
    if status == HTTP_UNAVAILABLE:
        headers.append((b"retry-after", str(RETRY_AFTER_SECONDS).encode()))
    return headers


class AfterCommit(Enum):
    """How a committed write is answered when the ambiguous-write fault strikes."""

    ERROR = "error"  # a 500 although the write was stored
    DROP = "drop"  # headers sent, then the connection cut mid-body


class FaultInjector:
    """Decides, request by request, whether to fail and how."""

    def __init__(self, *, fail_rate: float, commit_then_fail_rate: float, seed: int | None) -> None:
        self._fail_rate = fail_rate
        self._commit_then_fail_rate = commit_then_fail_rate
        self._seed = seed
        self._rng = random.Random(seed)
        self._injected: Counter[str] = Counter()

    def reset(self) -> None:
        """Start the seeded sequence again, so a rehearsal after a reset meets the same faults."""
        self._rng = random.Random(self._seed)
        self._injected.clear()

    def injected(self) -> dict[str, int]:
        """Faults injected since the last reset, by kind: what a loader had to survive."""
        return {kind: self._injected[kind] for kind in FAULT_KINDS}

    @property
    def may_fail_after_commit(self) -> bool:
        return self._commit_then_fail_rate > 0

    def fail_before(self) -> int | None:
        """A 5xx status to answer without doing anything, or None to proceed."""
        if self._fail_rate <= 0 or self._rng.random() >= self._fail_rate:
            return None
        self._injected["fail"] += 1
        return self._rng.choice(FAULT_STATUSES)

    def fail_after_commit(self) -> AfterCommit | None:
        """How to spoil the answer of a write that was just committed, or None."""
        if self._commit_then_fail_rate <= 0:
            return None
        if self._rng.random() >= self._commit_then_fail_rate:
            return None
        fault = self._rng.choice((AfterCommit.ERROR, AfterCommit.DROP))
        self._injected[f"commit-then-{fault.value}"] += 1
        return fault


class RateLimiter:
    """A token bucket per API key: capacity `rate`, refilled at `rate` tokens a second."""

    def __init__(self, rate: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = float(rate)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill)

    def acquire(self, key: str) -> int | None:
        """Take a token: None when allowed, else the seconds to wait (Retry-After, >= 1)."""
        now = self._clock()
        tokens, last = self._buckets.get(key, (self._rate, now))
        tokens = min(self._rate, tokens + (now - last) * self._rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            return None
        self._buckets[key] = (tokens, now)
        return max(MIN_RETRY_AFTER, math.ceil((1 - tokens) / self._rate))

    def clear(self) -> None:
        self._buckets.clear()
