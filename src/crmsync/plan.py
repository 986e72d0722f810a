"""Change detection: which records are new, changed or unchanged since Rally last accepted
them, from a stable hash of each payload (hashlib over canonical JSON, never polars' hash).

A record's identity is its match key (email, domain), else the source system's id, else the
hash of its content (activities have no natural key: the same content is the same record).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import polars as pl

from crmsync.load import RecordOutcome
from crmsync.state import StateDB, payload_hashes

KEY = "_key"
HASH = "_hash"
KNOWN_ID = "_known_id"
ACTION = "_action"
Action = Literal["new", "changed", "unchanged"]


def identity_key(frame: pl.DataFrame, match_key: str | None, source_id: str | None) -> pl.Expr:
    """The planner's key for each row: match key, else source id, else content hash."""
    parts: list[pl.Expr] = []
    if match_key and match_key in frame.columns:
        parts.append(pl.col(match_key).cast(pl.String).str.to_lowercase())
    if source_id and source_id in frame.columns:
        parts.append(pl.format("id:{}", pl.col(source_id)))
    parts.append(pl.format("hash:{}", pl.col(HASH)))
    return pl.coalesce(parts)


def plan(
    frame: pl.DataFrame,
    columns: Sequence[str],
    previous: pl.DataFrame,
    *,
    match_key: str | None,
    source_id: str | None,
    full: bool = False,
) -> pl.DataFrame:
    """`frame` with _hash, _key, _known_id (the Rally id last stored for the key) and
    _action: new, changed or unchanged. `previous` is StateDB.get_hashes(step): match_key,
    payload_hash, rally_id. With `full`, nothing counts as unchanged."""
    hashed = frame.with_columns(payload_hashes(frame, columns).alias(HASH))
    keyed = hashed.with_columns(identity_key(hashed, match_key, source_id).alias(KEY))
    known = previous.select(
        pl.col("match_key").alias(KEY),
        pl.col("payload_hash").alias("_previous_hash"),
        pl.col("rally_id").alias(KNOWN_ID),
    )
    joined = keyed.join(known, on=KEY, how="left", maintain_order="left")
    same = pl.col(HASH) == pl.col("_previous_hash")
    action = (
        pl.when(pl.col("_previous_hash").is_null())
        .then(pl.lit("new"))
        .when(same & pl.lit(not full))
        .then(pl.lit("unchanged"))
        .otherwise(pl.lit("changed"))
    )
    return joined.with_columns(action.alias(ACTION)).drop("_previous_hash")


@dataclass
class Checkpointer:
    """Makes every acknowledged batch durable before the next: its records' hashes and ids
    go to the state DB (committed, so they survive kill -9), and a rerun treats them as
    unchanged instead of sending them again."""

    state: StateDB
    step_scope: str
    object_scope: str
    run_id: int
    keys: dict[int, str]  # row -> planner key
    hashes: dict[int, str]  # row -> payload hash
    identities: dict[str, dict[int, str]]  # id-map kind -> row -> key
    pending: list[RecordOutcome] = field(default_factory=list)
    settled: dict[str, dict[str, str]] = field(default_factory=dict)  # kind -> key -> id

    def add(self, outcome: RecordOutcome) -> None:
        self.pending.append(outcome)

    def flush(self) -> None:
        """Write what settled since the last flush (called after each batch)."""
        done = [o for o in self.pending if o.status != "failed" and o.rally_id]
        self.pending.clear()
        if not done:
            return
        rows = [
            (self.keys[o.key], self.hashes[o.key], o.rally_id) for o in done if o.key in self.keys
        ]
        self.state.put_hashes(self.step_scope, rows, run_id=self.run_id)
        ids = {o.key: o.rally_id for o in done if o.rally_id}
        for kind, by_row in self.identities.items():
            pairs = [(by_row[row], rally_id) for row, rally_id in ids.items() if row in by_row]
            if pairs:
                self.state.put_ids(self.object_scope, kind, pairs, run_id=self.run_id)
                self.settled.setdefault(kind, {}).update(dict(pairs))
