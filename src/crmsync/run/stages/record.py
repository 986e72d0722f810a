"""Settled records made durable in batches: their hashes and ids, what crmsync wrote in each
field (the next merge's base), and the journal of writes an undo reads back."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from crmsync.run.artifacts import HASH, KEY, Settled
from crmsync.run.ids import IDENTITY_PREFIX
from crmsync.state import StepState
from crmsync.state.journal import Write

# Rows turned into payload dicts at a time: 100 bulk batches, so the loader's workers never
# wait for the next batch, and a fraction of the memory of a whole big file's dicts.
PAYLOAD_CHUNK = 10_000
Item = tuple[int, dict[str, Any]]


def stream_payloads(
    frame: pl.DataFrame, columns: Sequence[str], chunk: int = PAYLOAD_CHUNK
) -> Iterator[Item]:
    """(row, JSON-ready record) pairs a slice at a time, nulls left out rather than sent as
    null: a million-row load holds one chunk of dicts, not all."""
    for row, values in stream_rows(frame, columns, chunk):
        yield row, {key: value for key, value in values.items() if value is not None}


def stream_rows(
    frame: pl.DataFrame, columns: Sequence[str], chunk: int = PAYLOAD_CHUNK
) -> Iterator[Item]:
    """(row, {column: value}) pairs a slice at a time, nulls kept."""
    names = ["_row", *columns]
    for start in range(0, frame.height, chunk):
        for values in frame.slice(start, chunk).select(names).to_dicts():
            yield values.pop("_row"), values


class RowValues:
    """Columns of a frame looked up by `_row`, a batch of rows at a time. A million-row load
    kept each row's key, hash and identities in Python dicts: 450 MB, where these columns
    are a fraction of that."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self._frame = frame if frame["_row"].is_sorted() else frame.sort("_row")
        self._rows = self._frame["_row"]

    @property
    def columns(self) -> list[str]:
        return self._frame.columns

    def take(self, rows: Sequence[int]) -> dict[str, dict[int, Any]]:
        """column -> row -> value, for `rows` (each must be in the frame)."""
        wanted = pl.Series("_row", rows, dtype=self._rows.dtype)
        found = self._frame.clear()
        if len(wanted) and len(self._rows):
            last = len(self._rows) - 1
            found = self._frame[self._rows.search_sorted(wanted, side="left").clip(0, last)]
        if not found["_row"].equals(wanted):
            missing = sorted(set(rows) - set(found["_row"].to_list()))
            raise KeyError(f"rows not planned: {missing[:5]}")
        keys = found["_row"].to_list()
        return {
            name: dict(zip(keys, found[name].to_list(), strict=True))
            for name in self._frame.columns[1:]
        }


@dataclass
class Recorder:
    """What settled since the last flush, written to the state database at the next."""

    obj: str
    state: StepState
    # per planned row: KEY (the planner's key), HASH (the payload's), and identity_frame's
    # columns (its keys in the id map)
    values: RowValues
    pending: list[Settled] = field(default_factory=list)
    written: dict[int, Mapping[str, Any]] = field(default_factory=dict)  # row -> fields
    writes: list[tuple[int, Write]] = field(default_factory=list)  # row_key set at flush

    def add(
        self,
        settled: Settled,
        *,
        written: Mapping[str, Any] | None = None,
        write: Write | None = None,
    ) -> None:
        self.pending.append(settled)
        if written is not None:
            self.written[settled.row] = written
        if write is not None:
            self.writes.append((settled.row, write))

    def keys_of(self, rows: Sequence[int]) -> dict[int, str]:
        """row -> the planner's key."""
        return self.values.take(rows)[KEY]

    def flush(self) -> None:
        """Write what settled since the last flush (called after each batch), in one commit."""
        with self.state.together():
            self._flush()

    def _flush(self) -> None:
        writes, self.writes = self.writes, []
        pending, self.pending = self.pending, []
        if not writes and not pending:
            return
        values = self.values.take(sorted({s.row for s in pending} | {row for row, _ in writes}))
        keys, hashes = values[KEY], values[HASH]
        if writes:  # the journal first: an undo must know of every write that may be in Rally
            self.state.journal([w if w.row_key else _keyed(w, keys[row]) for row, w in writes])
        done = [s for s in pending if s.outcome not in ("failed", "skipped") and s.rally_id]
        written = {keys[s.row]: self.written.pop(s.row) for s in done if s.row in self.written}
        if not done:
            return
        accepted = [(keys[s.row], hashes[s.row], s.rally_id) for s in done]
        by_kind: dict[str, list[tuple[str, str]]] = {}
        for column in self.values.columns:
            if not column.startswith(IDENTITY_PREFIX):
                continue
            kind, by_row = column.removeprefix(IDENTITY_PREFIX), values[column]
            pairs = [(by_row[s.row], s.rally_id) for s in done if by_row[s.row] and s.rally_id]
            if pairs:  # to the state only: IdIndex.fill finds them there when a step asks
                by_kind[kind] = pairs
        self.state.settle(self.obj, accepted, by_kind, written)


def _keyed(write: Write, row_key: str) -> Write:
    """`write` with its row's key (the constructor: dataclasses.replace took 7 µs a write)."""
    return Write(
        step=write.step,
        scope=write.scope,
        object=write.object,
        rally_id=write.rally_id,
        action=write.action,
        before=write.before,
        after=write.after,
        row_key=row_key,
        written_before=write.written_before,
    )
