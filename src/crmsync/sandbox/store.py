"""SQLite persistence for the sandbox: one JSON document per record plus indexed columns.

One connection: every call is short (a bulk of 100 is one `executemany` in one transaction),
so blocking the event loop for it costs less than a thread hop. Calls take turns on a lock:
the server calls from its loop's thread only, but a sandbox in the caller's process is called
from whichever thread sends (a run asks whether Rally answers on a thread of its own).
A partial unique index on the lowercased match key makes "one contact per email per tenant"
hold even if the service's own checks were wrong.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar

IN_MEMORY = ":memory:"
# Lower bound of updated_us when a list has no updatedSince: before any real timestamp.
_NO_LOWER_BOUND = -(2**62)
_PageStart = tuple[str, str, int, int]  # tenant, object, since, offset
_PageEnd = tuple[int, int, str]  # the store's generation, the last row's updated_us and id
_PAGE_ENDS_KEPT = 1024  # readers paging at once, many times over

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    object TEXT NOT NULL,
    match_key TEXT,
    updated_us INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS records_match_key
    ON records (tenant, object, match_key) WHERE match_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS records_updated
    ON records (tenant, object, updated_us, id);
"""


@dataclass(frozen=True)
class StoredRow:
    """One record as written: its document is already serialized JSON."""

    id: str
    match_key: str | None
    updated_us: int
    doc_json: str


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _one_at_a_time(
    method: Callable[Concatenate[Store, _P], _R],
) -> Callable[Concatenate[Store, _P], _R]:
    """The method under the store's lock: a transaction is never interleaved with another
    thread's statements."""

    def locked(self: Store, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with self._lock:
            return method(self, *args, **kwargs)

    return locked


class DuplicateKeyError(Exception):
    """A write would give a tenant two records with the same match key."""


class Store:
    """The records of every tenant and object, in one SQLite database."""

    def __init__(self, path: str | None = None) -> None:
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(
            path or IN_MEMORY, isolation_level=None, check_same_thread=False
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        self._counts: dict[str, int] = dict(
            self._conn.execute("SELECT object, COUNT(*) FROM records GROUP BY object").fetchall()
        )
        self._generation = 0  # every write makes a new one: a page's end is kept within one
        self._page_ends: dict[_PageStart, _PageEnd] = {}

    @_one_at_a_time
    def close(self) -> None:
        self._conn.close()

    def counts(self, objects: Iterable[str]) -> dict[str, int]:
        """Records per object, all tenants together (kept in memory: stats are polled)."""
        return {name: self._counts.get(name, 0) for name in objects}

    @_one_at_a_time
    def insert_many(self, tenant: str, obj: str, rows: Sequence[StoredRow]) -> None:
        """Insert all rows in one transaction, or none of them."""
        if not rows:
            return
        params = [(r.id, tenant, obj, r.match_key, r.updated_us, r.doc_json) for r in rows]
        try:
            with self._transaction():
                self._conn.executemany(
                    "INSERT INTO records (id, tenant, object, match_key, updated_us, doc)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    params,
                )
        except sqlite3.IntegrityError as exc:
            raise DuplicateKeyError(str(exc)) from exc
        self._counts[obj] = self._counts.get(obj, 0) + len(rows)

    @_one_at_a_time
    def replace(self, tenant: str, obj: str, row: StoredRow) -> bool:
        """Overwrite an existing record; False when it does not exist."""
        try:
            with self._transaction():
                cursor = self._conn.execute(
                    "UPDATE records SET match_key = ?, updated_us = ?, doc = ?"
                    " WHERE id = ? AND tenant = ? AND object = ?",
                    (row.match_key, row.updated_us, row.doc_json, row.id, tenant, obj),
                )
        except sqlite3.IntegrityError as exc:
            raise DuplicateKeyError(str(exc)) from exc
        return cursor.rowcount > 0

    @_one_at_a_time
    def delete(self, tenant: str, obj: str, record_id: str) -> bool:
        """Remove a record; False when it does not exist."""
        with self._transaction():
            cursor = self._conn.execute(
                "DELETE FROM records WHERE id = ? AND tenant = ? AND object = ?",
                (record_id, tenant, obj),
            )
        if cursor.rowcount:
            self._counts[obj] -= cursor.rowcount
        return cursor.rowcount > 0

    @_one_at_a_time
    def get(self, tenant: str, obj: str, record_id: str) -> dict[str, Any] | None:
        row = self._conn.execute(
            "SELECT doc FROM records WHERE id = ? AND tenant = ? AND object = ?",
            (record_id, tenant, obj),
        ).fetchone()
        return None if row is None else json.loads(row[0])

    @_one_at_a_time
    def find_by_key(self, tenant: str, obj: str, match_key: str) -> dict[str, Any] | None:
        row = self._conn.execute(
            "SELECT doc FROM records WHERE tenant = ? AND object = ? AND match_key = ?",
            (tenant, obj, match_key),
        ).fetchone()
        return None if row is None else json.loads(row[0])

    @_one_at_a_time
    def existing_keys(self, tenant: str, obj: str, keys: Sequence[str]) -> dict[str, str]:
        """Which of `keys` (at most a bulk's worth) already belong to a record: key -> id."""
        if not keys:
            return {}
        marks = ",".join("?" * len(keys))
        rows = self._conn.execute(
            f"SELECT match_key, id FROM records WHERE tenant = ? AND object = ?"
            f" AND match_key IN ({marks})",
            (tenant, obj, *keys),
        ).fetchall()
        return dict(rows)

    @_one_at_a_time
    def list(
        self, tenant: str, obj: str, *, limit: int, offset: int, since_us: int | None
    ) -> list[dict[str, Any]]:
        """A page of records ordered by updatedAt, then id.

        A client reading page after page asks for offsets 0, 100, 200, ...: SQLite's OFFSET
        walks every row before it, so reading a million records took quadratic time. The
        last row of each page served is kept, and the page that starts where it ended
        continues from it through the index, while nothing was written since (the rows
        before it are then the same): the same records OFFSET gives, in linear time."""
        since = since_us if since_us is not None else _NO_LOWER_BOUND
        after = self._page_ends.get((tenant, obj, since, offset)) if offset else None
        if after is not None and after[0] == self._generation:
            # past the last row served, which is at or after `since` (and no other bound on
            # updated_us: with one, SQLite ranges the index from `since`, not from that row)
            rows = self._conn.execute(
                "SELECT updated_us, id, doc FROM records WHERE tenant = ? AND object = ?"
                " AND (updated_us, id) > (?, ?) ORDER BY updated_us, id LIMIT ?",
                (tenant, obj, after[1], after[2], limit),
            ).fetchall()
        else:
            rows = self._conn.execute(
                "SELECT updated_us, id, doc FROM records WHERE tenant = ? AND object = ?"
                " AND updated_us >= ? ORDER BY updated_us, id LIMIT ? OFFSET ?",
                (tenant, obj, since, limit, offset),
            ).fetchall()
        if rows:
            if len(self._page_ends) >= _PAGE_ENDS_KEPT:
                self._page_ends.clear()
            end = (tenant, obj, since, offset + len(rows))
            self._page_ends[end] = (self._generation, rows[-1][0], rows[-1][1])
        return [json.loads(row[2]) for row in rows]

    @_one_at_a_time
    def clear(self) -> None:
        """Remove every record of every tenant."""
        with self._transaction():
            self._conn.execute("DELETE FROM records")
        self._counts.clear()

    def _transaction(self) -> _Transaction:
        self._generation += 1  # a write: the pages' ends kept no longer say where pages start
        return _Transaction(self._conn)


class _Transaction:
    """BEGIN ... COMMIT, or ROLLBACK on error (the connection runs in autocommit mode)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> None:
        self._conn.execute("BEGIN")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._conn.execute("ROLLBACK" if exc_type is not None else "COMMIT")
