"""One connection shared by the tables of a state database, and how they write.

The tables write their SQL once, in SQLite's spelling (``?`` placeholders, ``json_each(?)`` for
a list parameter); a PostgreSQL connection (state/postgres.py) translates it. Every public write
is one transaction, so a bulk put is all or nothing, and a write inside another joins it.

SQLite durability: the file is in WAL mode with ``synchronous=NORMAL``. A commit appends its
pages to the WAL with write() before COMMIT returns, so a committed transaction survives the
death of the process (SIGKILL included); only an OS crash or power cut can lose the last few
commits, which a resumed run then reconciles with Rally like any in-flight batch.

The connection is shared by the threads that may use it under a lock (the pipeline calls from
its asyncio thread; a report may be printed from another). Other processes may read the same
database while a run writes it.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

import polars as pl

from crmsync.errors import StateError

DAMAGED = ("malformed", "not a database")
DAMAGED_ADVICE = (
    "the file is damaged: restore it from a backup, or move it aside to start afresh (records "
    "with a match key are then found again in Rally; activities, which have none, would be "
    "sent again)"
)
READ_BATCH_ROWS = 100_000  # rows of a big read turned into a frame at a time
FULL = "is full"
FULL_ADVICE = "free some space and run again"


class Cursor(Protocol):
    """What a statement answers: its rows and how many rows it changed."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def fetchmany(self, size: int) -> list[Any]: ...


class Session(Protocol):
    """What a write transaction offers the tables."""

    def execute(self, query: str, params: Sequence[Any] = ()) -> Cursor: ...

    def executemany(self, query: str, rows: Sequence[Sequence[Any]]) -> None: ...


class Connection(ABC):
    """A migrated database connection, its lock, and one-transaction writes.

    Subclasses say how to begin, commit and roll back, and turn their driver's errors into a
    StateError naming the database and what to do: never a driver's bare message.
    """

    def __init__(self, where: str) -> None:
        self.where = where  # the file, or the redacted URL: for messages
        self.lock = threading.RLock()
        self._depth = 0  # writes open on the thread holding the lock

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction. A write inside another (on the thread holding it) joins it:
        the outer one commits."""
        with self.lock, self.failures():
            if self._depth:
                self._depth += 1
                try:
                    yield self.session()
                finally:
                    self._depth -= 1
                return
            self._begin()
            self._depth = 1
            try:
                yield self.session()
            except BaseException:
                self._rollback()
                raise
            finally:
                self._depth = 0
            self._commit()

    def read(self, query: str, params: Sequence[Any] = ()) -> list[Any]:
        """Every row of a query."""
        with self.lock, self.failures():
            return self.session().execute(query, params).fetchall()

    def each(self, query: str, params: Sequence[Any] = ()) -> Generator[Any, None, None]:
        """The rows of a query one at a time, for rows too big to hold all at once."""
        with self.lock, self.failures():
            cursor = self.session().execute(query, params)
            while (row := cursor.fetchone()) is not None:
                yield row

    @abstractmethod
    def hold_writers(self, table: str) -> None:
        """Inside `write`: other connections' writes to `table` wait until it commits."""

    def read_frame(
        self,
        query: str,
        params: Sequence[Any],
        schema: Mapping[str, pl.DataType | type[pl.DataType]],
        shaped: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
    ) -> pl.DataFrame:
        """Every row of a query as a frame, built a batch at a time (each batch `shaped`, if
        given): a million rows as Python tuples would cost some 350 MB at once, a batch of
        them a few tens."""

        def shape(part: pl.DataFrame) -> pl.DataFrame:
            return part if shaped is None else shaped(part)

        parts = [shape(pl.DataFrame(schema=dict(schema)))]
        with self.lock, self.failures():
            cursor = self.session().execute(query, params)
            while batch := cursor.fetchmany(READ_BATCH_ROWS):
                parts.append(shape(pl.DataFrame(batch, schema=dict(schema), orient="row")))
        return pl.concat(parts)

    @abstractmethod
    def failures(self) -> AbstractContextManager[None]:
        """The driver's errors raised inside the block, as StateError."""

    @abstractmethod
    def session(self) -> Session:
        """The statements of the transaction open on this thread (or of none: autocommit)."""

    @abstractmethod
    def _begin(self) -> None: ...

    @abstractmethod
    def _commit(self) -> None: ...

    @abstractmethod
    def _rollback(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...


class SqliteSession:
    """The tables' statements, as written, on an SQLite connection."""

    def __init__(self, raw: sqlite3.Connection) -> None:
        self._raw = raw

    def execute(self, query: str, params: Sequence[Any] = ()) -> Cursor:
        return self._raw.execute(query, params)

    def executemany(self, query: str, rows: Sequence[Sequence[Any]]) -> None:
        self._raw.executemany(query, rows)


class SqliteConnection(Connection):
    """A state database in one SQLite file (autocommit mode: this class owns transactions)."""

    def __init__(self, connection: sqlite3.Connection, path: str = "") -> None:
        super().__init__(path)
        self.raw = connection
        self.path = path
        self._session = SqliteSession(connection)

    def session(self) -> Session:
        return self._session

    def hold_writers(self, table: str) -> None:
        pass  # a write transaction (BEGIN IMMEDIATE) holds every other writer off already

    def _begin(self) -> None:
        # Taken up front (IMMEDIATE) so it cannot deadlock on upgrade.
        self.raw.execute("BEGIN IMMEDIATE")

    def _commit(self) -> None:
        self.raw.execute("COMMIT")

    def _rollback(self) -> None:
        with contextlib.suppress(sqlite3.Error):  # a damaged file may refuse this too
            self.raw.execute("ROLLBACK")

    @contextmanager
    def failures(self) -> Iterator[None]:
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
