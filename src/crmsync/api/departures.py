"""When the latest request of the current asyncio task left (after waiting for the pacer and
a slot): each task sees its own, so concurrent batches do not see each other's. A caller that
forgets it before a call knows afterwards whether any request of that call left at all: a
batch cancelled while it waited for its turn was never sent."""

from __future__ import annotations

from contextvars import ContextVar

_SENT_AT: ContextVar[float | None] = ContextVar("crmsync_rally_sent_at", default=None)


def left(at: float) -> None:
    """A request of the current task left at local time `at`."""
    _SENT_AT.set(at)


def last_left() -> float | None:
    """When the current task's latest request left (None: none did since it was forgotten)."""
    return _SENT_AT.get()


def forget() -> None:
    """Forget the current task's departures: what a call does next is its own."""
    _SENT_AT.set(None)
