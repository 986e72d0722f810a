"""Rally's clock as the client can know it: bounds read off the Date headers of its answers.

A listing that checks what an ambiguous write did starts just before the write reached Rally,
on Rally's clock (records are ordered by their `updatedAt`), so the client needs that clock
without trusting its own. A Date header is written while Rally handles a request, rounded down
to the second: it bounds Rally's clock from below when the answer arrives and, one second
later, from above when its request left.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from crmsync.api.answers import date_header


class ServerClock:
    """Rally's clock minus ours (seconds), bounded from both sides by every Date seen."""

    def __init__(self) -> None:
        self._low: float | None = None  # the largest lower bound: within ms of it after many
        self._high: float | None = None  # the smallest upper bound

    def note(self, response: httpx.Response, *, sent: float, received: float) -> None:
        """Learn from one answer: its request left at local `sent`, it arrived at `received`."""
        date = date_header(response)
        if date is None:
            return
        stamp = date.timestamp()
        low = stamp - received
        if self._low is None or low > self._low:
            self._low = low
        high = stamp + 1 - sent
        if self._high is None or high < self._high:
            self._high = high

    def at_least(self, local_time: float) -> datetime | None:
        """What Rally's clock read at local `local_time`, never later than it was; None before
        any Date."""
        return None if self._low is None else _moment(local_time + self._low)

    def at_most(self, local_time: float) -> datetime | None:
        """What Rally's clock read at local `local_time`, never earlier than it was."""
        return None if self._high is None else _moment(local_time + self._high)


def _moment(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)
