"""The load timeline: requests folded into seconds of the client's clock."""

from __future__ import annotations

from crmsync.api.timeline import LoadTimeline, percentile


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_requests_are_counted_in_the_second_they_end_with_their_latency() -> None:
    clock = FakeClock()
    timeline = LoadTimeline(clock)
    timeline.limit, timeline.pace_rps = 4, None
    first = timeline.sent()
    second = timeline.sent()
    assert timeline.in_flight == 2
    clock.now += 0.25
    timeline.answered(first, ok=True)
    timeline.settled(100)
    clock.now += 1.0
    timeline.answered(second, ok=False, rate_limited=True)
    timeline.retried()
    timeline.pace_rps = 10.0
    third = timeline.sent()
    clock.now += 0.05
    timeline.answered(third, ok=False)
    timeline.settled(150)
    zero, one = timeline.seconds()
    assert (zero.second, zero.requests, zero.records, zero.in_flight) == (0, 1, 100, 2)
    assert zero.p50_ms == zero.p99_ms == zero.max_ms == 250.0
    assert (one.second, one.requests, one.rate_limited, one.failed, one.retries) == (1, 2, 1, 1, 1)
    assert one.records == 50 and one.p50_ms is None and one.pace_rps == 10.0
    assert one.limit == 4 and timeline.in_flight == 0


def test_percentiles_are_nearest_rank() -> None:
    ordered = [float(n) for n in range(1, 101)]
    assert [percentile(ordered, p) for p in (50, 95, 99)] == [50.0, 95.0, 99.0]
    assert percentile([7.0], 99) == 7.0
