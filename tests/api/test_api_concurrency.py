"""The adaptive cap on requests in flight, on a fake clock.

Unit tests drive ConcurrencyLimit through try_acquire / release on a hand-moved clock. The
simulations run the pacer and the cap the way RallyClient._attempt does (pace, take a slot,
answer, 429 -> Retry-After) against a token-bucket server like the sandbox's, in virtual time
(the in_virtual_time fixture): seconds of load in milliseconds, and the same figures every run.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, cast

import pytest

from crmsync.api import ClientStats, RallyClient
from crmsync.api.concurrency import WARMUP_SAMPLES, ConcurrencyLimit, Slot
from crmsync.api.pacing import Pacer
from crmsync.api.server_clock import ServerClock
from crmsync.api.settings import DEFAULT_CONCURRENCY, DEFAULT_MAX_CONCURRENCY
from crmsync.load import LoadSettings, load_records
from crmsync.load.loader import WORKERS_PER_SLOT
from crmsync.schema import OBJECTS, BulkResult, RallyObject

Runner = Callable[[Coroutine[Any, Any, Any]], Any]  # the in_virtual_time fixture
RETRY_AFTER_S = 1.0  # what the sandbox answers with a 429
GOAL_SHARE = 0.9


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _limit(start: int, maximum: int) -> tuple[ConcurrencyLimit, Clock]:
    clock = Clock()
    return ConcurrencyLimit(start, maximum, clock=clock), clock


def _fill(limit: ConcurrencyLimit) -> list[Slot]:
    """Take every free slot."""
    slots: list[Slot] = []
    while (slot := limit.try_acquire()) is not None:
        slots.append(slot)
    return slots


def _answer(limit: ConcurrencyLimit, slot: Slot, *, ok: bool = True, limited: bool = False) -> None:
    slot.answered(ok=ok, rate_limited=limited)
    limit.release(slot)


def _warm_up(limit: ConcurrencyLimit, clock: Clock, latency_s: float) -> None:
    """WARMUP_SAMPLES successes at `latency_s`, one at a time (so no slot is ever all busy)."""
    for _ in range(WARMUP_SAMPLES):
        slot = limit.try_acquire()
        assert slot is not None
        clock.now += latency_s
        _answer(limit, slot)


def _succeed(limit: ConcurrencyLimit, clock: Clock, count: int, latency_s: float) -> None:
    """`count` successes over the next second, each `latency_s` long, one at a time."""
    for _ in range(count):
        slot = limit.try_acquire()
        assert slot is not None
        clock.now += 1.0 / count
        slot.started = clock.now - latency_s
        _answer(limit, slot)


# -- the rule, step by step ----------------------------------------------------------------------


def test_it_starts_at_concurrency_and_holds_no_more() -> None:
    limit, _ = _limit(3, 10)
    assert len(_fill(limit)) == 3
    assert (limit.limit, limit.in_flight) == (3, 3)


@pytest.mark.parametrize(("maximum", "grown"), [(3, 3), (2, 2)], ids=["grows", "at-maximum"])
def test_every_slot_busy_for_one_latency_adds_one(maximum: int, grown: int) -> None:
    limit, clock = _limit(2, maximum)
    first, _ = _fill(limit)
    clock.now += 0.25
    _answer(limit, first)  # every slot was busy for the 0.25 s this request took
    assert limit.limit == grown
    assert limit.peak == grown


def test_a_slot_left_free_means_the_cap_does_not_bind() -> None:
    """Requests held back by the pacer leave slots free: no growth."""
    limit, clock = _limit(4, 16)
    for _ in range(20):
        slots = [limit.try_acquire() for _ in range(3)]
        clock.now += 0.25
        for slot in slots:
            assert slot is not None
            _answer(limit, slot)
    assert limit.limit == 4


class Held:
    """A request holding (or queued for) a slot until told how it was answered."""

    def __init__(self, limit: ConcurrencyLimit) -> None:
        self._answered = asyncio.Event()
        self._ok = True
        self._limited = False
        self.task = asyncio.create_task(self._run(limit))

    async def _run(self, limit: ConcurrencyLimit) -> None:
        async with limit.slot() as slot:
            await self._answered.wait()
            slot.answered(ok=self._ok, rate_limited=self._limited)

    async def answer(self, *, ok: bool = True, limited: bool = False) -> None:
        self._ok, self._limited = ok, limited
        self._answered.set()
        await self.task
        await asyncio.sleep(0)  # the waiter handed the slot takes it


def test_growth_needs_a_whole_latency_without_a_429() -> None:
    async def scenario() -> list[int]:
        limit, clock = _limit(4, 16)
        _succeed(limit, clock, 40, 0.25)  # 40/s x 0.25 s: 10 in flight carried that
        began = clock.now
        held = [Held(limit) for _ in range(8)]  # 4 in flight, 4 queued: every slot busy
        await asyncio.sleep(0)
        caps = [limit.limit]
        clock.now = began + 0.1
        await held[0].answer(ok=False, limited=True)  # no halving (10 needed), but a 429
        caps.append(limit.limit)
        clock.now = began + 0.25
        await held[1].answer()  # busy 0.25 s, but only 0.15 s since the 429
        caps.append(limit.limit)
        clock.now = began + 0.4
        await held[2].answer()  # 0.3 s since the 429, more than the latency (0.28 s now)
        caps.append(limit.limit)
        for request in held[3:]:
            await request.answer()
        assert limit.in_flight == 0
        return caps

    assert asyncio.run(scenario()) == [4, 4, 4, 5]


def test_a_429_halves_but_not_below_what_got_through() -> None:
    limit, clock = _limit(16, 32)
    _succeed(limit, clock, 60, 0.1)  # 60/s x 0.1 s: 6 in flight carried that rate
    slot = limit.try_acquire()
    assert slot is not None
    _answer(limit, slot, ok=False, limited=True)
    assert limit.limit == 8  # halved: 8 > 6
    slot = limit.try_acquire()
    assert slot is not None
    clock.now += 0.01
    _answer(limit, slot, ok=False, limited=True)
    assert limit.limit == 7  # not below the 6 the successes needed, plus a spare
    assert limit.decreases == 2


def test_429s_of_requests_started_before_the_decrease_are_old_news() -> None:
    limit, clock = _limit(16, 32)
    slots = _fill(limit)
    clock.now += 0.25
    for slot in slots:
        _answer(limit, slot, ok=False, limited=True)
    assert (limit.limit, limit.decreases) == (8, 1)


@pytest.mark.parametrize(
    ("latency_s", "halvings"),
    [(0.15, 0), (0.3, 1), (0.5, 2)],
    ids=["x1.5-noise", "x3-once", "x5-twice"],
)
def test_each_doubling_of_the_latency_halves_once(latency_s: float, halvings: int) -> None:
    """A sharp rise means the server queues; the risen latency becomes the new base, so a
    steady new latency halves once per doubling, not at every answer."""
    limit, clock = _limit(16, 32)
    _warm_up(limit, clock, 0.1)
    for _ in range(50):
        slot = limit.try_acquire()
        assert slot is not None
        clock.now += latency_s
        _answer(limit, slot)
    assert limit.decreases == halvings
    assert limit.limit == 16 >> halvings


def test_it_never_falls_below_one() -> None:
    limit, clock = _limit(2, 4)
    for _ in range(10):
        slot = limit.try_acquire()
        assert slot is not None
        clock.now += 1.0
        _answer(limit, slot, ok=False, limited=True)
    assert limit.limit == 1


def test_a_transport_failure_teaches_nothing() -> None:
    limit, clock = _limit(2, 4)
    slots = _fill(limit)
    clock.now += 5.0
    limit.release(slots[0])  # never answered
    assert (limit.limit, limit.latency, limit.in_flight) == (2, None, 1)


@pytest.mark.parametrize(("start", "maximum"), [(0, 4), (5, 4)], ids=["zero", "above-max"])
def test_bad_bounds_are_refused(start: int, maximum: int) -> None:
    with pytest.raises(ValueError, match="start"):
        ConcurrencyLimit(start, maximum)


def test_waiters_enter_in_turn_and_a_cancelled_wait_gives_its_slot_back() -> None:
    async def scenario() -> list[str]:
        limit = ConcurrencyLimit(1, 1)
        entered: list[str] = []
        gate = asyncio.Event()

        async def request(name: str) -> None:
            async with limit.slot() as slot:
                entered.append(name)
                await gate.wait()
                slot.answered(ok=True)

        first = asyncio.create_task(request("first"))
        await asyncio.sleep(0)
        second = asyncio.create_task(request("second"))
        third = asyncio.create_task(request("third"))
        await asyncio.sleep(0)
        second.cancel()
        gate.set()
        await asyncio.gather(first, third, return_exceptions=True)
        assert second.cancelled()
        assert limit.in_flight == 0
        return entered

    assert asyncio.run(scenario()) == ["first", "third"]


# -- simulations against a rate-limited server ---------------------------------------------------


@dataclass
class Server:
    """The sandbox's rate limit: a token bucket of `rate` tokens refilled at `rate`/s, checked
    once the latency has passed; 0 means no limit."""

    latency_s: float
    rate: float
    tokens: float = field(init=False)
    last: float = 0.0

    def __post_init__(self) -> None:
        self.tokens = self.rate

    def admit(self, now: float) -> bool:
        if not self.rate:
            return True
        self.tokens = min(self.rate, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


@dataclass
class Simulation:
    seconds: float
    rate_limited: int
    caps: list[int]  # the cap whenever a request entered
    over_cap: int  # requests that entered with more in flight than the cap allowed
    limit: ConcurrencyLimit

    def per_second(self, requests: int) -> float:
        return requests / self.seconds


async def simulate(server: Server, requests: int, start: int, maximum: int) -> Simulation:
    """`requests` sent like RallyClient._attempt sends them (pace, take a slot, answer; a 429
    waits its Retry-After), by as many workers as the loader opens. Run in virtual time."""
    loop = asyncio.get_running_loop()
    pacer = Pacer(clock=loop.time, sleep=asyncio.sleep)
    limit = ConcurrencyLimit(start, maximum, clock=loop.time)
    caps: list[int] = []
    counts = {"over_cap": 0, "rate_limited": 0}
    queue = iter(range(requests))

    async def send() -> None:
        while True:
            ticket = await pacer.acquire()
            async with limit.slot() as slot:
                caps.append(limit.limit)
                counts["over_cap"] += limit.in_flight > limit.limit
                await asyncio.sleep(server.latency_s)
                ok = server.admit(loop.time())
                slot.answered(ok=ok, rate_limited=not ok)
            if ok:
                pacer.on_success()
                return
            counts["rate_limited"] += 1
            pacer.on_rate_limited(ticket)
            await asyncio.sleep(RETRY_AFTER_S)

    async def worker() -> None:
        for _ in queue:
            await send()

    began = loop.time()
    await asyncio.gather(*(worker() for _ in range(maximum * WORKERS_PER_SLOT)))
    seconds = loop.time() - began
    return Simulation(seconds, counts["rate_limited"], caps, counts["over_cap"], limit)


DEFAULTS = (DEFAULT_CONCURRENCY, DEFAULT_MAX_CONCURRENCY)
BENCH_REQUESTS = 200  # bench/load.py's 20,000 contacts in bulks of 100


@pytest.mark.parametrize("latency_s", [0.05, 0.25, 0.5], ids=["50ms", "250ms", "500ms"])
def test_default_settings_reach_a_rate_limit_at_real_latencies(
    in_virtual_time: Runner, latency_s: float
) -> None:
    """DESIGN 5: at 250 ms a fixed 4 in flight reach 16 of 20 requests/s; adapting, 18+."""
    rate = 20
    sim = in_virtual_time(simulate(Server(latency_s, rate), BENCH_REQUESTS, *DEFAULTS))
    assert sim.per_second(BENCH_REQUESTS) >= GOAL_SHARE * rate
    assert max(sim.caps) <= DEFAULT_MAX_CONCURRENCY
    assert sim.over_cap == 0


def test_a_fixed_cap_stays_fixed(in_virtual_time: Runner) -> None:
    """max_concurrency == concurrency: the cap before adapting, latency x cap and no more,
    through 429s too."""
    sim = in_virtual_time(simulate(Server(0.25, 20), BENCH_REQUESTS, 4, 4))
    assert set(sim.caps) == {4}
    assert sim.per_second(BENCH_REQUESTS) == pytest.approx(4 / 0.25, rel=0.05)
    limited = in_virtual_time(simulate(Server(0.05, 20), BENCH_REQUESTS, 4, 4))
    assert limited.rate_limited > 0
    assert set(limited.caps) == {4}


def test_without_a_rate_limit_it_grows_to_the_maximum_one_step_per_latency(
    in_virtual_time: Runner,
) -> None:
    sim = in_virtual_time(simulate(Server(0.25, 0), 400, 4, 16))
    assert max(sim.caps) == 16
    assert (sim.limit.increases, sim.limit.decreases, sim.rate_limited) == (12, 0, 0)
    assert sim.over_cap == 0


def test_under_a_rate_limit_the_cap_stays_near_latency_times_rate(
    in_virtual_time: Runner,
) -> None:
    """16 allowed, but 20 requests/s at 250 ms need 5: the cap need not stay high."""
    sim = in_virtual_time(simulate(Server(0.25, 20), 600, 4, 16))
    late = sim.caps[len(sim.caps) // 2 :]
    assert min(late) >= 5 and max(late) < 16


def test_turns_booked_before_a_pacer_decrease_are_booked_again(in_virtual_time: Runner) -> None:
    """Requests already waiting for their turn go out at the new pace, not the refused one."""

    async def scenario() -> tuple[list[float], float]:
        loop = asyncio.get_running_loop()
        pacer = Pacer(clock=loop.time, sleep=asyncio.sleep)
        for _ in range(20):
            pacer.on_success()
        pacer.on_rate_limited(loop.time())  # paced at 18/s
        sent: list[float] = []

        async def one() -> None:
            sent.append(await pacer.acquire())

        waiting = [asyncio.create_task(one()) for _ in range(10)]
        await asyncio.sleep(0.01)  # all booked 1/18 s apart; the first has gone
        pacer.on_rate_limited(loop.time())  # refused again: 16.2/s
        await asyncio.gather(*waiting)
        assert pacer.rate is not None
        return sent, pacer.rate

    sent, rate = in_virtual_time(scenario())
    gaps = [b - a for a, b in itertools.pairwise(sorted(sent)[1:])]
    assert len(gaps) == 8
    assert min(gaps) == pytest.approx(1 / rate)


def test_a_fixed_cap_learns_nothing() -> None:
    limit, clock = _limit(4, 4)
    _warm_up(limit, clock, 0.1)
    slots = _fill(limit)
    clock.now += 5.0  # a latency rise, then 429s
    for slot in slots:
        _answer(limit, slot, ok=False, limited=True)
    assert (limit.limit, limit.increases, limit.decreases) == (4, 0, 0)


class CountingClient:
    """Just enough of RallyClient for load_records in bulk mode: counts bulks open at once."""

    def __init__(self) -> None:
        self.stats = ClientStats()
        self.server_clock = ServerClock()
        self.open = 0
        self.peak = 0

    def local_time(self) -> float:
        return 0.0

    def last_sent_at(self) -> float:
        return 0.0

    async def bulk_create(self, obj: RallyObject, records: list[dict[str, Any]]) -> BulkResult:
        self.open += 1
        self.peak = max(self.peak, self.open)
        await asyncio.sleep(0)
        self.open -= 1
        return BulkResult(created=len(records), created_ids=[str(n) for n in range(len(records))])


def test_the_loader_keeps_enough_units_open_for_a_grown_cap() -> None:
    """Units open at once follow max_concurrency, so a cap grown past `concurrency` is used."""
    settings = LoadSettings(batch_size=1, concurrency=2, max_concurrency=5)
    client = CountingClient()
    items = [(n, {"email": f"u{n}@example.com"}) for n in range(100)]
    result = asyncio.run(
        load_records(cast(RallyClient, client), OBJECTS["contacts"], items, settings)
    )
    assert result.count("created") == 100
    assert client.peak == 5 * WORKERS_PER_SLOT
