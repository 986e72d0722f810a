"""Settled records made durable in batches: their hashes and ids, what crmsync wrote in each
field (the next merge's base), and the journal of writes an undo reads back."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from crmsync.run.artifacts import FP_ROW, HASH, KEY, Settled
from crmsync.run.ids import IDENTITY_PREFIX
from crmsync.state import StepState
from crmsync.state.journal import Action, Write

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
    """Columns of a frame looked up by `_row`. A million-row load kept each row's key, hash
    and identities in Python dicts (450 MB); here they stay columns, and a row's values are
    taken out as Python objects only while it is on its way: `remember` a slice of rows as
    it goes out, `pop` them once they settled (rows never remembered are taken then)."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self._frame = frame if frame["_row"].is_sorted() else frame.sort("_row")
        self._rows = self._frame["_row"]
        self._columns = {name: self._frame[name] for name in self._frame.columns[1:]}
        self._cache: dict[int, tuple[Any, ...]] = {}

    @property
    def columns(self) -> list[str]:
        return list(self._columns)

    def remember(self, rows: pl.Series) -> None:
        """Rows about to go out: their values are taken now, in one piece."""
        self._cache.update(self._take(rows))

    def pop(self, rows: Sequence[int], *, forget: bool = True) -> dict[str, dict[int, Any]]:
        """column -> row -> value, for `rows` (each must be in the frame), forgotten after
        unless not `forget`."""
        missing = [row for row in rows if row not in self._cache]
        taken = self._take(pl.Series("_row", missing, dtype=self._rows.dtype)) if missing else {}
        cached = self._cache.pop if forget else self._cache.__getitem__
        found = [(row, cached(row) if row in self._cache else taken[row]) for row in rows]
        return {
            name: {row: values[index] for row, values in found}
            for index, name in enumerate(self._columns)
        }

    def _take(self, wanted: pl.Series) -> dict[int, tuple[Any, ...]]:
        wanted = wanted.cast(self._rows.dtype)
        if not len(wanted):
            return {}
        positions = self._rows.search_sorted(wanted, side="left").clip(
            0, max(len(self._rows) - 1, 0)
        )
        found = self._rows.gather(positions) if len(self._rows) else self._rows
        if not found.equals(wanted.rename(found.name)):
            missing = sorted(set(wanted.to_list()) - set(found.to_list()))
            raise KeyError(f"rows not planned: {missing[:5]}")
        columns = [series.gather(positions).to_list() for series in self._columns.values()]
        return dict(zip(wanted.to_list(), zip(*columns, strict=True), strict=True))


@dataclass
class Recorder:
    """What settled since the last flush, written to the state database at the next."""

    obj: str
    state: StepState
    step: str  # the journal's step and scope of what this step writes
    scope: str
    # per planned row: KEY (the planner's key), HASH (the payload's), identity_frame's
    # columns (its keys in the id map), and FP_ROW (its source fingerprint) if it has one
    values: RowValues
    pending: list[Settled] = field(default_factory=list)
    written: dict[int, Mapping[str, Any]] = field(default_factory=dict)  # row -> fields
    writes: list[Write] = field(default_factory=list)
    created: list[tuple[int, Action]] = field(default_factory=list)  # journaled at flush

    def add(
        self,
        settled: Settled,
        *,
        written: Mapping[str, Any] | None = None,
        write: Write | None = None,
        created: Action | None = None,
    ) -> None:
        """A settled row; with what it wrote, its journal entry, or (`created`: how a
        record written whole was acknowledged) an entry to journal by id alone."""
        self.pending.append(settled)
        if written is not None:
            self.written[settled.row] = written
        if write is not None:
            self.writes.append(write)
        if created is not None:
            self.created.append((settled.row, created))

    def keys_of(self, rows: Sequence[int]) -> dict[int, str]:
        """row -> the planner's key, for rows about to be written by update."""
        self.values.remember(pl.Series("_row", rows, dtype=pl.Int64))
        return self.values.pop(rows, forget=False)[KEY]

    def flush(self) -> None:
        """Write what settled since the last flush (called after each batch), in one commit."""
        with self.state.together():
            self._flush()

    def _flush(self) -> None:
        pending, self.pending = self.pending, []
        writes, self.writes = self.writes, []
        created, self.created = self.created, []
        if not pending:  # every write and creation settled a row: nothing else to record
            return
        values = self.values.pop(sorted({s.row for s in pending}))
        keys, hashes = values[KEY], values[HASH]
        rally_ids = {s.row: s.rally_id for s in pending}
        # A creation is journaled by id alone: what it wrote is the record's `written` (the
        # state keeps it per record), so a million-row import does not store it twice.
        writes += [
            Write(self.step, self.scope, self.obj, rally_ids[row] or "", action, {}, {}, keys[row])
            for row, action in created
        ]
        if writes:  # the journal first: an undo must know of every write that may be in Rally
            self.state.journal(writes)
        done = [s for s in pending if s.outcome not in ("failed", "skipped") and s.rally_id]
        written = {keys[s.row]: self.written.pop(s.row) for s in done if s.row in self.written}
        if not done:
            return
        accepted = [(keys[s.row], hashes[s.row], s.rally_id) for s in done]
        made = values.get(FP_ROW, {})
        prints = {keys[s.row]: made[s.row] for s in done if made.get(s.row)}
        by_kind: dict[str, list[tuple[str, str]]] = {}
        for column in self.values.columns:
            if not column.startswith(IDENTITY_PREFIX):  # KEY, HASH, FP_ROW
                continue
            kind, by_row = column.removeprefix(IDENTITY_PREFIX), values[column]
            pairs = [(by_row[s.row], s.rally_id) for s in done if by_row[s.row] and s.rally_id]
            if pairs:  # to the state only: IdIndex.fill finds them there when a step asks
                by_kind[kind] = pairs
        self.state.settle(self.obj, accepted, by_kind, written, prints)
