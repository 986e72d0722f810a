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
from crmsync.run.stages.plan import HELD_FP
from crmsync.run.stages.transform import failures
from crmsync.state.fingerprint import FP_COLUMN, code, fingerprints, salt
from crmsync.state.hashing import hash_code
from crmsync.state.tables import KEY_CODE
from crmsync.transform.issues import MATCH_KEY, named_rows

_AT = "_at"
_FINGERPRINTED = {"match_key": pl.String, "payload_hash": pl.String, FP_COLUMN: pl.String}


class KnownRowMet(Exception):
    """A row known unchanged shares its key with another row of the file: the file is read
    again, every row checked, so the two are deduped as one."""


class StoredOnce:
    """What Rally last accepted, read from `read` (keys: whether the match_key text must be
    there) when first asked, and held until planning `take`s it: ten million stored hashes
    are 620 MB that the report must not hold. The read of the file only tells rows apart,
    so it holds the codes alone where a snapshot has them (224 MB); planning reads the keys
    then."""

    def __init__(self, read: Callable[[bool], pl.DataFrame]) -> None:
        self._read = read
        self._frame: pl.DataFrame | None = None

    def __call__(self) -> pl.DataFrame:
        """The codes: payload_hash, source_fp and KEY_CODE, or match_key (read from the
        table, where its text came anyway)."""
        if self._frame is None:
            self._frame = self._read(False)
        return self._frame

    def take(self) -> pl.DataFrame:
        """The whole of it, match_key included; let go of here."""
        frame, self._frame = self._frame, None
        if frame is not None and "match_key" in frame.columns:
            return frame
        del frame  # the codes go before the whole is read
        return self._read(True)


class Unchanged:
    """Sets aside, piece by piece, the rows whose fingerprints Rally's records vouch for,
    against what Rally last accepted (`stored`, asked at the first piece)."""

    def __init__(
        self, step: Step, base_dir: Path, stored: StoredOnce, *, keep: bool = True
    ) -> None:
        self._step, self._base_dir, self.accepted = step, base_dir, stored
        self._keep = keep  # False (a dry run): fingerprints serve only to look rows up
        self._lookup: pl.DataFrame | None = None
        self._salt: str | None = None
        self._columns: list[str] = []
        self.rows: list[pl.DataFrame] = []  # `_row` of the rows set aside, a frame a piece
        self._known_keys: list[pl.Series] = []  # their keys' codes
        self._checked_keys: list[pl.Series] = []  # the codes of checked rows' keys

    def split(
        self, frame: pl.DataFrame, columns: Mapping[str, list[str]]
    ) -> tuple[pl.DataFrame, pl.Series | None]:
        """The rows of `frame` to check, with their fingerprints (None: none could be made,
        so none is stored either); the rows known unchanged go aside."""
        if self._salt is None:
            self._start(frame, columns)
        assert self._salt is not None
        if not self._keep and self._looked_up.is_empty():
            return frame, None  # nothing to find, nothing will be stored (1M rows: 1.2 s)
        made = fingerprints(frame, self._columns, self._salt)
        if made is None or self._looked_up.is_empty():
            return frame, made
        found = self._found(pl.select(code(pl.lit(made))).to_series())
        known = found.is_not_null()
        if not known.any():
            return frame, made
        self.rows.append(frame.filter(known).select("_row"))
        self._known_keys.append(_key_codes(self.accepted(), found.filter(known)))
        return frame.filter(~known), made.filter(~known)

    def checked(self, rows: pl.DataFrame, issues: pl.DataFrame) -> None:
        """A piece's checked rows (with `issues`, theirs): the keys of those that did not
        fail, which a known row's key must not be."""
        if MATCH_KEY not in rows.columns:
            return
        found = failures(issues)  # an incomplete row may yet merge with its key's record
        failed = found.rows.join(found.incomplete, on=IDENTITY, how="anti")
        live = rows.select(*IDENTITY, MATCH_KEY).join(failed, on=IDENTITY, how="anti")
        self._checked_keys.append(_codes(live.get_column(MATCH_KEY).drop_nulls()))

    def verify(self) -> None:
        """KnownRowMet when a known row's key is another row's (a checked one's, or another
        known one's: their record would take both). The read is over: what only it needed
        is let go of."""
        found, self._known_keys = self._known_keys, []
        checked, self._checked_keys = self._checked_keys, []
        self._lookup = None
        if not found:
            return
        # sorted, not hashed: ten million codes in a hash table took 400 MB more
        known = pl.concat(found).sort()
        del found
        repeated = known.len() > 1 and bool(
            (known.slice(1) == known.slice(0, known.len() - 1)).any()
        )
        met = bool(checked) and bool(_found_in(known, pl.concat(checked))[1].any())
        if repeated or met:
            raise KnownRowMet

    @property
    def _looked_up(self) -> pl.DataFrame:
        """Stored fingerprint codes (each held by one record), sorted, and that record's
        position: each piece's codes are found by binary search, where a join would hash
        all ten million stored ones again for every piece."""
        if self._lookup is None:
            codes = self.accepted().select(FP_COLUMN).with_row_index(_AT)
            unique = pl.col(FP_COLUMN).is_not_null() & ~pl.col(FP_COLUMN).is_duplicated()
            self._lookup = codes.filter(unique).sort(FP_COLUMN)
        return self._lookup

    def _found(self, codes: pl.Series) -> pl.Series:
        """The position in `accepted` of the record holding each code (null: none)."""
        at, hit = _found_in(self._looked_up.get_column(FP_COLUMN), codes)
        positions = self._looked_up.get_column(_AT).gather(at)
        return positions.zip_with(hit, pl.Series([None], dtype=positions.dtype))

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


def _key_codes(accepted: pl.DataFrame, at: pl.Series) -> pl.Series:
    """The codes of the keys of the records `at` (positions in `accepted`): kept as such in
    a snapshot, made from the text when it was read from the table."""
    if KEY_CODE in accepted.columns:
        return accepted.get_column(KEY_CODE).gather(at)
    return _codes(accepted.get_column("match_key").gather(at))


def _codes(keys: pl.Series) -> pl.Series:
    """The `hash_code` of each key, as a snapshot keeps them."""
    return pl.select(hash_code(pl.lit(keys))).to_series()


def _found_in(ordered: pl.Series, codes: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Where each of `codes` is in `ordered` (sorted, not empty), found by binary search,
    and whether it is there at all."""
    at = ordered.search_sorted(codes, side="left").clip(0, ordered.len() - 1)
    return at, (ordered.gather(at) == codes).fill_null(False)


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
    alone = (
        (pl.col(KEY) == pl.col(MATCH_KEY))
        & ~pl.col(MATCH_KEY).is_in(shared.implode())
        & ~pl.lit(named_rows(frame, warned))
    )
    kept = pl.when(alone.fill_null(False)).then(pl.col(FP_ROW)).alias(FP_ROW)
    return dataclasses.replace(planned, frame=frame.with_columns(kept))


def to_store(planned: Plan) -> pl.DataFrame:
    """The fingerprints of a plan's unchanged rows (`vouched`) that their records do not
    hold yet (HELD_FP): match_key, payload_hash, source_fp, stored once the run is over
    (the rows sent store theirs as Rally acknowledges them)."""
    frame = planned.frame
    if FP_ROW not in frame.columns:
        return pl.DataFrame(schema=_FINGERPRINTED)
    held = pl.col(HELD_FP) if HELD_FP in frame.columns else pl.lit(None, pl.UInt64)
    fresh = (
        (pl.col(ACTION) == "unchanged")
        & pl.col(FP_ROW).is_not_null()
        & (held.is_null() | (held != code(pl.col(FP_ROW))))
    )
    return frame.filter(fresh).select(
        pl.col(KEY).alias("match_key"),
        pl.col(HASH).alias("payload_hash"),
        pl.col(FP_ROW).alias(FP_COLUMN),
    )


def attach(rows: pl.DataFrame, made: pl.Series | None) -> pl.DataFrame:
    """A piece's checked rows with their fingerprints (made for the same rows, in order)."""
    if made is None or made.len() != rows.height:
        return rows
    return rows.with_columns(made.alias(FP_ROW))
