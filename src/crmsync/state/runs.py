"""The `runs` and `run_steps` tables: every run of a pipeline, how it ended, its step summaries.

A run is `running` while its process lives; it ends `succeeded`, `partial` (it finished, some
rows failed), `failed` (it could not start, or no row got through), `interrupted` (Ctrl-C,
SIGTERM) or `crashed` (found `running` by a later run holding the lock). A run that did not
complete is resumed by the next: `last_unfinished` says which.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crmsync.state.connection import Connection, now

RUNNING = "running"
SUCCEEDED = "succeeded"
PARTIAL = "partial"
FAILED = "failed"
INTERRUPTED = "interrupted"
CRASHED = "crashed"
FINISHED_STATUSES = frozenset({SUCCEEDED, PARTIAL, FAILED, INTERRUPTED, CRASHED})
# A run with one of these statuses completed: nothing of it is left to resume.
COMPLETE_STATUSES = (SUCCEEDED, PARTIAL, FAILED)
UNFINISHED_STATUSES = (RUNNING, INTERRUPTED, CRASHED)
_COLUMNS = "id, pipeline, started_at, finished_at, status, dry_run, summary, report_dir, broken"


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
    broken: list[dict[str, Any]] | None = None  # the expectations it broke (expect:), if any


class Runs:
    """Run history of every pipeline sharing the file."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def start(self, pipeline: str, *, dry_run: bool = False) -> int:
        """Record a new run as running, owned by this process; returns its id."""
        with self._db.write() as db:
            (run_id,) = db.execute(
                "INSERT INTO runs (pipeline, started_at, status, dry_run, pid, host)"
                " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (pipeline, now(), RUNNING, int(dry_run), os.getpid(), socket.gethostname()),
            ).fetchone()
        return int(run_id)

    def finish(
        self,
        run_id: int,
        *,
        status: str,
        summary: dict[str, Any],
        report_dir: str | None,
        broken: list[dict[str, Any]] | None = None,
    ) -> None:
        """Close a run with how it ended, and the expectations it broke."""
        if status not in FINISHED_STATUSES:
            raise ValueError(f"a run finishes as one of {sorted(FINISHED_STATUSES)}")
        with self._db.write() as db:
            cursor = db.execute(
                "UPDATE runs SET finished_at = ?, status = ?, summary = ?, report_dir = ?,"
                " broken = ? WHERE id = ?",
                (
                    now(),
                    status,
                    _to_json(summary),
                    report_dir,
                    None if broken is None else json.dumps(broken, ensure_ascii=False),
                    run_id,
                ),
            )
            if cursor.rowcount == 0:
                raise KeyError(f"no run {run_id}")

    def record_step(self, run_id: int, step: str, summary: dict[str, Any]) -> None:
        """Store one step's summary; recording the same step again replaces it in place."""
        with self._db.write() as db:
            db.execute(
                "INSERT INTO run_steps (run_id, step, seq, summary, recorded_at)"
                " VALUES (?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM run_steps"
                " WHERE run_id = ?), ?, ?)"
                " ON CONFLICT (run_id, step) DO UPDATE"
                " SET summary = excluded.summary, recorded_at = excluded.recorded_at",
                (run_id, step, run_id, _to_json(summary), now()),
            )

    def latest(self, pipeline: str | None = None, *, limit: int = 50) -> list[RunRecord]:
        """The latest ``limit`` runs (of one pipeline, or all), newest first."""
        query = f"SELECT {_COLUMNS} FROM runs"
        params: tuple[Any, ...] = ()
        if pipeline is not None:
            query += " WHERE pipeline = ?"
            params = (pipeline,)
        with self._db.lock:
            rows = self._db.read(f"{query} ORDER BY id DESC LIMIT ?", (*params, limit))
            steps = self._steps([row[0] for row in rows])
        return [_record(row, steps.get(row[0], [])) for row in rows]

    def get(self, run_id: int) -> RunRecord | None:
        """One run, or None if there is no such id."""
        with self._db.lock:
            rows = self._db.read(f"SELECT {_COLUMNS} FROM runs WHERE id = ?", (run_id,))
            if not rows:
                return None
            return _record(rows[0], self._steps([run_id]).get(run_id, []))

    def _steps(self, run_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        found: dict[int, list[dict[str, Any]]] = {}
        rows = self._db.read(
            "SELECT run_id, step, summary FROM run_steps"
            " WHERE run_id IN (SELECT CAST(value AS INTEGER) FROM json_each(?))"
            " ORDER BY run_id, seq",
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
        with self._db.write() as db:
            cursor = db.execute(
                "UPDATE runs SET status = ? WHERE pipeline = ? AND status = ?"
                " AND NOT (pid IS ? AND host IS ?)",
                (CRASHED, pipeline, RUNNING, os.getpid(), socket.gethostname()),
            )
            return cursor.rowcount

    def last_unfinished(self, pipeline: str) -> int | None:
        """The run the next one resumes from: the oldest running/interrupted/crashed run with
        no complete run after it. Dry runs are ignored on both sides (they sent nothing), and so
        is a failed run that recorded no step: it stopped before sending (a destination that
        did not answer), so it settled nothing the unfinished runs before it left. The oldest:
        two nights killed in a row both left records to find.
        """
        unfinished = ", ".join("?" * len(UNFINISHED_STATUSES))
        complete = ", ".join("?" * len(COMPLETE_STATUSES))
        rows = self._db.read(
            "SELECT MIN(id) FROM runs WHERE pipeline = ? AND dry_run = 0"
            f" AND status IN ({unfinished}) AND id > (SELECT COALESCE(MAX(id), 0) FROM runs r"
            f" WHERE pipeline = ? AND dry_run = 0 AND status IN ({complete})"
            " AND (status != ? OR EXISTS (SELECT 1 FROM run_steps s WHERE s.run_id = r.id)))",
            (pipeline, *UNFINISHED_STATUSES, pipeline, *COMPLETE_STATUSES, FAILED),
        )
        return None if rows[0][0] is None else int(rows[0][0])


def _record(row: tuple[Any, ...], steps: list[dict[str, Any]]) -> RunRecord:
    run_id, pipeline, started_at, finished_at, status, dry_run, summary, report_dir, broken = row
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
        broken=None if broken is None else json.loads(broken),
    )


def _step_summary(text: str) -> dict[str, Any]:
    summary = json.loads(text)
    summary.pop("step", None)
    return dict(summary)


def _to_json(summary: dict[str, Any]) -> str:
    # default=str: a summary may hold a Path or a Decimal; it is for people, not for parsing back.
    return json.dumps(summary, ensure_ascii=False, default=str)
