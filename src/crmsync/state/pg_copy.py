"""Big bulk writes to PostgreSQL through COPY: a million-row put in one stream, not a million
statements.

A table's ``INSERT INTO t (columns) VALUES (?, ...) [ON CONFLICT (keys) DO ...]`` with many rows
becomes: COPY the rows into a temporary staging table of the same columns, then one
``INSERT ... SELECT`` from it carrying the same ON CONFLICT clause. Rows that share a conflict
key would make that single statement touch a row twice (which PostgreSQL refuses, and which
row-by-row statements resolve in order): such puts keep the row-by-row path.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

COPY_FROM_ROWS = 1_000  # below this, one pipelined statement per row is as quick
_INSERT = re.compile(r"^INSERT INTO (\w+) \(([^)]*)\) VALUES \((?:\?, )*\?\)(.*)$", re.S)
_CONFLICT = re.compile(r"^\s*ON CONFLICT \(([^)]*)\)")


@dataclass(frozen=True)
class CopyPlan:
    """The statements that put many rows of one INSERT through a staging table."""

    create: bytes
    copy: bytes
    insert: bytes
    truncate: bytes
    analyze: bytes
    keys: tuple[int, ...]  # positions of the conflict key among the columns (none: no conflict)


@functools.lru_cache(maxsize=64)
def plan(query: str) -> CopyPlan | None:
    """How to COPY rows for this statement, or None when it is not a plain multi-row INSERT."""
    match = _INSERT.match(query)
    if match is None or "?" in match.group(3):
        return None
    table, columns, rest = match.group(1), match.group(2), match.group(3)
    names = [name.strip() for name in columns.split(",")]
    staging = f"crmsync_staging_{table}"
    conflict = _CONFLICT.match(rest)
    keys: tuple[int, ...] = ()
    if conflict is not None:
        wanted = [name.strip() for name in conflict.group(1).split(",")]
        if not set(wanted) <= set(names):
            return None
        keys = tuple(names.index(name) for name in wanted)
    insert = f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging} WHERE true{rest}"
    return CopyPlan(
        create=(
            f"CREATE TEMP TABLE IF NOT EXISTS {staging} AS SELECT {columns} FROM {table}"
            " WITH NO DATA"
        ).encode(),
        copy=f"COPY {staging} ({columns}) FROM STDIN".encode(),
        insert=insert.replace("%", "%%").encode(),
        truncate=f"TRUNCATE {staging}".encode(),
        analyze=f"ANALYZE {table}".encode(),
        keys=keys,
    )


def copy_rows(raw: psycopg.Connection[Any], query: str, rows: Sequence[Sequence[Any]]) -> bool:
    """Put `rows` through COPY; False (nothing done) when this statement or these rows need
    the row-by-row path."""
    found = plan(query) if len(rows) >= COPY_FROM_ROWS else None
    if found is None:
        return False
    if found.keys:
        seen = {tuple(row[i] for i in found.keys) for row in rows}
        if len(seen) != len(rows):
            return False
    with raw.cursor() as cursor:
        cursor.execute(found.create)
        cursor.execute(found.truncate)
        with cursor.copy(found.copy) as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(found.insert)
        cursor.execute(found.truncate)
        # The planner's idea of the table's size is from before these rows: a query for many
        # keys planned against "one row" loops over both sides (seconds instead of ms).
        cursor.execute(found.analyze)
    return True
