"""Schema version, forward migrations, and refusing files this code must not write."""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
from pathlib import Path

import pytest

from crmsync.errors import ConfigError
from crmsync.state import SCHEMA_VERSION, StateDB, schema

TABLES = {
    "schema_version",
    "runs",
    "run_steps",
    "id_map",
    "row_hashes",
    "watermarks",
    "rally_records",
    "journal",
    "load_seconds",
    "step_digests",
    "row_hash_snapshots",
}


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows if not name.startswith("sqlite_")}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_fresh_file_is_created_with_its_folder_and_migrated(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "state.db"
    with StateDB.open(path) as db:
        assert db.path == path
        assert db.schema_version() == SCHEMA_VERSION
    with sqlite3.connect(path) as connection:
        (mode,) = connection.execute("PRAGMA journal_mode").fetchone()
    assert mode == "wal"
    assert _tables(path) == TABLES


def test_reopen_keeps_data_and_applies_nothing_twice(db_path: Path) -> None:
    with StateDB.open(db_path) as db:
        run_id = db.runs.start("p")
    for _ in range(2):
        with StateDB.open(db_path) as db:
            assert db.schema_version() == SCHEMA_VERSION
            assert db.runs.get(run_id) is not None
    with sqlite3.connect(db_path) as connection:
        versions = [v for (v,) in connection.execute("SELECT version FROM schema_version")]
    assert versions == list(range(1, SCHEMA_VERSION + 1))


def test_an_empty_sqlite_file_is_migrated(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    sqlite3.connect(db_path).close()
    with StateDB.open(db_path) as db:
        assert db.schema_version() == SCHEMA_VERSION


# A future release's migration, to show what opening an older file does.
NEXT = """
ALTER TABLE runs ADD COLUMN trigger TEXT NOT NULL DEFAULT 'manual';
CREATE TABLE notes (run_id INTEGER, text TEXT);
INSERT INTO notes SELECT id, 'migrated; kept' FROM runs;
"""


def test_older_file_is_migrated_on_open_and_keeps_its_data(db_path: Path) -> None:
    with StateDB.open(db_path) as db:
        run_id = db.runs.start("p")
        db.ids.put("contacts", "email", [("a@x.org", "id-a")])
    with StateDB.open(db_path, migrations=(*schema.MIGRATIONS, NEXT)) as db:
        assert db.schema_version() == SCHEMA_VERSION + 1
        assert db.ids.get("contacts", "email") == {"a@x.org": "id-a"}
    with sqlite3.connect(db_path) as connection:
        row = connection.execute("SELECT trigger FROM runs WHERE id = ?", (run_id,))
        assert row.fetchone() == ("manual",)
        notes = connection.execute("SELECT run_id, text FROM notes").fetchall()
    assert notes == [(run_id, "migrated; kept")]


def test_newer_file_is_refused_and_left_untouched(db_path: Path) -> None:
    with StateDB.open(db_path) as db:
        db.runs.start("p")
    with sqlite3.connect(db_path) as connection:
        connection.execute("INSERT INTO schema_version VALUES (99, 'later')")
    with sqlite3.connect(db_path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = _digest(db_path)
    with pytest.raises(ConfigError) as caught:
        StateDB.open(db_path)
    message = str(caught.value)
    assert "schema version 99" in message
    assert f"version {SCHEMA_VERSION}" in message
    assert "upgrade crmsync" in message
    assert caught.value.file == str(db_path)
    assert _digest(db_path) == before


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"name,email\nAda,ada@example.org\n" * 200, "cannot open state database"),
        (None, "not a crmsync state database"),
    ],
    ids=["csv-file", "foreign-sqlite"],
)
def test_a_file_that_is_not_a_state_database_is_refused(
    db_path: Path, content: bytes | None, expected: str
) -> None:
    db_path.parent.mkdir(parents=True)
    if content is None:
        with sqlite3.connect(db_path) as connection:
            connection.execute("CREATE TABLE customers (id INTEGER)")
        connection.close()
    else:
        db_path.write_bytes(content)
    before = _digest(db_path)
    with pytest.raises(ConfigError, match=expected):
        StateDB.open(db_path)
    assert _digest(db_path) == before


def test_a_failing_migration_rolls_back_entirely(tmp_path: Path) -> None:
    connection = sqlite3.connect(tmp_path / "m.db", isolation_level=None)
    schema.migrate(connection, path="m.db", migrations=schema.MIGRATIONS)
    broken = "CREATE TABLE half (a); INSERT INTO no_such_table VALUES (1);"
    with pytest.raises(ConfigError, match="cannot migrate"):
        schema.migrate(connection, path="m.db", migrations=(*schema.MIGRATIONS, NEXT, broken))
    assert schema.read_version(connection) == SCHEMA_VERSION
    tables = {n for (n,) in connection.execute("SELECT name FROM sqlite_master")}
    assert "half" not in tables
    assert "notes" not in tables  # NEXT ran in the same transaction and was rolled back too
    connection.close()


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        (
            "CREATE TABLE a (x);\nCREATE TABLE b (y);",
            ["CREATE TABLE a (x);", "CREATE TABLE b (y);"],
        ),
        ("INSERT INTO a VALUES ('x;y');", ["INSERT INTO a VALUES ('x;y');"]),
        ("-- a comment; with a semicolon\nCREATE TABLE a (x);", None),
        (
            "CREATE TRIGGER t AFTER INSERT ON a BEGIN DELETE FROM b; DELETE FROM c; END;",
            ["CREATE TRIGGER t AFTER INSERT ON a BEGIN DELETE FROM b; DELETE FROM c; END;"],
        ),
        ("\n;\n", []),
    ],
    ids=["two", "quoted-semicolon", "comment", "trigger-body", "empty"],
)
def test_split_statements(script: str, expected: list[str] | None) -> None:
    statements = list(schema.split_statements(script))
    if expected is None:
        assert len(statements) == 1
        assert statements[0].endswith("CREATE TABLE a (x);")
    else:
        assert statements == expected


def test_split_statements_refuses_an_unterminated_statement() -> None:
    with pytest.raises(ValueError, match="incomplete"):
        list(schema.split_statements("CREATE TABLE a (x); INSERT INTO a VALUES ('oops"))


def test_a_version_2_file_keeps_its_runs_and_steps_and_learns_partial(db_path: Path) -> None:
    with StateDB.open(db_path, migrations=schema.MIGRATIONS[:2]):
        pass
    with contextlib.closing(sqlite3.connect(db_path)) as raw, raw:  # as version 2 wrote it
        run_id = raw.execute(
            "INSERT INTO runs (pipeline, started_at, finished_at, status, summary, report_dir)"
            " VALUES ('p', '2026-01-01T00:00:00+00:00', '2026-01-01T00:01:00+00:00', 'failed',"
            " '{\"n\": 1}', '/r')"
        ).lastrowid
        raw.execute(
            "INSERT INTO run_steps (run_id, step, seq, summary, recorded_at)"
            " VALUES (?, 'contacts', 1, '{\"created\": 3}', '2026-01-01T00:01:00+00:00')",
            (run_id,),
        )
    assert run_id is not None
    with StateDB.open(db_path) as db:
        kept = db.runs.get(run_id)
        assert kept is not None
        assert (kept.status, kept.summary, kept.report_dir) == ("failed", {"n": 1}, "/r")
        assert kept.steps == [{"step": "contacts", "created": 3}]
        later = db.runs.start("p")
        db.runs.finish(later, status="partial", summary={}, report_dir=None)
        assert later > run_id
        assert [r.status for r in db.runs.latest("p")] == ["partial", "failed"]


def test_a_version_4_file_learns_which_expectations_a_run_broke(db_path: Path) -> None:
    with StateDB.open(db_path, migrations=schema.MIGRATIONS[:4]):
        pass
    with StateDB.open(db_path) as db:
        run_id = db.runs.start("p")
        broken = [{"expectation": "min_rows_read", "message": "min_rows_read 10: only 3 rows"}]
        db.runs.finish(run_id, status="succeeded", summary={}, report_dir=None, broken=broken)
        kept = db.runs.get(run_id)
        assert kept is not None and kept.broken == broken
