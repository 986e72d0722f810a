"""What a run's page draws is kept per run and step, and read back as it was stored."""

from __future__ import annotations

from pathlib import Path

from crmsync.api.timeline import LoadSecond
from crmsync.state import StateDB


def test_a_steps_load_and_digest_read_back_as_stored(tmp_path: Path) -> None:
    seconds = [
        LoadSecond(second=0, requests=3, records=200, in_flight=2, limit=4, p50_ms=51.0,
                   p95_ms=80.5, p99_ms=80.5, max_ms=80.5),
        LoadSecond(second=2, requests=1, rate_limited=1, retries=1, limit=2, pace_rps=9.5),
    ]  # fmt: skip
    digest = {"failures": [{"field": "email", "count": 2, "rows": []}], "columns": ["E-mail"]}
    with StateDB.open(tmp_path / "state.db") as db:
        run_id = db.runs.start("p")
        db.pages.record(run_id, "contacts", seconds, digest)
        db.pages.record(run_id, "contacts", seconds[:1], digest)  # again: replaced
        db.pages.record(run_id, "notes", seconds, {})
    with StateDB.open(tmp_path / "state.db") as db:
        assert db.pages.seconds(run_id, "contacts") == seconds[:1]
        assert db.pages.seconds(run_id, "notes") == seconds
        assert db.pages.digest(run_id, "contacts") == digest
        assert db.pages.digest(run_id, "other") is None
        assert db.pages.seconds(run_id + 1, "contacts") == []
