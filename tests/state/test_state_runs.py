"""Runs: lifecycle, step summaries, history order, crashed runs, and which run to resume."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmsync.state import StateDB

from .conftest import run_script


def test_run_lifecycle(db: StateDB) -> None:
    run_id = db.runs.start("nightly", dry_run=True)
    started = db.runs.get(run_id)
    assert started is not None
    assert (started.pipeline, started.status, started.dry_run) == ("nightly", "running", True)
    assert started.finished_at is None
    assert started.duration_s is None
    assert started.summary == {}
    assert started.steps == []

    db.runs.record_step(run_id, "companies", {"created": 3, "failed": 1})
    db.runs.record_step(run_id, "contacts", {"created": 10})
    db.runs.record_step(run_id, "companies", {"created": 4, "step": "ignored"})  # replaced in place
    db.runs.finish(
        run_id,
        status="failed",
        summary={"rows": 15, "failed": 1, "report": Path("out/report.csv")},
        report_dir="out",
    )
    done = db.runs.get(run_id)
    assert done is not None
    assert done.status == "failed"
    assert done.summary == {"rows": 15, "failed": 1, "report": "out/report.csv"}
    assert done.report_dir == "out"
    assert done.finished_at is not None
    assert done.duration_s is not None
    assert done.duration_s >= 0
    assert done.steps == [
        {"step": "companies", "created": 4},
        {"step": "contacts", "created": 10},
    ]


def test_unknown_run(db: StateDB) -> None:
    assert db.runs.get(12345) is None
    with pytest.raises(KeyError):
        db.runs.finish(12345, status="succeeded", summary={}, report_dir=None)


@pytest.mark.parametrize("status", ["running", "done", ""], ids=["running", "unknown", "empty"])
def test_finish_run_refuses_a_status_that_does_not_finish(db: StateDB, status: str) -> None:
    run_id = db.runs.start("p")
    with pytest.raises(ValueError, match="a run finishes as one of"):
        db.runs.finish(run_id, status=status, summary={}, report_dir=None)
    record = db.runs.get(run_id)
    assert record is not None
    assert record.status == "running"


def test_runs_newest_first_filtered_and_limited(db: StateDB) -> None:
    ids = [db.runs.start(name) for name in ["a", "b", "a", "a", "b"]]
    db.runs.record_step(ids[2], "only", {"n": 1})
    assert [r.id for r in db.runs.latest()] == ids[::-1]
    assert [r.id for r in db.runs.latest("a")] == [ids[3], ids[2], ids[0]]
    assert [r.id for r in db.runs.latest("a", limit=2)] == [ids[3], ids[2]]
    assert db.runs.latest("nobody") == []
    by_id = {r.id: r for r in db.runs.latest()}
    assert by_id[ids[2]].steps == [{"step": "only", "n": 1}]
    assert by_id[ids[3]].steps == []


START_AND_DIE = """
import sys
from crmsync.state import StateDB
db = StateDB.open(sys.argv[1])
print(db.runs.start("nightly"))
"""


def test_mark_crashed_turns_runs_of_dead_processes_only(db: StateDB, db_path: Path) -> None:
    result = run_script(START_AND_DIE, str(db_path))
    assert result.returncode == 0, result.stderr
    dead_run = int(result.stdout)
    mine = db.runs.start("nightly")
    other_pipeline = int(run_script(START_AND_DIE.replace("nightly", "other"), str(db_path)).stdout)

    assert db.runs.mark_crashed("nightly") == 1
    statuses = {r.id: r.status for r in db.runs.latest()}
    assert statuses == {dead_run: "crashed", mine: "running", other_pipeline: "running"}
    assert db.runs.mark_crashed("nightly") == 0


# Each case: the statuses of successive runs (a "dry:" prefix marks a dry run; "unstarted" a
# failed run that recorded no step: it stopped before sending), and the index of the run the
# next one resumes from (None: start afresh).
RESUME_CASES = [
    ([], None),
    (["succeeded"], None),
    (["crashed"], 0),
    (["interrupted", "crashed"], 0),  # the oldest: both may have left records
    (["crashed", "succeeded"], None),
    (["crashed", "failed"], None),
    (["crashed", "crashed", "unstarted"], 0),  # settled nothing: the crashes still count
    (["crashed", "unstarted", "succeeded"], None),
    (["succeeded", "interrupted"], 1),
    (["interrupted", "succeeded", "running"], 2),
    (["interrupted", "dry:succeeded"], 0),
    (["succeeded", "dry:interrupted"], None),
]


@pytest.mark.parametrize(
    ("statuses", "expected"), RESUME_CASES, ids=["/".join(c[0]) or "none" for c in RESUME_CASES]
)
def test_last_unfinished_run(db: StateDB, statuses: list[str], expected: int | None) -> None:
    ids = []
    for entry in statuses:
        dry, _, status = entry.rpartition(":")
        run_id = db.runs.start("p", dry_run=bool(dry))
        if status not in ("running", "unstarted"):
            db.runs.record_step(run_id, "step", {})
        if status != "running":
            final = "failed" if status == "unstarted" else status
            db.runs.finish(run_id, status=final, summary={}, report_dir=None)
        ids.append(run_id)
    other = db.runs.start("other-pipeline")
    db.runs.finish(other, status="crashed", summary={}, report_dir=None)
    assert db.runs.last_unfinished("p") == (None if expected is None else ids[expected])
