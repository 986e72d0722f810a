"""The outcome ledger: every row a step read ends in exactly one outcome.

Each stage hands its outcome rows to one ledger (failures of read, validate, dedupe, resolve;
merges; what the delivery settled). Closing it gives the rows that never got an outcome (a run
interrupted mid-load) the outcome the caller names, and checks the invariant the counts rest
on: the rows with an outcome are exactly the rows read, and no row has two different outcomes.

Most rows simply go through (created, updated, unchanged, planned) and have nothing more to
say: those are kept as a row number and an outcome code, 9 bytes a row where a whole outcome
row took over 100 (a gigabyte at ten million rows). Only the rows that say something (a
failure, a merge, a skip: stage, field, error) keep their whole outcome rows, for the report.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

import polars as pl

from crmsync.report.outcomes import (
    IDENTITY,
    OUTCOME_CODES,
    OUTCOME_SCHEMA,
    OUTCOMES,
    PLANNED,
    STAGES,
    Stage,
    outcome_frame,
)

ROW_SPAN = 2**40  # rows per source in a row's integer identity (a file has far fewer lines)
_ID = "_ledger_id"
QUIET = ("created", "updated", "unchanged", PLANNED)  # outcomes that need no more words
_DETAILS = ("stage", "field", "error", "merged_into_row")


class LedgerError(AssertionError):
    """A stage gave a row two outcomes, or an outcome to a row that was never read: a bug."""


@dataclass(frozen=True)
class Outcomes:
    """A closed ledger: the outcome rows of the rows that say something (OUTCOME_SCHEMA: every
    failed, merged or skipped row, one line per field), and how many rows ended in each
    outcome, and failed at each stage (each row counted once)."""

    said: pl.DataFrame
    per_outcome: Mapping[str, int]
    failed_by_stage: Mapping[str, int]


class OutcomeLedger:
    """Outcome rows of one step, over a fixed set of rows read (``_source``, ``_row``)."""

    def __init__(self, rows: pl.DataFrame) -> None:
        identity = [pl.col(name).cast(OUTCOME_SCHEMA[name]) for name in IDENTITY]
        read = rows.select(identity)
        self._names = read["_source"].unique(maintain_order=True).to_list()
        self._sources = pl.Enum(self._names)  # a source's number is its code
        ids = read.select(self._id()).to_series()
        self._read_ids = ids.filter(ids.is_first_distinct()).sort()
        self._quiet: list[pl.DataFrame] = []  # _ID, outcome (an enum code)
        self._said: list[pl.DataFrame] = []  # OUTCOME_SCHEMA

    def _id(self) -> pl.Expr:
        """A row's identity as one integer (its source's number, then its row), which joins
        and groups a million rows several times faster than text and number together; null
        for a source never read."""
        # an enum's codes: a replace of a million names costs some 90 MB more
        code = pl.col("_source").cast(self._sources, strict=False).to_physical().cast(pl.Int64)
        return (code * ROW_SPAN + pl.col("_row").cast(pl.Int64)).alias(_ID)

    @property
    def rows_read(self) -> int:
        return self._read_ids.len()

    def record(self, outcomes: pl.DataFrame) -> None:
        """Add outcome rows (the outcome schema, see `outcome_frame`)."""
        if not outcomes.height:
            return
        quiet = (
            pl.col("outcome").is_in(QUIET)
            & pl.all_horizontal(pl.col(name).is_null() for name in _DETAILS)
            & pl.col(_ID).is_not_null()  # a row never read keeps its name, to be named
        )
        marked = outcomes.select(*OUTCOME_SCHEMA, self._id()).with_columns(quiet.alias("_quiet"))
        self._quiet.append(
            marked.filter("_quiet").select(_ID, pl.col("outcome").cast(OUTCOME_CODES))
        )
        said = marked.filter(~pl.col("_quiet")).drop("_quiet", _ID)
        if said.height:
            self._said.append(said)

    def settle(self, settled: pl.DataFrame) -> None:
        """Rows the delivery settled: `_row`, outcome, error (a row's number names it within
        a step: its source is the one that has that number)."""
        if not settled.height:
            return
        sources: pl.Expr | pl.Series = pl.lit(self._names[0] if self._names else None, pl.String)
        if len(self._names) > 1:
            read = pl.DataFrame({_ID: self._read_ids}).with_columns(
                (pl.col(_ID) % ROW_SPAN).alias("_row")
            )
            found = settled.select("_row").join(read, on="_row", how="left", maintain_order="left")
            sources = self._source_of(found[_ID])
        failed = pl.when(pl.col("outcome") == "failed").then(pl.lit("load")).alias("stage")
        self.record(outcome_frame(settled.with_columns(sources.alias("_source"), failed)))

    def _source_of(self, ids: pl.Series) -> pl.Series:
        names = dict(enumerate(self._names))
        codes = ids // ROW_SPAN
        return codes.replace_strict(names, default=None, return_dtype=pl.String)

    def fail(self, issues: pl.DataFrame, *, stage: Stage, error: str | None = None) -> None:
        """Record each row of `issues` (_source, _row, field, error) as failed at `stage`."""
        extra: dict[str, object] = {"outcome": "failed", "stage": stage}
        if error is not None:
            extra["error"] = error
        self.record(outcome_frame(issues, **extra))

    def _done(self) -> pl.DataFrame:
        """The ids of every outcome row so far (a row once per outcome row)."""
        ids = [part.select(_ID) for part in self._quiet]
        ids += [part.select(self._id()) for part in self._said]
        return pl.concat(ids) if ids else pl.DataFrame(schema={_ID: pl.Int64})

    def without_outcome(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The rows of `frame` (_source, _row) that have no outcome yet."""
        # an anti-join, not a set of the ids: a million-id set costs some 120 MB more
        keyed = frame.with_columns(self._id())
        return keyed.join(self._done(), on=_ID, how="anti", maintain_order="left").drop(_ID)

    def close(
        self,
        *,
        unsettled: str,
        stage: Stage = "load",
        unsent: str | None = None,
        in_doubt: Collection[int] = (),
    ) -> Outcomes:
        """Every row's outcome; a row read that has none fails at `stage` with `unsettled`,
        or with `unsent` (when given) unless its number is `in_doubt`."""
        read = pl.DataFrame({_ID: self._read_ids})
        pending = read.join(self._done(), on=_ID, how="anti", maintain_order="left")[_ID]
        if pending.len():
            rows = pl.DataFrame({"_source": self._source_of(pending), "_row": pending % ROW_SPAN})
            if unsent is not None:
                doubt = pl.col("_row").is_in(pl.Series(list(in_doubt), dtype=pl.Int64).implode())
                self.fail(rows.filter(~doubt), stage=stage, error=unsent)
                rows = rows.filter(doubt)
            self.fail(rows, stage=stage, error=unsettled)
        said = pl.DataFrame(schema=OUTCOME_SCHEMA)
        if self._said:
            said = pl.concat(self._said).rechunk()
        quiet = pl.DataFrame(schema={_ID: pl.Int64, "outcome": OUTCOME_CODES})
        if self._quiet:
            quiet = pl.concat(self._quiet).rechunk()
        self._said, self._quiet = [said], [quiet]
        keyed = pl.concat(
            [quiet, said.select(self._id(), pl.col("outcome").cast(OUTCOME_CODES))]
        ).rechunk()
        self._check(keyed, said)
        per_row = said.lazy().select(*IDENTITY, "outcome", "stage")
        per_row = per_row.unique(subset=IDENTITY, keep="first", maintain_order=True)
        counted = per_row.select("outcome", "stage").collect()
        counts = dict(counted.group_by("outcome").len().iter_rows())
        for outcome, n in (
            _once(quiet, said.select(self._id())).group_by("outcome").len().iter_rows()
        ):
            counts[str(outcome)] = counts.get(str(outcome), 0) + n
        failed = counted.filter(pl.col("outcome") == "failed")
        by_stage = dict(failed.group_by("stage").len().iter_rows())
        return Outcomes(
            said,
            {name: int(counts.get(name, 0)) for name in (*OUTCOMES, PLANNED)},
            {name: int(by_stage.get(name, 0)) for name in STAGES},
        )

    def _check(self, keyed: pl.DataFrame, said: pl.DataFrame) -> None:
        """Sorted ids find the rows with several outcome rows (hashing a million ids costs
        some 100 MB more); only those are grouped to find two different outcomes."""
        ids = keyed[_ID].sort()
        repeated = ids.filter(ids == ids.shift(1)).unique().implode()
        several = keyed.filter(pl.col(_ID).is_in(repeated))
        per_row = several.group_by(_ID).agg(pl.col("outcome").n_unique().alias("n"))
        doubled = per_row.filter(pl.col("n") > 1)[_ID]
        if doubled.len():
            raise LedgerError(f"rows with two outcomes: {self._named(doubled)}")
        strangers = keyed.filter(~pl.col(_ID).is_in(self._read_ids.implode()))[_ID]
        unknown = said.filter(self._id().is_null()).select(IDENTITY).unique()
        if strangers.len() or unknown.height:
            never = self._named(strangers) + unknown.sort(IDENTITY).rows()
            raise LedgerError(f"outcomes of rows never read: {sorted(never)[:5]}")

    def _named(self, ids: pl.Series) -> list[tuple[str, int]]:
        """The first five of `ids` as (source, row)."""
        first = ids.drop_nulls().unique().sort().head(5)
        rows = (first % ROW_SPAN).to_list()
        return list(zip(self._source_of(first).to_list(), rows, strict=True))


def _once(quiet: pl.DataFrame, said: pl.DataFrame) -> pl.DataFrame:
    """The quiet rows to count: each once, and none that also has outcome rows that say
    something (those count there)."""
    ids = quiet[_ID].sort()
    if (ids == ids.shift(1)).any():  # settled twice alike: rare, so only then a unique
        quiet = quiet.unique(_ID, keep="first")
    if said.height:
        quiet = quiet.join(said, on=_ID, how="anti")
    return quiet
