"""One run per pipeline at a time across hosts: a PostgreSQL advisory lock.

The lock is a session-level advisory lock on a connection of its own, held for as long as the
run lasts. The server drops it when that connection ends, and a process that dies (SIGKILL
included) takes its connection with it, so a dead worker never leaves a stale lock behind; a
host that vanishes is noticed by TCP keepalives (about a minute). The connection's
application_name says who holds it (pipeline, pid, host), which the refusal quotes.
"""

from __future__ import annotations

import hashlib
import os
import socket
from datetime import UTC, datetime
from typing import Any, Self

import psycopg

from crmsync.closing import Held
from crmsync.errors import LockedError
from crmsync.state.location import redact_url
from crmsync.state.postgres import connect, pg_failure

APPLICATION_NAME_CHARS = 63  # PostgreSQL truncates application_name there


def lock_key(schema: str, pipeline: str) -> int:
    """The advisory lock's 64-bit key for one pipeline of one state schema (a signed bigint)."""
    digest = hashlib.sha256(f"crmsync\0{schema}\0{pipeline}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class AdvisoryLock(Held):
    """Exclusive right to run one pipeline of a PostgreSQL state; ``with AdvisoryLock(...):``."""

    def __init__(self, url: str, *, schema: str, pipeline: str) -> None:
        """Nothing happens until :meth:`acquire` (or ``with``)."""
        self.url = url
        self.schema = schema
        self.pipeline = pipeline
        self.key = lock_key(schema, pipeline)
        # Always None: a dead holder's lock is released by the server, not taken over.
        self.took_over_from: int | None = None
        self._raw: psycopg.Connection[Any] | None = None

    @property
    def held(self) -> bool:
        """True between acquire and release."""
        return self._raw is not None

    def acquire(self) -> Self:
        """Take the lock now or raise LockedError at once; never waits for another run."""
        if self._raw is not None:
            raise RuntimeError(f"the lock of {self.pipeline!r} is already held by this object")
        started = datetime.now(UTC).isoformat(timespec="seconds")
        name = f"crmsync {os.getpid()}@{socket.gethostname()} {started} {self.pipeline}"
        raw = connect(self.url, application_name=name[:APPLICATION_NAME_CHARS])
        try:
            row = raw.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
            if not (row and row[0]):
                raise LockedError(self._held_message(raw))
        except psycopg.Error as exc:
            raw.close()
            raise pg_failure(redact_url(self.url), exc, doing="cannot take the lock on") from None
        except BaseException:
            raw.close()
            raise
        self._raw = raw
        return self

    def release(self) -> None:
        """Drop the lock (closing its connection); a no-op if not held."""
        raw, self._raw = self._raw, None
        if raw is None:
            return
        try:
            # Unlocked before the connection closes: a session's end reaches the server a
            # moment after close() returns, and the next run must find the lock free.
            raw.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
        except psycopg.Error:
            pass  # the connection is gone, and the lock with it
        finally:
            raw.close()

    def _held_message(self, raw: psycopg.Connection[Any]) -> str:
        holder = raw.execute(
            "SELECT a.application_name, a.client_addr::text FROM pg_locks l"
            " JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted"
            " AND l.classid = %s AND l.objid = %s AND l.objsubid = 1",
            ((self.key >> 32) & 0xFFFFFFFF, self.key & 0xFFFFFFFF),
        ).fetchone()
        who = "another worker"
        parts = str(holder[0]).split(" ", 3) if holder else []
        if len(parts) >= 3 and parts[0] == "crmsync":
            who = f"pid {parts[1].replace('@', ' on ', 1)} since {parts[2]}"
        return (
            f"pipeline {self.pipeline!r} is already running ({who}); wait for it to finish, "
            f"or stop it. Lock: advisory lock {self.key} on {redact_url(self.url)}"
        )
