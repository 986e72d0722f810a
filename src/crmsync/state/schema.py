"""The state database's schema and its forward migrations.

``MIGRATIONS[i]`` takes a database from version ``i`` to ``i + 1``. Scripts are only ever
appended, never edited once released: a database written by an older crmsync is migrated on open,
and one written by a newer crmsync (a version this code does not know) is refused, never touched.
All pending scripts run in one ``BEGIN IMMEDIATE`` transaction, so a failed migration leaves the
file exactly as it was, and two processes opening the same old file migrate it once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from crmsync.errors import ConfigError

# Version 1: runs, the id map, row hashes, watermarks (and batch checkpoints, dropped in 2).
_V1 = """
CREATE TABLE schema_version (
    version     INTEGER PRIMARY KEY,
    applied_at  TEXT NOT NULL
);

-- One row per run of a pipeline. pid/host say which process owns a 'running' row, so a later
-- run holding the pipeline lock can tell its own row from one a dead process left behind.
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,   -- never reused: newest run = highest id
    pipeline    TEXT NOT NULL,
    started_at  TEXT NOT NULL,                       -- ISO 8601, UTC
    finished_at TEXT,
    status      TEXT NOT NULL CHECK (status IN
                    ('running', 'succeeded', 'failed', 'interrupted', 'crashed')),
    dry_run     INTEGER NOT NULL DEFAULT 0,
    summary     TEXT NOT NULL DEFAULT '{}',          -- JSON object
    report_dir  TEXT,
    pid         INTEGER,
    host        TEXT
);
CREATE INDEX runs_by_pipeline ON runs (pipeline, id);

-- Per-step summaries of a run, in the order the steps ran.
CREATE TABLE run_steps (
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step        TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    summary     TEXT NOT NULL,                       -- JSON object
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (run_id, step)
) WITHOUT ROWID;

-- (object, kind, normalized key) -> Rally id, for references and re-run skipping.
-- run_id is provenance only (no foreign key: pruning runs must not forget ids).
CREATE TABLE id_map (
    object      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    key         TEXT NOT NULL,
    rally_id    TEXT NOT NULL,
    run_id      INTEGER,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (object, kind, key)
) WITHOUT ROWID;
CREATE INDEX id_map_by_rally_id ON id_map (object, rally_id);

-- Change detection: per step and match key, the hash of the payload Rally last accepted.
CREATE TABLE row_hashes (
    step         TEXT NOT NULL,
    match_key    TEXT NOT NULL,
    payload_hash TEXT NOT NULL,
    rally_id     TEXT,
    run_id       INTEGER,
    PRIMARY KEY (step, match_key)
) WITHOUT ROWID;

-- Incremental extraction: the newest updated_on/updatedAt seen per step and source.
CREATE TABLE watermarks (
    step        TEXT NOT NULL,
    source      TEXT NOT NULL,
    value       TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (step, source)
) WITHOUT ROWID;

-- Resume: the outcome of every row of every acknowledged batch of an unfinished run.
CREATE TABLE checkpoints (
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step        TEXT NOT NULL,
    row_key     TEXT NOT NULL,
    status      TEXT NOT NULL,
    rally_id    TEXT,
    PRIMARY KEY (run_id, step, row_key)
) WITHOUT ROWID;
"""

# Version 2: resume reads the row hashes committed after every batch; the checkpoints table was
# never read.
_V2 = """
DROP TABLE checkpoints;
"""

# Version 3: safe writes. Per record, the payload crmsync last wrote (each field's base for a
# three-way merge); the records as Rally last showed them (what people see and edit); and a
# journal of every write with what Rally held before it, so a run can be undone.
_V3 = """
ALTER TABLE row_hashes ADD COLUMN written TEXT;        -- JSON: field -> value crmsync wrote

CREATE TABLE rally_records (
    scope       TEXT NOT NULL,                         -- destination/object
    rally_id    TEXT NOT NULL,
    key         TEXT,                                  -- the match key (email, domain), lowered
    record      TEXT NOT NULL,                         -- JSON, as Rally's list or PUT showed it
    seen_at     TEXT NOT NULL,
    PRIMARY KEY (scope, rally_id)
) WITHOUT ROWID;
CREATE INDEX rally_records_by_key ON rally_records (scope, key);

CREATE TABLE journal (
    run_id      INTEGER NOT NULL,
    seq         INTEGER NOT NULL,                      -- order of the writes within the run
    step        TEXT NOT NULL,
    scope       TEXT NOT NULL,                         -- destination/object
    object      TEXT NOT NULL,
    rally_id    TEXT NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('created', 'updated')),
    before      TEXT NOT NULL,                         -- JSON: those fields as Rally held them
    after       TEXT NOT NULL,                         -- JSON: the fields as written
    row_key     TEXT,                                  -- the record's key in row_hashes
    written_before TEXT,                               -- JSON: what crmsync had written before
    undone_by   INTEGER,                               -- the undo run that reverted it
    undo_note   TEXT,                                  -- why the undo left it alone, if it did
    PRIMARY KEY (run_id, seq)
);
CREATE INDEX journal_by_record ON journal (scope, rally_id, run_id);
"""

# Version 4: a run that finished with some rows failed is 'partial', apart from 'failed' (it
# could not start, or no row got through). SQLite cannot change a CHECK in place: runs is
# rebuilt, and run_steps is set aside first so the rebuild's DROP cascades into nothing.
_V4 = """
CREATE TABLE run_steps_kept AS SELECT * FROM run_steps;
DROP TABLE run_steps;
CREATE TABLE runs_v4 (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    pipeline    TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    status      TEXT NOT NULL CHECK (status IN
                    ('running', 'succeeded', 'partial', 'failed', 'interrupted', 'crashed')),
    dry_run     INTEGER NOT NULL DEFAULT 0,
    summary     TEXT NOT NULL DEFAULT '{}',
    report_dir  TEXT,
    pid         INTEGER,
    host        TEXT
);
INSERT INTO runs_v4 (id, pipeline, started_at, finished_at, status, dry_run, summary,
                     report_dir, pid, host)
    SELECT id, pipeline, started_at, finished_at, status, dry_run, summary, report_dir, pid, host
    FROM runs;
DROP TABLE runs;
ALTER TABLE runs_v4 RENAME TO runs;
CREATE INDEX runs_by_pipeline ON runs (pipeline, id);
CREATE TABLE run_steps (
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step        TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    summary     TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (run_id, step)
) WITHOUT ROWID;
INSERT INTO run_steps SELECT run_id, step, seq, summary, recorded_at FROM run_steps_kept;
DROP TABLE run_steps_kept;
"""

# Version 5: what a run's page (report.html) draws, kept so it can be drawn again: the load
# per second of each step, and each step's digest (failures, merges and warnings grouped,
# with their first source rows).
_V5 = """
CREATE TABLE load_seconds (
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step        TEXT NOT NULL,
    second      INTEGER NOT NULL,                      -- from the step's client start
    requests    INTEGER NOT NULL,                      -- attempts that ended in it
    rate_limited INTEGER NOT NULL,                     -- of those, 429s
    failed      INTEGER NOT NULL,                      -- of those, other failures
    retries     INTEGER NOT NULL,
    records     INTEGER NOT NULL,                      -- records that got their outcome
    in_flight   INTEGER NOT NULL,                      -- the most at once
    cap         INTEGER NOT NULL,                      -- the cap on requests in flight
    pace_rps    REAL,                                  -- the rate the client kept, if paced
    p50_ms      REAL,
    p95_ms      REAL,
    p99_ms      REAL,
    max_ms      REAL,
    PRIMARY KEY (run_id, step, second)
) WITHOUT ROWID;

CREATE TABLE step_digests (
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step        TEXT NOT NULL,
    digest      TEXT NOT NULL,                         -- JSON: report/digest.py's StepDigest
    PRIMARY KEY (run_id, step)
) WITHOUT ROWID;
"""

# Version 6: the expectations (`expect:`) a run broke, apart from its status: a run can succeed
# row by row and still need a person (too few rows read, too slow).
_V6 = """
ALTER TABLE runs ADD COLUMN broken TEXT;               -- JSON list, NULL when none was broken
"""

# Version 7: per record, a fingerprint of the source values its accepted payload was made from
# and the start of that payload's hash (`<fingerprint>:<hash prefix>`): a rerun knows a row
# whose source values are as they were without transforming it, while the hash still holds.
_V7 = """
ALTER TABLE row_hashes ADD COLUMN source_fp TEXT;
"""

# Version 8: per step, what `RowHashes.compared` read last, kept as Arrow IPC parts: a rerun
# reads a few blobs where a million rows, turned into Python values one by one, took a second.
# Any write to what it holds deletes it in the same transaction (the triggers), so a kept one
# is always what the table would give; the run that finds none keeps a fresh one.
_V8 = """
CREATE TABLE row_hash_snapshots (
    step        TEXT NOT NULL,
    part        INTEGER NOT NULL,                      -- the frame's parts, in order
    made_by     TEXT NOT NULL,                         -- the codes' maker: polars' version
    frame       BLOB NOT NULL,                         -- Arrow IPC
    PRIMARY KEY (step, part)
);
CREATE TRIGGER row_hashes_inserted AFTER INSERT ON row_hashes BEGIN
    DELETE FROM row_hash_snapshots WHERE step = NEW.step;
END;
CREATE TRIGGER row_hashes_updated
AFTER UPDATE OF step, match_key, payload_hash, source_fp ON row_hashes BEGIN
    DELETE FROM row_hash_snapshots WHERE step IN (OLD.step, NEW.step);
END;
CREATE TRIGGER row_hashes_deleted AFTER DELETE ON row_hashes BEGIN
    DELETE FROM row_hash_snapshots WHERE step = OLD.step;
END;
"""

MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8)
SCHEMA_VERSION: int = len(MIGRATIONS)


def read_version(connection: sqlite3.Connection) -> int:
    """The schema version of an open database: 0 for an empty file.

    Raises ConfigError for a file that is not SQLite, or SQLite that is not a state database
    (tables but no version), rather than adding our tables to somebody else's file.
    """
    tables = {
        name
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    }
    if not tables:
        return 0
    if "schema_version" not in tables:
        raise ConfigError("not a crmsync state database (it has other tables and no version)")
    query = "SELECT COALESCE(MAX(version), 0) FROM schema_version"
    (version,) = connection.execute(query).fetchone()
    return int(version)


def refuse_newer(version: int, known: int, *, path: str) -> None:
    """A file from a newer crmsync must not be written by this one: say so clearly."""
    if version > known:
        raise ConfigError(
            f"state database {path} has schema version {version}, newer than this crmsync "
            f"understands (version {known}); upgrade crmsync, or point the pipeline's state at "
            "another file",
            file=path,
        )


def migrate(
    connection: sqlite3.Connection, *, path: str, migrations: Sequence[str] | None = None
) -> int:
    """Bring the database up to ``len(migrations)`` (default: MIGRATIONS); returns the version
    it started at.

    The connection must be in autocommit mode (``isolation_level=None``): this function owns its
    transaction, and re-reads the version inside it in case another process migrated first.
    """
    if migrations is None:
        migrations = MIGRATIONS
    target = len(migrations)
    refuse_newer(read_version(connection), target, path=path)
    connection.execute("BEGIN IMMEDIATE")
    try:
        start = read_version(connection)
        refuse_newer(start, target, path=path)
        for version in range(start + 1, target + 1):
            for statement in split_statements(migrations[version - 1]):
                connection.execute(statement)
            connection.execute(
                "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                (version, datetime.now(UTC).isoformat(timespec="seconds")),
            )
        connection.execute("COMMIT")
    except sqlite3.Error as exc:
        connection.execute("ROLLBACK")
        raise ConfigError(
            f"cannot migrate state database {path} to schema version {target}: {exc}", file=path
        ) from exc
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return start


def split_statements(script: str) -> Iterator[str]:
    """The statements of an SQL script, one at a time.

    ``executescript`` would commit our open transaction first; sqlite3.complete_statement knows
    about quotes, comments and trigger bodies, so splitting on ';' until it says "complete" is
    exact.
    """
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            statement = pending.strip()
            if statement.strip(";").strip():
                yield statement
            pending = ""
    if pending.strip(" \n\t;"):
        raise ValueError(f"incomplete SQL statement at the end of a migration: {pending!r}")
