"""Rows of a big file known unchanged by their source fingerprints, settled without being
mapped, normalized, deduped or planned.

A row whose fingerprint (`crmsync.state.fingerprint`) is the one stored with a record that
Rally holds as planned would map, normalize and hash to that record's payload again: it is
unchanged, and its key is the record's. Such a row is set aside as it is read, and only the
other rows go on. That holds while the row is alone with its key: a row checked this run that
shares a known row's key (a new duplicate of it) must be deduped with it, so then the file is
read again with every row checked (`KnownRowMet`).

Fingerprints are stored for the rows a run planned that stand alone: neither warned about nor
merged with others (a survivor's payload holds other rows' values), and keyed by the same key
as their record. A row sent stores its fingerprint with its hash as Rally acknowledges it; an
unchanged row that had none (the first run after an upgrade, or a changed pipeline file)
stores it once the run is over.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path

import polars as pl

from crmsync.config import Step
from crmsync.report.outcomes import IDENTITY
from crmsync.run.artifacts import ACTION, FP_ROW, HASH, KEY, Plan
from crmsync.state.fingerprint import FP_COLUMN, code, fingerprints, salt
from crmsync.state.hashing import hash_code
from crmsync.transform.issues import MATCH_KEY

_AT = "_at"
_FINGERPRINTED = {"match_key": pl.String, "payload_hash": pl.String, FP_COLUMN: pl.String}


class KnownRowMet(Exception):
    """A row known unchanged shares its key with another row of the file: the file is read
    again, every row checked, so the two are deduped as one."""


class Unchanged:
    """Sets aside, piece by piece, the rows whose fingerprints Rally's records vouch for.
    `stored` gives what Rally last accepted (`StepState.accepted`), asked at the first
    piece."""

    def __init__(self, step: Step, base_dir: Path, stored: Callable[[], pl.DataFrame]) -> None:
        self._step, self._base_dir, self._stored = step, base_dir, stored
        self._accepted: pl.DataFrame | None = None
        self._lookup: pl.DataFrame | None = None
        self._salt: str | None = None
        self._columns: list[str] = []
        self.rows: list[pl.DataFrame] = []  # `_row` of the rows set aside, a frame a piece
        self._known_keys: list[pl.Series] = []  # their keys' codes
        self._checked_keys: list[pl.Series] = []  # the codes of checked rows' keys

    @property
    def accepted(self) -> pl.DataFrame:
        if self._accepted is None:
            self._accepted = self._stored()
        return self._accepted

    def split(
        self, frame: pl.DataFrame, columns: Mapping[str, list[str]]
    ) -> tuple[pl.DataFrame, pl.Series | None]:
        """The rows of `frame` to check, with their fingerprints (None: none could be made,
        so none is stored either); the rows known unchanged go aside."""
        if self._salt is None:
            self._start(frame, columns)
        assert self._salt is not None
        made = fingerprints(frame, self._columns, self._salt)
        if made is None or self._looked_up.is_empty():
            return frame, made
        codes = pl.select(code(pl.lit(made)).alias(FP_COLUMN))
        found = codes.join(self._looked_up, on=FP_COLUMN, how="left", maintain_order="left")[_AT]
        known = found.is_not_null()
        if not known.any():
            return frame, made
        keys = self.accepted["match_key"].gather(found.filter(known))
        self.rows.append(frame.filter(known).select("_row"))
        self._known_keys.append(pl.select(hash_code(pl.lit(keys))).to_series())
        return frame.filter(~known), made.filter(~known)

    def checked(self, rows: pl.DataFrame, issues: pl.DataFrame) -> None:
        """A piece's checked rows (with `issues`, theirs): the keys of those that did not
        fail, which a known row's key must not be."""
        if MATCH_KEY not in rows.columns:
            return
        failed = issues.filter(pl.col("severity") == "error").select(IDENTITY)
        live = rows.select(*IDENTITY, MATCH_KEY).join(failed, on=IDENTITY, how="anti")
        keys = live.get_column(MATCH_KEY).drop_nulls()
        self._checked_keys.append(pl.select(hash_code(pl.lit(keys))).to_series())

    def verify(self) -> None:
        """KnownRowMet when a known row's key is another row's (a checked one's, or another
        known one's: their record would take both)."""
        if not self._known_keys:
            return
        known = pl.concat(self._known_keys)
        checked = pl.concat(self._checked_keys) if self._checked_keys else known.clear()
        if known.is_duplicated().any() or known.is_in(checked.implode()).any():
            raise KnownRowMet

    @property
    def _looked_up(self) -> pl.DataFrame:
        """Stored fingerprint codes (each held by one record) and that record's position."""
        if self._lookup is None:
            codes = self.accepted.select(FP_COLUMN).with_row_index(_AT)
            self._lookup = codes.filter(
                pl.col(FP_COLUMN).is_not_null() & ~pl.col(FP_COLUMN).is_duplicated()
            )
        return self._lookup

    def _start(self, frame: pl.DataFrame, columns: Mapping[str, list[str]]) -> None:
        read = sorted({name for found in columns.values() for name in found})
        self._columns = [name for name in read if name in frame.columns]
        step = self._step
        settings = {
            "step": step.model_dump(mode="json", exclude={"source"}),
            "rules": {name: spec.rule(self._base_dir) for name, spec in step.mapping.items()},
            "columns": dict(columns),
        }
        self._salt = salt(settings, self._columns)


def vouched(planned: Plan, rows: pl.DataFrame, warned: pl.DataFrame) -> Plan:
    """`planned` (a partition's plan; `rows`, its checked rows before dedupe; `warned`, the
    rows warned about) keeping the fingerprints only of the rows that stand alone: keyed by
    their record's key, neither warned about nor sharing their key with another row."""
    frame = planned.frame
    if FP_ROW not in frame.columns:
        return planned
    if MATCH_KEY not in frame.columns:
        return dataclasses.replace(planned, frame=frame.drop(FP_ROW))
    shared = rows.filter(pl.col(MATCH_KEY).is_duplicated()).get_column(MATCH_KEY)
    named = warned.select(pl.struct(IDENTITY).alias("id")).get_column("id")
    alone = (
        (pl.col(KEY) == pl.col(MATCH_KEY))
        & ~pl.col(MATCH_KEY).is_in(shared.implode())
        & ~pl.struct(IDENTITY).is_in(named.implode())
    )
    kept = pl.when(alone.fill_null(False)).then(pl.col(FP_ROW)).alias(FP_ROW)
    return dataclasses.replace(planned, frame=frame.with_columns(kept))


def to_store(planned: Plan, accepted: pl.DataFrame) -> pl.DataFrame:
    """The fingerprints of a plan's unchanged rows (`vouched`) that their records do not
    hold yet: match_key, payload_hash, source_fp, stored once the run is over (the rows
    sent store theirs as Rally acknowledges them)."""
    frame = planned.frame
    if FP_ROW not in frame.columns:
        return pl.DataFrame(schema=_FINGERPRINTED)
    fresh = frame.filter((pl.col(ACTION) == "unchanged") & pl.col(FP_ROW).is_not_null()).select(
        pl.col(KEY).alias("match_key"),
        pl.col(HASH).alias("payload_hash"),
        pl.col(FP_ROW).alias(FP_COLUMN),
    )
    held = accepted.select("match_key", pl.col(FP_COLUMN).alias("_held"))
    fresh = fresh.join(held, on="match_key", how="left")
    new = pl.col("_held").is_null() | (pl.col("_held") != code(pl.col(FP_COLUMN)))
    return fresh.filter(new).drop("_held")


def attach(rows: pl.DataFrame, made: pl.Series | None) -> pl.DataFrame:
    """A piece's checked rows with their fingerprints (made for the same rows, in order)."""
    if made is None or made.len() != rows.height:
        return rows
    return rows.with_columns(made.alias(FP_ROW))
