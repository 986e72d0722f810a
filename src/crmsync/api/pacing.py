"""Adaptive pacing: send as fast as the API accepts, learned from its 429s.

A fixed concurrency either wastes a rate limit or hammers it: the right number is latency x rate,
and both move during a run. The pacer is shared by every request of one client:

- Unpaced until the first 429 after some success: concurrency alone bounds the pace.
- On a 429, the request rate drops to what actually succeeded in the last WINDOW_S (while the
  server refuses, that is its limit), times DECREASE_FACTOR; requests are then spaced 1/rate
  apart. The 429'd request itself waits its Retry-After (the retry policy does that).
- Each success adds a little (additive increase), so the pace creeps back up until the next
  429 (multiplicative decrease). A server token bucket absorbs the small overshoot, so the
  sawtooth costs almost no quota.
- Only a 429 of a request sent after the last decrease counts: the requests already in flight
  when the limit bit say nothing new. Requests still waiting for their turn at a decrease take
  a new turn at the new pace, and so do those that got theirs but still wait for a slot in
  flight (`stale`), so none goes out at the pace just refused.

The pace needs latency x rate requests in flight to be reached: concurrency.py adapts that cap.

Clock and sleep are injected so tests run without waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

WINDOW_S = 1.0  # the success rate that sets the pace is measured over this window
DECREASE_FACTOR = 0.9  # multiplicative decrease on a 429
# Additive increase, per second of successes, as a share of the rate set at the last decrease.
INCREASE_FRACTION = 0.03
MIN_INCREASE_PER_S = 0.2
MIN_RATE = 0.5  # requests per second: the pace never stops altogether

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class Pacer:
    """An AIMD request-rate limiter shared by all requests of one client."""

    def __init__(self, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._rate: float | None = None
        self._increase_per_s = 0.0
        self._next_slot = 0.0
        self._last_decrease = -float("inf")
        self._successes = RecentEvents(WINDOW_S)
        self.decreases = 0

    @property
    def rate(self) -> float | None:
        """Requests per second now, or None while unpaced."""
        return self._rate

    @property
    def idle(self) -> bool:
        """No request waits for a turn: the next one would go at once (always, unpaced). A
        request sent now then takes no turn another was waiting for."""
        return self._rate is None or self._next_slot <= self._clock()

    async def acquire(self) -> float:
        """Wait for this request's turn; return its send time (the ticket for on_rate_limited).

        A turn booked before a decrease is booked again at the new pace: otherwise every
        request already waiting (as many as the loader keeps open) would still go out at the
        pace the server just refused, and earn 429s that look new.
        """
        while True:
            now = self._clock()
            if self._rate is None:
                return now
            slot = max(now, self._next_slot)
            self._next_slot = slot + 1.0 / self._rate
            if slot <= now:
                return slot
            booked_under = self.decreases
            await self._sleep(slot - now)
            if self.decreases == booked_under:
                return slot

    def stale(self, ticket: float) -> bool:
        """True when the pace was cut after the turn `ticket` was given: a request that has
        waited since (for a slot in flight) takes a new turn, like one still waiting here.
        Else the backlog a burst leaves behind goes out at the pace just refused, earns 429s
        that look new, and cuts the pace again and again under what the server accepts."""
        return self._rate is not None and ticket < self._last_decrease

    def on_success(self) -> None:
        """A request got past the rate limit (answered, and not with a 429): count it, and
        creep the pace up. A server fault counts too: the limit counted it, so leaving it out
        would set the pace under the limit by the share of faults."""
        self._successes.add(self._clock())
        if self._rate is not None:
            self._rate += self._increase_per_s / self._rate

    def on_rate_limited(self, ticket: float) -> None:
        """A request sent at `ticket` got a 429: pace at the rate the server actually accepts."""
        if ticket < self._last_decrease:
            return
        now = self._clock()
        accepted = self._successes.per_second(now)
        if self._rate is None:
            if accepted == 0:
                # Nothing succeeded lately (a quota spent by someone else): no rate to learn
                # yet; the 429'd requests wait their Retry-After meanwhile.
                return
            target = accepted
        else:
            target = min(self._rate, accepted) if accepted > 0 else self._rate
        self._rate = max(MIN_RATE, target * DECREASE_FACTOR)
        self._increase_per_s = max(MIN_INCREASE_PER_S, INCREASE_FRACTION * self._rate)
        self._last_decrease = now
        # Turns booked at the old pace are booked again (see acquire): the next one is now.
        self._next_slot = now
        self.decreases += 1

    def success_rate(self) -> float:
        """Successes per second over the last WINDOW_S."""
        return self._successes.per_second(self._clock())


class RecentEvents:
    """Times of events over a sliding window: how many per second lately."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._times: deque[float] = deque()

    def add(self, now: float) -> None:
        self._times.append(now)
        self._forget_before(now - self.window_s)

    def per_second(self, now: float) -> float:
        self._forget_before(now - self.window_s)
        return len(self._times) / self.window_s

    def _forget_before(self, horizon: float) -> None:
        while self._times and self._times[0] < horizon:
            self._times.popleft()
