"""Snapshots of `RowHashes.compared`: read in place of the table, and never other than it.

The property that matters is that a kept snapshot is exactly what the table gives: every kind
of write to what it holds, by crmsync or by anyone with the file, drops it (the schema's
triggers), and a snapshot that cannot be read is passed over for the table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from crmsync.state import StateDB, StepState
from crmsync.state import snapshots as snapshots_module
from crmsync.state.connection import Session
from crmsync.state.hashing import CODE_MAKER, hash_code
from crmsync.state.tables import RowHashes

STEP, OTHER = "tenant/step:contacts", "tenant/step:leads"
HASHES = {key: f"{n:x}" * 64 for n, key in enumerate(["ada@x.org", "bob@x.org", "cy@x.org"], 1)}


def _sql(db: StateDB, query: str, params: tuple[Any, ...] = ()) -> list[Any]:
    with db.transaction() as session:
        cursor = cast(Session, session).execute(query, params)
        return list(cursor.fetchall()) if query.lstrip().upper().startswith("SELECT") else []


def _filled(db: StateDB, step: str = STEP) -> RowHashes:
    hashes = db.hashes
    hashes.put(step, [(key, digest, f"c-{key}") for key, digest in HASHES.items()])
    hashes.fingerprint(
        step,
        pl.DataFrame(
            {
                "match_key": ["ada@x.org"],
                "payload_hash": [HASHES["ada@x.org"]],
                "source_fp": ["f" * 32],
            }
        ),
    )
    return hashes


def _from_table(hashes: RowHashes, step: str = STEP) -> pl.DataFrame:
    return hashes._table_compared(step).sort("match_key")


def _kept(db: StateDB, step: str = STEP) -> pl.DataFrame | None:
    return snapshots_module.Snapshots(db.hashes._db).read(step, _schema(db, step))


def _schema(db: StateDB, step: str) -> dict[str, Any]:
    return dict(db.hashes._table_compared(step).schema)


def test_a_kept_snapshot_is_what_the_table_gives_and_is_read_instead_of_it(
    db: StateDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashes = _filled(db)
    expected = _from_table(hashes)
    assert expected.get_column("source_fp").null_count() == 2  # ada's fingerprint vouches
    hashes.keep_snapshot(STEP)

    def no_table(step: str) -> pl.DataFrame:
        raise AssertionError("the table was read")

    monkeypatch.setattr(hashes, "_table_compared", no_table)
    assert_frame_equal(hashes.compared(STEP).sort("match_key"), expected)
    hashes.keep_snapshot(STEP)  # still current: not written again (no table read)


def test_a_snapshot_in_parts_reads_back_whole(db: StateDB, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshots_module, "PART_ROWS", 2)
    hashes = _filled(db)
    hashes.keep_snapshot(STEP)
    assert _sql(db, "SELECT count(*) FROM row_hash_snapshots WHERE step = ?", (STEP,)) == [(2,)]
    kept = _kept(db)
    assert kept is not None
    assert_frame_equal(kept.sort("match_key"), _from_table(hashes))


WRITES: dict[str, Callable[[StateDB], None]] = {
    "a new record": lambda db: db.hashes.put(STEP, [("eve@x.org", "e" * 64, "c-5")]),
    "a record written again": lambda db: db.hashes.put(STEP, [("bob@x.org", "9" * 64, None)]),
    "a fingerprint stored": lambda db: db.hashes.fingerprint(
        STEP,
        pl.DataFrame(
            {
                "match_key": ["bob@x.org"],
                "payload_hash": [HASHES["bob@x.org"]],
                "source_fp": ["b" * 32],
            }
        ),
    ),
    "an undo's reset": lambda db: db.hashes.reset(STEP, {"ada@x.org": "{}"}),
    "an undo's forget": lambda db: db.hashes.forget(STEP, ["cy@x.org"]),
    "someone else's SQL": lambda db: _sql(
        db, "UPDATE row_hashes SET payload_hash = 'x' WHERE match_key = 'cy@x.org'"
    ),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_every_write_to_what_a_snapshot_holds_drops_it(db: StateDB, write: str) -> None:
    hashes = _filled(db)
    hashes.keep_snapshot(STEP)
    before = _from_table(hashes)
    assert _kept(db) is not None
    WRITES[write](db)
    assert _kept(db) is None
    assert_frame_equal(hashes.compared(STEP).sort("match_key"), _from_table(hashes))
    assert not before.equals(_from_table(hashes))
    hashes.keep_snapshot(STEP)  # kept afresh, as the table now is
    kept = _kept(db)
    assert kept is not None
    assert_frame_equal(kept.sort("match_key"), _from_table(hashes))


def test_a_write_to_what_no_snapshot_holds_keeps_it(db: StateDB) -> None:
    hashes = _filled(db)
    hashes.keep_snapshot(STEP)
    _sql(db, "UPDATE row_hashes SET rally_id = 'c-new', written = '{}' WHERE step = ?", (STEP,))
    assert _kept(db) is not None


def test_a_write_from_another_connection_drops_it(
    db: StateDB, backend: str, request: pytest.FixtureRequest
) -> None:
    hashes = _filled(db)
    hashes.keep_snapshot(STEP)
    if backend == "sqlite":
        assert db.path is not None
        other = StateDB.open(db.path)
    else:
        url, schema = (request.getfixturevalue(name) for name in ("postgres_url", "pg_schema"))
        other = StateDB.connect(url, schema_name=schema)
    with other:  # another process, say: the triggers are in the database, not in this code
        other.hashes.put(STEP, [("eve@x.org", "e" * 64, "c-5")])
    assert _kept(db) is None


def test_a_snapshot_another_polars_made_or_a_damaged_one_is_passed_over(db: StateDB) -> None:
    hashes = _filled(db)
    expected = _from_table(hashes)
    for damage in (
        "UPDATE row_hash_snapshots SET made_by = 'polars 0.0, seed 0x1'",
        "UPDATE row_hash_snapshots SET frame = ?",
    ):
        hashes.keep_snapshot(STEP)
        _sql(db, damage, (b"\x00\xffnot arrow",) if "?" in damage else ())
        fresh = RowHashes(db.hashes._db)  # another process: it never read this snapshot
        assert _kept(db) is None
        assert_frame_equal(fresh.compared(STEP).sort("match_key"), expected)
        fresh.keep_snapshot(STEP)  # written again, readable
        kept = _kept(db)
        assert kept is not None
        assert_frame_equal(kept.sort("match_key"), expected)


def test_steps_keep_their_own_snapshots(db: StateDB) -> None:
    hashes = _filled(db)
    _filled(db, OTHER)
    hashes.put(OTHER, [("zed@x.org", "7" * 64, "c-9")])
    hashes.keep_snapshot(STEP)
    hashes.keep_snapshot(OTHER)
    kept, other = _kept(db), _kept(db, OTHER)
    assert kept is not None and other is not None
    assert_frame_equal(kept.sort("match_key"), _from_table(hashes))
    assert_frame_equal(other.sort("match_key"), _from_table(hashes, OTHER))
    assert other.height == kept.height + 1


def test_an_empty_step_keeps_an_empty_snapshot(db: StateDB) -> None:
    db.hashes.keep_snapshot(STEP)
    kept = _kept(db)
    assert kept is not None and kept.is_empty()


def test_a_dry_run_keeps_no_snapshot(db: StateDB) -> None:
    _filled(db, "tenant#1/step:contacts")
    StepState(db, destination="tenant#1", step="contacts", run_id=1, dry_run=True).keep_accepted()
    assert _sql(db, "SELECT count(*) FROM row_hash_snapshots") == [(0,)]
    StepState(db, destination="tenant#1", step="contacts", run_id=1, dry_run=False).keep_accepted()
    assert _sql(db, "SELECT count(*) FROM row_hash_snapshots") == [(1,)]


def test_the_codes_alone_are_read_from_a_snapshot_and_the_keys_come_from_the_table(
    db: StateDB,
) -> None:
    hashes = _filled(db)
    expected = _from_table(hashes)
    # no snapshot yet: the table's read has the keys' text
    assert_frame_equal(hashes.compared(STEP, keys=False).sort("match_key"), expected)
    hashes.keep_snapshot(STEP)
    codes = RowHashes(db.hashes._db).compared(STEP, keys=False)
    assert codes.columns == ["key_code", "payload_hash", "source_fp"]
    with_codes = expected.with_columns(hash_code(pl.col("match_key")).alias("key_code"))
    assert_frame_equal(codes.sort("key_code"), with_codes.select(codes.columns).sort("key_code"))
    assert_frame_equal(RowHashes(db.hashes._db).compared(STEP).sort("match_key"), expected)


def test_a_snapshot_kept_without_key_codes_is_passed_over_and_kept_again(db: StateDB) -> None:
    hashes = _filled(db)
    expected = _from_table(hashes)
    hashes.keep_snapshot(STEP)
    # as the crmsync before kept it: the same columns but the codes, made_by its polars only
    older = snapshots_module._encoded(expected)
    _sql(db, "UPDATE row_hash_snapshots SET frame = ?, made_by = ?", (older, CODE_MAKER))
    fresh = RowHashes(db.hashes._db)
    assert_frame_equal(fresh.compared(STEP).sort("match_key"), expected)  # from the table
    fresh.keep_snapshot(STEP)
    assert "key_code" in RowHashes(db.hashes._db).compared(STEP, keys=False).columns


def test_a_read_ahead_of_the_codes_gives_way_to_the_whole_when_keys_are_asked_for(
    db: StateDB,
) -> None:
    _filled(db, "tenant#1/step:contacts")
    db.hashes.keep_snapshot("tenant#1/step:contacts")
    state = StepState(db, destination="tenant#1", step="contacts", run_id=1, dry_run=False)
    state.prefetch_accepted()
    assert "match_key" in state.accepted(keys=True).columns  # the codes read ahead are not enough
    state.prefetch_accepted()
    assert "match_key" not in state.accepted(keys=False).columns
