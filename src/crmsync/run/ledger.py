"""The outcome ledger: every row a step read ends in exactly one outcome.

Each stage hands its outcome rows to one ledger (failures of read, validate, dedupe, resolve;
merges; what the delivery settled). Closing it gives the rows that never got an outcome (a run
interrupted mid-load) the outcome the caller names, and checks the invariant the counts rest
on: the rows with an outcome are exactly the rows read, and no row has two different outcomes.
"""

from __future__ import annotations

import polars as pl

from crmsync.report.outcomes import IDENTITY, OUTCOME_SCHEMA, Stage, outcome_frame

ROW_SPAN = 2**40  # rows per source in a row's integer identity (a file has far fewer lines)
_ID = "_ledger_id"


class LedgerError(AssertionError):
    """A stage gave a row two outcomes, or an outcome to a row that was never read: a bug."""


class OutcomeLedger:
    """Outcome rows of one step, over a fixed set of rows read (``_source``, ``_row``)."""

    def __init__(self, rows: pl.DataFrame) -> None:
        identity = [pl.col(name).cast(OUTCOME_SCHEMA[name]) for name in IDENTITY]
        read = rows.select(identity)
        sources = read["_source"].unique(maintain_order=True).to_list()
        self._sources = pl.Enum(sources)  # a source's number is its code
        ids = read.select(self._id()).to_series()
        first = ids.is_first_distinct()
        self._rows, self._read_ids = read.filter(first), ids.filter(first)
        self._parts: list[pl.DataFrame] = []

    def _id(self) -> pl.Expr:
        """A row's identity as one integer (its source's number, then its row), which joins
        and groups a million rows several times faster than text and number together; null
        for a source never read."""
        # an enum's codes: a replace of a million names costs some 90 MB more
        code = pl.col("_source").cast(self._sources, strict=False).to_physical().cast(pl.Int64)
        return (code * ROW_SPAN + pl.col("_row").cast(pl.Int64)).alias(_ID)

    @property
    def rows_read(self) -> int:
        return self._rows.height

    @property
    def rows(self) -> pl.DataFrame:
        """Every row read: `_source`, `_row`."""
        return self._rows

    def record(self, outcomes: pl.DataFrame) -> None:
        """Add outcome rows (the outcome schema, see `outcome_frame`)."""
        if outcomes.height:
            self._parts.append(outcomes.select(list(OUTCOME_SCHEMA)))

    def fail(self, issues: pl.DataFrame, *, stage: Stage, error: str | None = None) -> None:
        """Record each row of `issues` (_source, _row, field, error) as failed at `stage`."""
        extra: dict[str, object] = {"outcome": "failed", "stage": stage}
        if error is not None:
            extra["error"] = error
        self.record(outcome_frame(issues, **extra))

    def without_outcome(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The rows of `frame` that have no outcome yet."""
        if not self._parts:
            return frame
        done = pl.concat([part.select(self._id()) for part in self._parts])
        # an anti-join, not a set of the ids: a million-id set costs some 120 MB more
        keyed = frame.with_columns(self._id())
        return keyed.join(done, on=_ID, how="anti", maintain_order="left").drop(_ID)

    def close(self, *, unsettled: str, stage: Stage = "load") -> pl.DataFrame:
        """Every outcome row; a row read that has none fails at `stage` with `unsettled`."""
        pending = self.without_outcome(self._rows)
        self.fail(pending, stage=stage, error=unsettled)
        outcomes = pl.DataFrame(schema=OUTCOME_SCHEMA)
        if self._parts:  # one copy of a million outcome rows: the parts are let go of
            outcomes = pl.concat(self._parts).rechunk()
        self._parts = [outcomes]
        self._check(outcomes)
        return outcomes

    def _check(self, outcomes: pl.DataFrame) -> None:
        """Sorted ids find the rows with several outcome rows (hashing a million ids costs
        some 100 MB more); only those are grouped to find two different outcomes."""
        keyed = outcomes.select(*IDENTITY, "outcome", self._id())
        ids = keyed[_ID].sort()
        repeated = ids.filter(ids == ids.shift(1)).unique().implode()
        several = keyed.filter(pl.col(_ID).is_in(repeated))
        per_row = several.group_by(_ID).agg(pl.col("outcome").n_unique().alias("n"))
        doubled = per_row.filter(pl.col("n") > 1)[_ID]
        if doubled.len():
            twice = keyed.filter(pl.col(_ID).is_in(doubled.implode())).select(IDENTITY).unique()
            raise LedgerError(f"rows with two outcomes: {twice.sort(IDENTITY).head(5).rows()}")
        read = self._read_ids.implode()
        strangers = keyed.filter(~pl.col(_ID).is_in(read) | pl.col(_ID).is_null())
        if strangers.height:
            never = strangers.select(IDENTITY).unique().sort(IDENTITY).head(5).rows()
            raise LedgerError(f"outcomes of rows never read: {never}")
