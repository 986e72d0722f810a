"""The AIMD pacer, on a fake clock: unpaced until a 429, then the rate the server accepts."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from crmsync.api.pacing import DECREASE_FACTOR, MIN_RATE, WINDOW_S, Pacer


class Clock:
    def __init__(self) -> None:
        self.now = 50.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _pacer() -> tuple[Pacer, Clock]:
    clock = Clock()
    return Pacer(clock=clock, sleep=clock.sleep), clock


def _succeed(pacer: Pacer, clock: Clock, count: int, over_s: float) -> None:
    for _ in range(count):
        clock.now += over_s / count
        pacer.on_success()


def test_unpaced_until_the_first_429() -> None:
    pacer, clock = _pacer()
    _succeed(pacer, clock, 100, 1.0)
    tickets = [asyncio.run(pacer.acquire()) for _ in range(10)]
    assert pacer.rate is None
    assert clock.sleeps == []
    assert tickets == [clock.now] * 10


def test_a_429_sets_the_rate_to_what_succeeded_in_the_window() -> None:
    pacer, clock = _pacer()
    _succeed(pacer, clock, 30, 2 * WINDOW_S)  # 15 per second
    pacer.on_rate_limited(clock.now)
    assert pacer.rate == pytest.approx(15 * DECREASE_FACTOR, rel=0.1)


def test_paced_requests_are_spaced_one_over_the_rate_apart() -> None:
    pacer, clock = _pacer()
    _succeed(pacer, clock, 10, WINDOW_S)
    pacer.on_rate_limited(clock.now)
    rate = pacer.rate
    assert rate is not None
    start = clock.now

    async def five() -> list[float]:
        return [await pacer.acquire() for _ in range(5)]

    tickets = asyncio.run(five())
    gaps = [b - a for a, b in itertools.pairwise(tickets)]
    assert tickets[0] == start
    assert gaps == pytest.approx([1 / rate] * 4)


def test_successes_raise_the_rate_additively() -> None:
    pacer, clock = _pacer()
    _succeed(pacer, clock, 20, WINDOW_S)
    pacer.on_rate_limited(clock.now)
    decreased = pacer.rate
    assert decreased is not None
    _succeed(pacer, clock, int(decreased * 10), 10.0)  # ten seconds at that pace
    raised = pacer.rate
    assert raised is not None
    assert decreased < raised < decreased * 1.5


def test_429s_of_requests_sent_before_the_decrease_are_old_news() -> None:
    pacer, clock = _pacer()
    _succeed(pacer, clock, 20, WINDOW_S)
    in_flight = [clock.now - 0.01 * i for i in range(4)]
    pacer.on_rate_limited(in_flight[0])
    first = pacer.rate
    for ticket in in_flight[1:]:
        pacer.on_rate_limited(ticket)
    assert pacer.rate == first
    assert pacer.decreases == 1


def test_a_429_of_a_request_sent_after_the_decrease_decreases_again() -> None:
    pacer, clock = _pacer()
    _succeed(pacer, clock, 20, WINDOW_S)
    pacer.on_rate_limited(clock.now)
    first = pacer.rate
    assert first is not None
    clock.now += 0.5
    pacer.on_rate_limited(clock.now)
    assert pacer.rate is not None and pacer.rate < first
    assert pacer.decreases == 2


def test_a_429_with_no_success_to_learn_from_leaves_it_unpaced() -> None:
    pacer, clock = _pacer()
    pacer.on_rate_limited(clock.now)
    assert pacer.rate is None


def test_the_rate_never_falls_to_zero() -> None:
    pacer, clock = _pacer()
    _succeed(pacer, clock, 1, WINDOW_S / 2)
    pacer.on_rate_limited(clock.now)
    for _ in range(50):
        clock.now += 5.0
        pacer.on_rate_limited(clock.now)
    assert pacer.rate == MIN_RATE


def test_load_through_a_rate_limit_paces_itself(fake: Any) -> None:
    """The client's pacer engages on a 429 and the 429'd request waits its Retry-After."""
    fake.plan("bulk", "ok", "ok", "ok", (429, {"Retry-After": "1"}))
    result = fake.load([fake.contact(i) for i in range(1000)])
    assert result.count("created") == 1000
    assert result.rate_limited == 1
    assert 1.0 in fake.time.sleeps


def test_a_turn_given_before_a_cut_is_stale() -> None:
    pacer, clock = _pacer()
    unpaced = asyncio.run(pacer.acquire())
    assert not pacer.stale(unpaced)  # nothing to be stale against while unpaced
    _succeed(pacer, clock, 20, WINDOW_S)
    pacer.on_rate_limited(clock.now)
    assert pacer.stale(unpaced)
    assert not pacer.stale(asyncio.run(pacer.acquire()))


def test_idle_while_no_request_waits_for_a_turn() -> None:
    """Unpaced, always idle; paced, idle once the last turn booked has gone by."""
    pacer, clock = _pacer()
    assert pacer.idle
    _succeed(pacer, clock, 10, WINDOW_S)
    pacer.on_rate_limited(clock.now)
    rate = pacer.rate
    assert rate is not None
    asyncio.run(pacer.acquire())  # goes at once, and books the next turn 1/rate on
    assert not pacer.idle
    clock.now += 1.0 / rate
    assert pacer.idle
