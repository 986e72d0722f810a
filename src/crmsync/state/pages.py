"""The `load_seconds` and `step_digests` tables: what a run's page draws, per step, so
`crmsync report --html` draws it again from the state database alone (the report folder's
CSVs are overwritten by the next run)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from crmsync.api.timeline import LoadSecond
from crmsync.state.connection import Connection

_SECOND_COLUMNS = (
    "second, requests, rate_limited, failed, retries, records, in_flight, cap, pace_rps,"
    " p50_ms, p95_ms, p99_ms, max_ms"
)


class PageData:
    """Per run and step: the load second by second, and the step's digest (a JSON object)."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def record(
        self, run_id: int, step: str, seconds: list[LoadSecond], digest: dict[str, Any]
    ) -> None:
        """Store one step's figures; recording the same step again replaces them."""
        rows = [
            (
                run_id,
                step,
                s.second,
                s.requests,
                s.rate_limited,
                s.failed,
                s.retries,
                s.records,
                s.in_flight,
                s.limit,
                s.pace_rps,
                s.p50_ms,
                s.p95_ms,
                s.p99_ms,
                s.max_ms,
            )
            for s in seconds
        ]
        marks = ", ".join("?" * 15)
        with self._db.write() as db:
            db.execute("DELETE FROM load_seconds WHERE run_id = ? AND step = ?", (run_id, step))
            db.executemany(
                f"INSERT INTO load_seconds (run_id, step, {_SECOND_COLUMNS}) VALUES ({marks})",
                rows,
            )
            db.execute(
                "INSERT INTO step_digests (run_id, step, digest) VALUES (?, ?, ?)"
                " ON CONFLICT (run_id, step) DO UPDATE SET digest = excluded.digest",
                (run_id, step, json.dumps(digest, ensure_ascii=False, default=str)),
            )

    def seconds(self, run_id: int, step: str) -> list[LoadSecond]:
        """The step's load, second by second (none for a step that sent nothing)."""
        rows = self._db.read(
            f"SELECT {_SECOND_COLUMNS} FROM load_seconds WHERE run_id = ? AND step = ?"
            " ORDER BY second",
            (run_id, step),
        )
        names = [f.name for f in dataclasses.fields(LoadSecond)]
        return [LoadSecond(**dict(zip(names, row, strict=True))) for row in rows]

    def digest(self, run_id: int, step: str) -> dict[str, Any] | None:
        """The step's digest, or None (a run from before this table, or a step that never
        ended)."""
        rows = self._db.read(
            "SELECT digest FROM step_digests WHERE run_id = ? AND step = ?", (run_id, step)
        )
        return dict(json.loads(rows[0][0])) if rows else None
