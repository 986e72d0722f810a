"""Settled records made durable in batches: their hashes and ids, what crmsync wrote in each
field (the next merge's base), and the journal of writes an undo reads back."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from crmsync.run.artifacts import Settled
from crmsync.run.ids import IdIndex
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


@dataclass
class Recorder:
    """What settled since the last flush, written to the state database at the next."""

    obj: str
    state: StepState
    ids: IdIndex
    keys: dict[int, str]  # row -> planner key
    hashes: dict[int, str]  # row -> payload hash
    identities: dict[str, dict[int, str]]  # id-map kind -> row -> key
    pending: list[Settled] = field(default_factory=list)
    written: dict[int, Mapping[str, Any]] = field(default_factory=dict)  # row -> fields
    writes: list[Write] = field(default_factory=list)

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
            self.writes.append(write)

    def key(self, row: int) -> str:
        return self.keys[row]

    def flush(self) -> None:
        """Write what settled since the last flush (called after each batch), in one commit."""
        with self.state.together():
            self._flush()

    def _flush(self) -> None:
        writes, self.writes = self.writes, []
        if writes:  # the journal first: an undo must know of every write that may be in Rally
            self.state.journal(writes)
        done = [s for s in self.pending if s.outcome not in ("failed", "skipped") and s.rally_id]
        self.pending.clear()
        written = {self.keys[s.row]: self.written.pop(s.row) for s in done if s.row in self.written}
        if not done:
            return
        accepted = [(self.keys[s.row], self.hashes[s.row], s.rally_id) for s in done]
        by_kind: dict[str, list[tuple[str, str]]] = {}
        for kind, by_row in self.identities.items():
            pairs = [(by_row[s.row], s.rally_id) for s in done if s.row in by_row and s.rally_id]
            if pairs:
                by_kind[kind] = pairs
                self.ids.learn(self.obj, kind, dict(pairs))
        self.state.settle(self.obj, accepted, by_kind, written)
