"""Adaptive concurrency: how many requests may be in flight, learned from the API.

The pacer (pacing.py) learns the request *rate* from 429s, but a rate is only reached with
latency x rate requests in flight (Little's law): 5 at 250 ms and 20 requests/s, 50 at 500 ms
and 100/s. Latency and rate both move during a run, so the cap on requests in flight moves
too. One ConcurrencyLimit is shared by every request of a client. The rule:

- Start at `LoadSettings.concurrency`; never exceed `max_concurrency`, never go below 1.
  `max_concurrency == concurrency` turns all of this off: a fixed cap, crmsync's behaviour
  before this module (it then neither grows nor shrinks).
- **Grow by one** when every slot has been busy for one observed latency (the smoothed latency
  of successful requests) with no 429 meanwhile. Busy slots mean the cap is what binds:
  requests the pacer holds back leave slots free, so a client paced below its cap does not
  grow. One step per latency, like TCP's congestion avoidance.
- **Halve on a 429**, but not below what got through plus one spare slot (successes of the
  last second x latency, rounded up, + SPARE_SLOTS): the server's limit is a rate, which the
  pacer learns; the cap only sheds the excess that hammered the server before the pacer took
  over, and stays loose enough that the pacer, not the cap, sets the pace.
- **Halve when the smoothed latency doubles** over its base (its lowest value, from
  WARMUP_SAMPLES successes on): the server is queueing our requests, and more in flight only
  makes each slower. The risen latency becomes the base, so each doubling halves once.
- Only a request started after the last decrease may decrease again: those already in flight
  when it happened say nothing new (the pacer's rule too).

Nothing here sleeps and the clock is injected: tests drive it on a fake clock through
`try_acquire` / `release`; the client holds `async with limit.slot() as slot` around each
attempt and calls `slot.answered(ok=..., rate_limited=...)` before leaving it.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from crmsync.api.pacing import WINDOW_S, Clock, RecentEvents

MIN_LIMIT = 1
# Kept above what the successes needed when a 429 halves the cap: the pacer, not the cap, should
# be what holds the rate once it paces.
SPARE_SLOTS = 1
GROWTH_STEP = 1  # slots added per latency of full use
DECREASE_FACTOR = 0.5  # on a 429 or a latency rise
LATENCY_SMOOTHING = 0.2  # weight of one success in the smoothed latency
LATENCY_RISE = 2.0  # smoothed latency over its base that means the server is queueing
# Successes before the latency base is set: the first answers (a one-record list checking the
# key, then the first bulks) need not take as long as the rest, and are no base to judge by.
WARMUP_SAMPLES = 8
MIN_LATENCY_S = 0.001  # below this a latency is noise (and a fake clock reads 0)


@dataclass(slots=True)
class Slot:
    """One request's place in flight; the client says how it was answered before leaving it."""

    started: float
    ok: bool = False
    rate_limited: bool = False

    def answered(self, *, ok: bool, rate_limited: bool = False) -> None:
        """Record the answer: a success (a latency sample), a 429, or neither (left unset
        when the request failed in transport: it says nothing about load)."""
        self.ok = ok
        self.rate_limited = rate_limited


class ConcurrencyLimit:
    """An adaptive cap on requests in flight; see the module docstring for the rule."""

    def __init__(self, start: int, maximum: int, *, clock: Clock = time.monotonic) -> None:
        if not MIN_LIMIT <= start <= maximum:
            raise ValueError(f"need 1 <= start <= maximum, not start={start} maximum={maximum}")
        self.maximum = maximum
        self.adaptive = maximum > start  # else a fixed cap: nothing to learn
        self.increases = 0
        self.decreases = 0
        self.peak = start  # the highest cap reached
        self._clock = clock
        self._limit = start
        self._in_flight = 0
        self._waiters: deque[asyncio.Future[Slot]] = deque()
        self._urgent: deque[asyncio.Future[Slot]] = deque()  # let in before _waiters
        self._busy_since: float | None = None  # since when every slot has been taken
        self._latency: float | None = None  # smoothed, of successful requests
        self._base_latency: float | None = None
        self._samples = 0
        self._last_decrease = -math.inf
        self._successes = RecentEvents(WINDOW_S)

    @property
    def limit(self) -> int:
        """Requests allowed in flight now."""
        return self._limit

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def latency(self) -> float | None:
        """The smoothed latency of successful requests, in seconds; None before any."""
        return self._latency

    @asynccontextmanager
    async def slot(self, *, urgent: bool = False) -> AsyncIterator[Slot]:
        """Hold a place in flight for one request; wait in turn while the cap is reached. An
        urgent request (one that records already sent wait on) goes before the others."""
        slot = self.try_acquire(urgent=urgent) or await self._wait(urgent=urgent)
        try:
            yield slot
        finally:
            self.release(slot)

    def try_acquire(self, *, urgent: bool = False) -> Slot | None:
        """A slot at once, or None when the cap is reached or others are already waiting
        (urgent ones, for an urgent request)."""
        waiting = self._urgent if urgent else self._urgent or self._waiters
        if waiting or self._in_flight >= self._limit:
            return None
        return self._take()

    def release(self, slot: Slot) -> None:
        """Leave a slot: learn from its answer, then let the next waiters in."""
        now = self._clock()
        if not self.adaptive:
            pass
        elif slot.rate_limited:
            self._on_rate_limited(slot.started, now)
        elif slot.ok:
            self._on_success(slot.started, now)
        self._in_flight -= 1
        self._wake()
        self._note_busy(now)

    # -- learning ----------------------------------------------------------------------------

    def _on_success(self, started: float, now: float) -> None:
        sample = now - started
        self._successes.add(now)
        self._samples += 1
        latency = (
            sample
            if self._latency is None
            else self._latency + LATENCY_SMOOTHING * (sample - self._latency)
        )
        self._latency = latency
        if self._queueing(latency) and started >= self._last_decrease:
            self._decrease(now, floor=MIN_LIMIT)
            self._base_latency = latency  # the new normal: one rise halves once
        elif (
            self._busy_since is not None
            and now - self._busy_since >= latency
            and self._limit < self.maximum
        ):
            self._limit = min(self.maximum, self._limit + GROWTH_STEP)
            self.peak = max(self.peak, self._limit)
            self.increases += 1
            self._busy_since = now  # the next step needs a full latency at the new cap

    def _queueing(self, latency: float) -> bool:
        """True when the smoothed latency has doubled over its base (set after warm-up)."""
        if self._samples < WARMUP_SAMPLES:
            return False
        if self._base_latency is None or latency < self._base_latency:
            self._base_latency = latency
        return latency > LATENCY_RISE * max(self._base_latency, MIN_LATENCY_S)

    def _on_rate_limited(self, started: float, now: float) -> None:
        if self._busy_since is not None:
            self._busy_since = now  # growth needs a whole latency without a 429
        if started < self._last_decrease:
            return
        carried = self._successes.per_second(now) * (self._latency or 0.0)
        self._decrease(now, floor=math.ceil(carried) + SPARE_SLOTS)

    def _decrease(self, now: float, *, floor: int) -> None:
        target = max(floor, int(self._limit * DECREASE_FACTOR), MIN_LIMIT)
        if target >= self._limit:
            return
        self._limit = target
        self._last_decrease = now
        self.decreases += 1
        if self._busy_since is not None:
            self._busy_since = now

    # -- slots -------------------------------------------------------------------------------

    def _take(self) -> Slot:
        self._in_flight += 1
        now = self._clock()
        self._note_busy(now)
        return Slot(started=now)

    async def _wait(self, *, urgent: bool) -> Slot:
        waiter: asyncio.Future[Slot] = asyncio.get_running_loop().create_future()
        queue = self._urgent if urgent else self._waiters
        queue.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release(waiter.result())  # handed a slot as the wait was cancelled
            elif waiter in queue:
                queue.remove(waiter)
            raise

    def _wake(self) -> None:
        while self._in_flight < self._limit and (self._urgent or self._waiters):
            waiter = (self._urgent or self._waiters).popleft()
            if not waiter.done():
                waiter.set_result(self._take())

    def _note_busy(self, now: float) -> None:
        if self._in_flight < self._limit:
            self._busy_since = None
        elif self._busy_since is None:
            self._busy_since = now
