"""Rally's clock as the client can know it: bounds read off the Date headers of its answers,
and off the timestamps of the records it stores.

A listing that checks what an ambiguous write did starts just before the write reached Rally,
on the clock that stamps records (`updatedSince` compares their `updatedAt`), so the client
needs that clock without trusting its own. A Date header is written while Rally handles a
request, rounded down to the second: it bounds Rally's clock from below when the answer arrives
and, one second later, from above when its request left. The clock that stamps records may
not be the one that writes Date headers (a database server's beside the web server's): a
record one write created, read back once, bounds that clock the same way, from the write's
departure and answer. Each bound taken is the wider of the two clocks', so a listing is never
cut short by either.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from crmsync.api.answers import date_header

# A stamp with no fraction of a second may be rounded down to it; one with a fraction, to
# the millisecond at worst.
SECOND, MILLISECOND = 1.0, 0.001


@dataclass(frozen=True)
class Created:
    """A record one write created: the write left at local `sent` and was answered at
    `received`, so the record's creation stamp lies between the two on Rally's clock."""

    obj: str
    record_id: str
    sent: float
    received: float


class _Offsets:
    """Some clock minus ours (seconds), bounded from both sides."""

    def __init__(self) -> None:
        self.low: float | None = None  # the largest lower bound: within ms of it after many
        self.high: float | None = None  # the smallest upper bound

    def note(self, stamp: float, grain: float, *, sent: float, received: float) -> None:
        """A stamp (rounded down to `grain`) written between local `sent` and `received`."""
        low, high = stamp - received, stamp + grain - sent
        if self.low is None or low > self.low:
            self.low = low
        if self.high is None or high < self.high:
            self.high = high


class ServerClock:
    """Rally's clocks minus ours: the Date headers', and the records' once one is read."""

    def __init__(self) -> None:
        self._dates = _Offsets()
        self._records = _Offsets()
        self._created: Created | None = None  # a record to read the records' clock from
        self._taken = False  # a record was taken to read it from: none is kept meanwhile
        self.reading = asyncio.Lock()  # one read of it at a time

    def note(self, response: httpx.Response, *, sent: float, received: float) -> None:
        """Learn from one answer: its request left at local `sent`, it arrived at `received`."""
        date = date_header(response)
        if date is not None:
            self._dates.note(date.timestamp(), SECOND, sent=sent, received=received)

    def created(self, created: Created) -> None:
        """A record a write created, kept until the records' clock is read from it. Not while
        one taken is being read: a second read would cost a request, and every search for
        keys waits for the read in progress."""
        if self._created is None and not self._taken and self._records.low is None:
            self._created = created

    @property
    def knows_records(self) -> bool:
        """Whether the records' clock is read or being read, or a record to read it from is
        kept."""
        return self._records.low is not None or self._created is not None or self._taken

    def to_read(self) -> Created | None:
        """The created record to read the records' clock from, once (None: nothing to read)."""
        created, self._created = self._created, None
        if created is not None:
            self._taken = True
        return created

    def unread(self, created: Created) -> None:
        """The read of `created` failed: a later search reads the clock from it again."""
        self._taken = False
        if self._created is None and self._records.low is None:
            self._created = created

    def note_record(self, stamp: datetime, created: Created) -> None:
        """Learn from a created record's stamp (its creation time on the records' clock)."""
        grain = SECOND if stamp.microsecond == 0 else MILLISECOND
        self._records.note(stamp.timestamp(), grain, sent=created.sent, received=created.received)

    def at_least(self, local_time: float) -> datetime | None:
        """What Rally's clocks read at local `local_time`, never later than either did; None
        before any Date or record was read."""
        lows = [low for low in (self._dates.low, self._records.low) if low is not None]
        return _moment(local_time + min(lows)) if lows else None

    def stamped_at(self, local_time: float) -> datetime | None:
        """What the records' clock read at local `local_time` (never later), the Date
        headers' until a record is read: where a write's records lie, to look there first."""
        low = self._dates.low if self._records.low is None else self._records.low
        return None if low is None else _moment(local_time + low)

    def at_most(self, local_time: float) -> datetime | None:
        """What Rally's clocks read at local `local_time`, never earlier than either did."""
        highs = [high for high in (self._dates.high, self._records.high) if high is not None]
        return _moment(local_time + max(highs)) if highs else None


def _moment(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)
