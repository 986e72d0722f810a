"""Snapshots of what a step's records hold, kept in the state database beside the table.

A rerun starts by reading, per record of the step, its key, hash code and fingerprint code
(`RowHashes.compared`). From the table that is a million rows turned into Python values one
by one: about a second, most of a nightly rerun that finds nothing changed. The same frame
kept as Arrow IPC parts reads in a tenth of that.

A snapshot is only ever what the table would give. The schema's triggers delete a step's
snapshot in the same transaction as any write to what it holds (on PostgreSQL, every step's:
one trigger call per statement), so no writer has to remember it. A run that finds none keeps
a fresh one once it is over, read and written in one transaction that other writers wait for.
The codes are polars' hashes, which may change with its version: a snapshot names the version
that made it (and the columns it holds), and one made otherwise is not read.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Mapping

import polars as pl

from crmsync.state.connection import Connection
from crmsync.state.hashing import CODE_MAKER

TABLE = "row_hash_snapshots"
PART_ROWS = 1_000_000  # rows per part: a part's blob stays some 50 MB
# What made a snapshot: polars' codes, and the columns this crmsync keeps (a snapshot made
# with other columns is passed over, then kept again).
MADE_BY = f"{CODE_MAKER}, key codes"


class Snapshots:
    """The snapshots of one state database, per step."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection
        self._current: set[str] = set()  # steps whose snapshot this process read or kept

    def read(
        self, step: str, schema: Mapping[str, pl.DataType | type[pl.DataType]]
    ) -> pl.DataFrame | None:
        """The step's snapshot, its columns of `schema` only (None: there is none, or it
        cannot be read as `schema`)."""
        self._current.discard(step)
        frames = []
        query = f"SELECT frame FROM {TABLE} WHERE step = ? AND made_by = ? ORDER BY part"
        with contextlib.closing(self._db.each(query, (step, MADE_BY))) as parts:
            for (blob,) in parts:  # one statement: the parts of one snapshot
                frame = _decoded(bytes(blob), schema)
                if frame is None:
                    return None
                frames.append(frame)
        if not frames:
            return None
        self._current.add(step)
        return pl.concat(frames, rechunk=False) if len(frames) > 1 else frames[0]

    def keep(self, step: str, table: Callable[[], pl.DataFrame]) -> None:
        """Keep a snapshot of the step, from `table` (what the table gives), unless the one
        this process read is still there: then nothing is written, and no write transaction
        is taken (a snapshot that exists is current, as the triggers drop a stale one). Other
        writers of the table wait while one is kept."""
        if step in self._current and self._db.read(
            f"SELECT 1 FROM {TABLE} WHERE step = ? AND made_by = ? LIMIT 1", (step, MADE_BY)
        ):
            return
        with self._db.write() as db:
            self._db.hold_writers("row_hashes")
            db.execute(f"DELETE FROM {TABLE} WHERE step = ?", (step,))
            frame = table()
            for part, start in enumerate(range(0, max(frame.height, 1), PART_ROWS)):
                db.execute(
                    f"INSERT INTO {TABLE} (step, part, made_by, frame) VALUES (?, ?, ?, ?)",
                    (step, part, MADE_BY, _encoded(frame.slice(start, PART_ROWS))),
                )
        self._current.add(step)


def _encoded(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_ipc(buffer, compression="lz4")
    return buffer.getvalue()


def _decoded(
    blob: bytes, schema: Mapping[str, pl.DataType | type[pl.DataType]]
) -> pl.DataFrame | None:
    """A part's columns of `schema`, or None when it has not got them as `schema` has them
    (a damaged blob, or one kept before a column was added, is not a crash: the table is
    read instead, and a fresh snapshot kept)."""
    try:  # the columns asked for alone: the others' buffers are never decompressed
        frame = pl.read_ipc(io.BytesIO(blob), columns=list(schema))
    except (pl.exceptions.PolarsError, OSError, ValueError):
        return None
    if dict(frame.schema) != dict(schema):
        return None
    return frame
