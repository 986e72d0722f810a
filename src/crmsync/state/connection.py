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

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any


class Connection:
    """A migrated SQLite connection, its lock, and one-transaction writes."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.raw = connection
        self.lock = threading.RLock()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken up front (IMMEDIATE) so it cannot deadlock on upgrade."""
        with self.lock:
            connection = self.raw
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def read(self, query: str, params: tuple[Any, ...] = ()) -> list[Any]:
        """Every row of a query."""
        with self.lock:
            return self.raw.execute(query, params).fetchall()

    def close(self) -> None:
        with self.lock:
            self.raw.close()


def now() -> str:
    """The time a row is written, ISO 8601 UTC."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")
