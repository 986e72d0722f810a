"""What the stages of a step hand each other.

    extract    -> Extracted     the source's rows (and unparseable records) for this step
    transform  -> Transformed   mapped, normalized, validated and deduped rows, and what failed
    resolve    -> Resolved      reference fields filled from the id map, and what found nothing
    plan       -> Plan          each row new, changed or unchanged against what Rally accepted
    deliver    -> Delivered     what became of each planned row, and the requests it took

`Delivered` fills as records settle, so a step interrupted mid-load still knows what Rally has.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field

import polars as pl

from crmsync.api.timeline import LoadSecond
from crmsync.report.outcomes import OUTCOME_CODES, Outcome
from crmsync.run.stages.spool import Spool
from crmsync.schema import RallyObject

# Columns the planner adds to a frame.
KEY = "_key"  # the record's identity across runs: match key, source id, or content hash
HASH = "_hash"  # SHA-256 of the canonical JSON payload
FP_ROW = "_fp"  # the source fingerprint of a row that may be skipped next run (unchanged.py)
KNOWN_ID = "_known_id"  # the Rally id last stored for the key
ACTION = "_action"  # new, changed or unchanged
KEYED = "_keyed"  # the row carries its object's match key: upsert can settle it


@dataclass(frozen=True)
class Transformed:
    """Rows ready to resolve and load (wire fields, plus internal `_` columns), the outcome
    rows of those that failed or merged, and the warnings of rows that go on."""

    frame: pl.DataFrame
    outcomes: pl.DataFrame
    warnings: pl.DataFrame
    failed_rows: int
    merged_rows: int | None  # None: the step does not dedupe


@dataclass(frozen=True)
class Resolved:
    """Rows with their reference fields filled; `failures` did not resolve and stay behind."""

    frame: pl.DataFrame
    failures: pl.DataFrame
    warnings: pl.DataFrame


@dataclass(frozen=True)
class Plan:
    """Rows with KEY, HASH, KNOWN_ID, ACTION and KEYED; `columns` are the payload's fields.

    A big file's plan, made a partition at a time, comes in `parts`: the rows to send, part
    by part, held one at a time (its unchanged rows were settled as it was made); `frame` is
    then empty."""

    obj: RallyObject
    frame: pl.DataFrame
    columns: tuple[str, ...]
    parts: Spool | None = None

    @property
    def to_send(self) -> int:
        """How many rows are new or changed."""
        if self.parts is not None:
            return self.parts.rows
        return int(self.frame.select((pl.col(ACTION) != "unchanged").sum()).item())

    def todo_parts(self, todo: pl.DataFrame) -> Iterator[Plan]:
        """The rows to send as plans of one part each: `todo` whole, or the parts in turn."""
        if self.parts is None:
            yield Plan(self.obj, todo, self.columns)
            return
        for frame in self.parts.frames():
            yield Plan(self.obj, frame, self.columns)

    @property
    def unchanged(self) -> pl.DataFrame:
        """The rows that stay as Rally has them: their `_row` (all a rerun of a million
        unchanged rows needs to settle them, without a copy of their fields)."""
        unchanged = self.frame.lazy().filter(pl.col(ACTION) == "unchanged")
        return unchanged.select("_row").collect()

    @property
    def todo(self) -> pl.DataFrame:
        """What has to be sent: new and changed rows."""
        return self.frame.filter(pl.col(ACTION) != "unchanged")


# what became of a planned row: its Rally id is in the state database, not here (ten million
# of them took 500 MB)
SETTLED_SCHEMA: dict[str, pl.DataType] = {
    "_row": pl.Int64(),
    "outcome": OUTCOME_CODES,
    "error": pl.String(),
}


@dataclass(slots=True)
class Settled:
    """What became of one planned row."""

    row: int
    outcome: Outcome
    rally_id: str | None
    error: str | None = None


class SettledRows:
    """Rows settled one by one, kept as columns (SETTLED_SCHEMA) a few thousand at a time:
    an object per record of a million-record load held some 150 MB."""

    CHUNK = 8192

    def __init__(self) -> None:
        self._columns: tuple[list[int], list[str], list[str | None]] = ([], [], [])
        self._frames: list[pl.DataFrame] = []
        self._count = 0

    def append(self, settled: Settled) -> None:
        rows, outcomes, errors = self._columns
        rows.append(settled.row)
        outcomes.append(settled.outcome)
        errors.append(settled.error)
        self._count += 1
        if len(rows) >= self.CHUNK:
            self._frames.append(self._pending())

    def __iadd__(self, settled: Iterable[Settled]) -> SettledRows:
        for one in settled:
            self.append(one)
        return self

    def __len__(self) -> int:
        return self._count

    def frames(self) -> list[pl.DataFrame]:
        """Every row settled so far, as frames of SETTLED_SCHEMA."""
        if self._columns[0] or not self._frames:
            self._frames.append(self._pending())
        return list(self._frames)

    def _pending(self) -> pl.DataFrame:
        frame = pl.DataFrame(dict(zip(SETTLED_SCHEMA, self._columns, strict=True)), SETTLED_SCHEMA)
        for column in self._columns:
            column.clear()
        return frame


@dataclass
class Delivered:
    """Outcomes of planned rows as they settle, and the requests that took."""

    settled: SettledRows = field(default_factory=SettledRows)
    # rows settled all alike (a million unchanged ones), kept as frames of SETTLED_SCHEMA
    settled_frames: list[pl.DataFrame] = field(default_factory=list)
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    would_update: int = 0  # a dry run's planned rows that Rally has
    interrupted: bool = False  # Ctrl-C or SIGTERM came before everything settled
    stopped: str | None = None  # why the load stopped short after it began sending
    load: list[LoadSecond] = field(default_factory=list)  # the requests, second by second
    # rows whose write had left, or may have, without an outcome when sending stopped
    in_doubt: set[int] = field(default_factory=set)

    @contextlib.contextmanager
    def sending(self, rows: Collection[int]) -> Iterator[None]:
        """A block that sends the writes of `rows` (a live collection, which a row leaves
        once its outcome is settled): those still in it when the block ends, by an
        interrupt or not, are in doubt. A row never in such a block was never sent."""
        try:
            yield
        finally:
            self.in_doubt.update(rows)

    def settle_all(self, rows: pl.DataFrame, outcome: Outcome, *, error: str | None = None) -> None:
        """Every row of `rows` (its `_row`) settled with one outcome, without an object per
        row."""
        self.settled_frames.append(
            rows.select(
                pl.col("_row").cast(pl.Int64),
                outcome=pl.lit(outcome, OUTCOME_CODES),
                error=pl.lit(error, pl.String),
            )
        )

    def settled_parts(self) -> list[pl.DataFrame]:
        """Every settled row so far, as frames of SETTLED_SCHEMA, in bulk or one by one."""
        return [*self.settled_frames, *self.settled.frames()]

    def settled_rows(self) -> pl.DataFrame:
        """Every settled row so far, as one frame of SETTLED_SCHEMA."""
        return pl.concat(self.settled_parts())
