"""StateDB: what crmsync remembers between runs, in one SQLite file.

Runs and their per-step summaries, the id map (source key -> Rally id), the hash of the payload
Rally last accepted per match key, watermarks for incremental extraction, and checkpoints of
acknowledged batches so a killed run resumes without sending anything twice.

Durability: the file is in WAL mode with ``synchronous=NORMAL``. A commit appends its pages to the
WAL with write() before COMMIT returns, so a committed transaction survives the death of the
process (SIGKILL included); only an OS crash or power cut can lose the last few commits, which a
resumed run then reconciles with Rally like any in-flight batch. Every public write is one
transaction, so a bulk put is all or nothing.

One connection per StateDB, shared by the threads that may use it under a lock (the pipeline
calls from its asyncio thread; a report may be printed from another). Other processes may read
the same file while a run writes it (WAL).
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import polars as pl

from crmsync.errors import ConfigError
from crmsync.state import schema

# Wait this long for another process's write transaction before giving up ("database is locked").
BUSY_TIMEOUT_S = 30.0
WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024

RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
INTERRUPTED = "interrupted"
CRASHED = "crashed"
FINISHED_STATUSES = frozenset({SUCCEEDED, FAILED, INTERRUPTED, CRASHED})
# A run with one of these statuses completed: nothing of it is left to resume.
COMPLETE_STATUSES = (SUCCEEDED, FAILED)
UNFINISHED_STATUSES = (RUNNING, INTERRUPTED, CRASHED)

HASH_SCHEMA = {"match_key": pl.String, "payload_hash": pl.String, "rally_id": pl.String}


@dataclass(frozen=True)
class RunRecord:
    """One run as ``crmsync runs`` and ``crmsync report`` show it."""

    id: int
    pipeline: str
    started_at: str
    finished_at: str | None
    status: str
    dry_run: bool
    summary: dict[str, Any]
    report_dir: str | None
    duration_s: float | None
    steps: list[dict[str, Any]]  # each {"step": name, **that step's summary}, in run order


class StateDB:
    """The state database of one pipeline file (several pipelines may share one file)."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        """Use :meth:`open`; this only wraps an already migrated connection."""
        self._connection = connection
        self._path = path
        self._lock = threading.RLock()

    # ----------------------------------------------------------------------------- lifecycle

    @classmethod
    def open(cls, path: str | Path) -> StateDB:
        """Open (creating the file and its folder if need be) and migrate to SCHEMA_VERSION.

        Raises ConfigError when the folder cannot be created, the file is not a state database,
        or it was written by a newer crmsync: the run cannot start, and nothing was changed.
        """
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"cannot open state database {path}: {exc}", file=str(path)) from exc
        try:
            # Refuse a newer file before switching its journal mode or anything else.
            schema.refuse_newer(
                schema.read_version(connection), len(schema.MIGRATIONS), path=str(path)
            )
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            # A million-row put makes a big WAL; let checkpoints shrink it back afterwards.
            connection.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT_BYTES}")
            connection.execute("PRAGMA foreign_keys = ON")
            schema.migrate(connection, path=str(path), migrations=schema.MIGRATIONS)
        except ConfigError as exc:
            connection.close()
            if exc.file is None:
                raise ConfigError(str(exc), file=str(path)) from exc
            raise
        except sqlite3.Error as exc:
            connection.close()
            raise ConfigError(f"cannot open state database {path}: {exc}", file=str(path)) from exc
        return cls(connection, path)

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    def schema_version(self) -> int:
        """The schema version of the open file (SCHEMA_VERSION once opened)."""
        with self._lock:
            return schema.read_version(self._connection)

    def close(self) -> None:
        """Close the connection; committed work is already on disk."""
        with self._lock:
            self._connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken up front (IMMEDIATE) so it cannot deadlock on upgrade."""
        with self._lock:
            connection = self._connection
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    # ----------------------------------------------------------------------------- runs

    def start_run(self, pipeline: str, *, dry_run: bool = False) -> int:
        """Record a new run as running, owned by this process; returns its id."""
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO runs (pipeline, started_at, status, dry_run, pid, host)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (pipeline, _now(), RUNNING, int(dry_run), os.getpid(), socket.gethostname()),
            )
            run_id = cursor.lastrowid
        assert run_id is not None
        return run_id

    def finish_run(
        self, run_id: int, *, status: str, summary: dict[str, Any], report_dir: str | None
    ) -> None:
        """Close a run. A complete run (succeeded/failed) also drops the checkpoints of it and
        of every earlier run of its pipeline: nothing before it will be resumed."""
        if status not in FINISHED_STATUSES:
            raise ValueError(f"finish_run status must be one of {sorted(FINISHED_STATUSES)}")
        with self._write() as db:
            cursor = db.execute(
                "UPDATE runs SET finished_at = ?, status = ?, summary = ?, report_dir = ?"
                " WHERE id = ?",
                (_now(), status, _to_json(summary), report_dir, run_id),
            )
            if cursor.rowcount == 0:
                raise KeyError(f"no run {run_id}")
            if status in COMPLETE_STATUSES:
                db.execute(
                    "DELETE FROM checkpoints WHERE run_id IN (SELECT id FROM runs WHERE"
                    " pipeline = (SELECT pipeline FROM runs WHERE id = ?) AND id <= ?)",
                    (run_id, run_id),
                )

    def record_step(self, run_id: int, step: str, summary: dict[str, Any]) -> None:
        """Store one step's summary; recording the same step again replaces it in place."""
        with self._write() as db:
            db.execute(
                "INSERT INTO run_steps (run_id, step, seq, summary, recorded_at)"
                " VALUES (?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM run_steps"
                " WHERE run_id = ?), ?, ?)"
                " ON CONFLICT (run_id, step) DO UPDATE"
                " SET summary = excluded.summary, recorded_at = excluded.recorded_at",
                (run_id, step, run_id, _to_json(summary), _now()),
            )

    def runs(self, pipeline: str | None = None, *, limit: int = 50) -> list[RunRecord]:
        """The latest ``limit`` runs (of one pipeline, or all), newest first."""
        query = f"SELECT {_RUN_COLUMNS} FROM runs"
        params: tuple[Any, ...] = ()
        if pipeline is not None:
            query += " WHERE pipeline = ?"
            params = (pipeline,)
        with self._lock:
            rows = self._connection.execute(
                f"{query} ORDER BY id DESC LIMIT ?", (*params, limit)
            ).fetchall()
            steps = self._steps([row[0] for row in rows])
        return [_run_record(row, steps.get(row[0], [])) for row in rows]

    def run(self, run_id: int) -> RunRecord | None:
        """One run, or None if there is no such id."""
        with self._lock:
            row = self._connection.execute(
                f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,)
            ).fetchone()
            if row is None:
                return None
            return _run_record(row, self._steps([run_id]).get(run_id, []))

    def _steps(self, run_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        found: dict[int, list[dict[str, Any]]] = {}
        rows = self._connection.execute(
            "SELECT run_id, step, summary FROM run_steps"
            " WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY run_id, seq",
            (json.dumps(run_ids),),
        )
        for run_id, step, summary in rows:
            found.setdefault(run_id, []).append({"step": step} | _step_summary(summary))
        return found

    def mark_crashed(self, pipeline: str) -> int:
        """Turn this pipeline's 'running' runs into 'crashed'; returns how many.

        Call it holding the pipeline's lock: the lock proves no other process is running the
        pipeline, so every 'running' row not owned by this very process was left by a dead one.
        """
        with self._write() as db:
            cursor = db.execute(
                "UPDATE runs SET status = ? WHERE pipeline = ? AND status = ?"
                " AND NOT (pid IS ? AND host IS ?)",
                (CRASHED, pipeline, RUNNING, os.getpid(), socket.gethostname()),
            )
            return cursor.rowcount

    # ----------------------------------------------------------------------------- id map

    def put_ids(
        self,
        obj: str,
        kind: str,
        pairs: Iterable[tuple[str, str]],
        *,
        run_id: int | None = None,
    ) -> int:
        """Map normalized keys of one kind to Rally ids (a known key is overwritten)."""
        now = _now()
        rows = [(obj, kind, key, rally_id, run_id, now) for key, rally_id in pairs]
        with self._write() as db:
            db.executemany(
                "INSERT INTO id_map (object, kind, key, rally_id, run_id, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (object, kind, key) DO UPDATE SET rally_id = excluded.rally_id,"
                " run_id = excluded.run_id, updated_at = excluded.updated_at",
                rows,
            )
        return len(rows)

    def get_ids(self, obj: str, kind: str, keys: Iterable[str] | None = None) -> dict[str, str]:
        """key -> Rally id for the given keys that are known (all keys of the kind if None)."""
        query = "SELECT key, rally_id FROM id_map WHERE object = ? AND kind = ?"
        params: tuple[Any, ...] = (obj, kind)
        if keys is not None:
            query += " AND key IN (SELECT value FROM json_each(?))"
            params += (json.dumps(list(keys), ensure_ascii=False),)
        with self._lock:
            return dict(self._connection.execute(query, params).fetchall())

    def forget_ids(self, obj: str, rally_ids: Iterable[str]) -> int:
        """Drop every key of ``obj`` that points at these Rally ids (e.g. deleted: a 404).

        Row hashes are per step, not per object: drop those with :meth:`delete_hashes`.
        """
        with self._write() as db:
            cursor = db.execute(
                "DELETE FROM id_map WHERE object = ?"
                " AND rally_id IN (SELECT value FROM json_each(?))",
                (obj, json.dumps(list(rally_ids), ensure_ascii=False)),
            )
            return cursor.rowcount

    # ----------------------------------------------------------------------------- row hashes

    def put_hashes(
        self,
        step: str,
        rows: Iterable[tuple[str, str, str | None]],
        *,
        run_id: int | None = None,
    ) -> int:
        """Remember (match_key, payload_hash, rally_id) per row Rally accepted.

        A None rally_id keeps the id already known for that key (unknown is not "no id").
        """
        values = [(step, key, digest, rally_id, run_id) for key, digest, rally_id in rows]
        with self._write() as db:
            db.executemany(
                "INSERT INTO row_hashes (step, match_key, payload_hash, rally_id, run_id)"
                " VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (step, match_key) DO UPDATE SET"
                " payload_hash = excluded.payload_hash,"
                " rally_id = COALESCE(excluded.rally_id, row_hashes.rally_id),"
                " run_id = excluded.run_id",
                values,
            )
        return len(values)

    def get_hashes(self, step: str) -> pl.DataFrame:
        """Every remembered row of a step: match_key, payload_hash, rally_id (all String)."""
        with self._lock:
            rows = self._connection.execute(
                "SELECT match_key, payload_hash, rally_id FROM row_hashes WHERE step = ?",
                (step,),
            ).fetchall()
        return pl.DataFrame(rows, schema=HASH_SCHEMA, orient="row")

    def delete_hashes(self, step: str, match_keys: Iterable[str]) -> int:
        """Forget rows of a step (deleted in Rally, or no longer in the source)."""
        with self._write() as db:
            cursor = db.execute(
                "DELETE FROM row_hashes WHERE step = ?"
                " AND match_key IN (SELECT value FROM json_each(?))",
                (step, json.dumps(list(match_keys), ensure_ascii=False)),
            )
            return cursor.rowcount

    # ----------------------------------------------------------------------------- watermarks

    def get_watermark(self, step: str, source: str) -> str | None:
        """The newest updated-at value seen for this step's source, if any."""
        with self._lock:
            row = self._connection.execute(
                "SELECT value FROM watermarks WHERE step = ? AND source = ?", (step, source)
            ).fetchone()
        return None if row is None else str(row[0])

    def set_watermark(self, step: str, source: str, value: str) -> None:
        """Store the watermark; call it only once the records up to it are safely loaded."""
        with self._write() as db:
            db.execute(
                "INSERT INTO watermarks (step, source, value, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (step, source) DO UPDATE"
                " SET value = excluded.value, updated_at = excluded.updated_at",
                (step, source, value, _now()),
            )

    # ----------------------------------------------------------------------------- checkpoints

    def checkpoint(
        self, run_id: int, step: str, outcomes: Iterable[tuple[str, str, str | None]]
    ) -> None:
        """Record one acknowledged batch: (row_key, status, rally_id) per row.

        Committed in its own transaction before returning, so it survives a SIGKILL that comes
        right after (see the module docstring). A row checkpointed again keeps the latest.
        """
        values = [(run_id, step, key, status, rally_id) for key, status, rally_id in outcomes]
        with self._write() as db:
            db.executemany(
                "INSERT INTO checkpoints (run_id, step, row_key, status, rally_id)"
                " VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (run_id, step, row_key) DO UPDATE"
                " SET status = excluded.status, rally_id = excluded.rally_id",
                values,
            )

    def checkpointed(self, run_id: int, step: str) -> dict[str, tuple[str, str | None]]:
        """row_key -> (status, rally_id) of every row a run acknowledged in a step."""
        with self._lock:
            rows = self._connection.execute(
                "SELECT row_key, status, rally_id FROM checkpoints WHERE run_id = ? AND step = ?",
                (run_id, step),
            ).fetchall()
        return {key: (status, rally_id) for key, status, rally_id in rows}

    def last_unfinished_run(self, pipeline: str) -> int | None:
        """The run ``--resume`` continues: the newest running/interrupted/crashed run with no
        succeeded or failed run after it. Dry runs are ignored on both sides (they sent nothing).
        """
        with self._lock:
            row = self._connection.execute(
                "SELECT MAX(id) FROM runs WHERE pipeline = ? AND NOT dry_run"
                " AND status IN (?, ?, ?) AND id > (SELECT COALESCE(MAX(id), 0) FROM runs"
                " WHERE pipeline = ? AND NOT dry_run AND status IN (?, ?))",
                (pipeline, *UNFINISHED_STATUSES, pipeline, *COMPLETE_STATUSES),
            ).fetchone()
        return None if row[0] is None else int(row[0])


# --------------------------------------------------------------------------------- helpers

_RUN_COLUMNS = "id, pipeline, started_at, finished_at, status, dry_run, summary, report_dir"


def _run_record(row: tuple[Any, ...], steps: list[dict[str, Any]]) -> RunRecord:
    run_id, pipeline, started_at, finished_at, status, dry_run, summary, report_dir = row
    duration = None
    if finished_at is not None:
        elapsed = datetime.fromisoformat(finished_at) - datetime.fromisoformat(started_at)
        duration = elapsed.total_seconds()
    return RunRecord(
        id=run_id,
        pipeline=pipeline,
        started_at=started_at,
        finished_at=finished_at,
        status=status,
        dry_run=bool(dry_run),
        summary=json.loads(summary),
        report_dir=report_dir,
        duration_s=duration,
        steps=steps,
    )


def _step_summary(text: str) -> dict[str, Any]:
    summary = json.loads(text)
    summary.pop("step", None)
    return dict(summary)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _to_json(summary: dict[str, Any]) -> str:
    # default=str: a summary may hold a Path or a Decimal; it is for people, not for parsing back.
    return json.dumps(summary, ensure_ascii=False, default=str)
