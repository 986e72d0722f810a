"""One SQLite connection shared by the tables of a state database, and how they write.

Durability: the file is in WAL mode with ``synchronous=NORMAL``. A commit appends its pages to
the WAL with write() before COMMIT returns, so a committed transaction survives the death of the
process (SIGKILL included); only an OS crash or power cut can lose the last few commits, which a
resumed run then reconciles with Rally like any in-flight batch. Every public write is one
transaction, so a bulk put is all or nothing.

The connection is shared by the threads that may use it under a lock (the pipeline calls from
its asyncio thread; a report may be printed from another). Other processes may read the same
file while a run writes it (WAL).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from crmsync.errors import StateError

DAMAGED = ("malformed", "not a database")
DAMAGED_ADVICE = (
    "the file is damaged: restore it from a backup, or move it aside to start afresh (records "
    "with a match key are then found again in Rally; activities, which have none, would be "
    "sent again)"
)
FULL = "is full"
FULL_ADVICE = "free some space and run again"


class Connection:
    """A migrated SQLite connection, its lock, and one-transaction writes.

    Any SQLite failure (a damaged page found in the middle of a run, a full disk) comes out
    as a StateError naming the file and what to do, never as sqlite3's bare message.
    """

    def __init__(self, connection: sqlite3.Connection, path: str = "") -> None:
        self.raw = connection
        self.path = path
        self.lock = threading.RLock()
        self._depth = 0  # writes open on the thread holding the lock

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken up front (IMMEDIATE) so it cannot deadlock on upgrade.
        A write inside another (on the thread holding it) joins it: the outer one commits."""
        with self.lock, self.failures():
            connection = self.raw
            if self._depth:
                self._depth += 1
                try:
                    yield connection
                finally:
                    self._depth -= 1
                return
            connection.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield connection
            except BaseException:
                with contextlib.suppress(sqlite3.Error):  # a damaged file may refuse this too
                    connection.execute("ROLLBACK")
                raise
            finally:
                self._depth = 0
            connection.execute("COMMIT")

    def read(self, query: str, params: tuple[Any, ...] = ()) -> list[Any]:
        """Every row of a query."""
        with self.lock, self.failures():
            return self.raw.execute(query, params).fetchall()

    @contextmanager
    def failures(self) -> Iterator[None]:
        """sqlite3 errors raised inside the block, as StateError."""
        try:
            yield
        except sqlite3.Error as exc:
            raise state_failure(self.path, exc) from None

    def close(self) -> None:
        with self.lock:
            self.raw.close()


def state_failure(path: str, exc: sqlite3.Error, *, doing: str = "") -> StateError:
    """The StateError for an SQLite failure on the state database at `path` (while `doing`,
    e.g. "cannot open"), with what to do about it."""
    text = str(exc)
    advice = ""
    if any(marker in text for marker in DAMAGED):
        advice = f": {DAMAGED_ADVICE}"
    elif FULL in text:
        advice = f": {FULL_ADVICE}"
    lead = f"{doing} state database" if doing else "state database"
    return StateError(f"{lead} {path}: {text}{advice}", file=path)


def now() -> str:
    """The time a row is written, ISO 8601 UTC."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")
