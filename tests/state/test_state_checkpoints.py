"""Checkpoints: durable as soon as checkpoint() returns, even if the process is SIGKILLed."""

from __future__ import annotations

import signal
from pathlib import Path

from crmsync.state import StateDB

from .conftest import run_script


def test_checkpoints_accumulate_per_run_and_step(db: StateDB) -> None:
    run_id = db.start_run("p")
    db.checkpoint(run_id, "contacts", [("r1", "created", "c-1"), ("r2", "failed", None)])
    db.checkpoint(run_id, "contacts", iter([("r3", "updated", "c-3")]))
    db.checkpoint(run_id, "companies", [("r1", "created", "co-1")])
    db.checkpoint(run_id, "contacts", [("r2", "created", "c-2")])  # reconciled later: latest wins
    assert db.checkpointed(run_id, "contacts") == {
        "r1": ("created", "c-1"),
        "r2": ("created", "c-2"),
        "r3": ("updated", "c-3"),
    }
    assert db.checkpointed(run_id, "companies") == {"r1": ("created", "co-1")}
    assert db.checkpointed(run_id, "activities") == {}


def test_a_complete_run_drops_its_checkpoints_and_older_ones(db: StateDB) -> None:
    crashed = db.start_run("p")
    db.checkpoint(crashed, "s", [("r1", "created", "1")])
    db.finish_run(crashed, status="crashed", summary={}, report_dir=None)
    interrupted = db.start_run("p")
    db.checkpoint(interrupted, "s", [("r2", "created", "2")])
    db.finish_run(interrupted, status="interrupted", summary={}, report_dir=None)
    other = db.start_run("other")
    db.checkpoint(other, "s", [("r9", "created", "9")])
    assert db.checkpointed(interrupted, "s") == {"r2": ("created", "2")}  # kept for --resume

    resumed = db.start_run("p")
    db.checkpoint(resumed, "s", [("r3", "created", "3")])
    db.finish_run(resumed, status="succeeded", summary={}, report_dir=None)
    for run_id in (crashed, interrupted, resumed):
        assert db.checkpointed(run_id, "s") == {}
    assert db.checkpointed(other, "s") == {"r9": ("created", "9")}


KILLED_AFTER_CHECKPOINT = """
import os, signal, sys
from crmsync.state import StateDB
db = StateDB.open(sys.argv[1])
run_id = db.start_run("nightly")
for batch in range(3):
    rows = [batch * 100 + i for i in range(100)]
    db.checkpoint(run_id, "contacts", [(f"row{n}", "created", f"id{n}") for n in rows])
print(run_id, flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # no close, no atexit: the process just dies
"""


def test_checkpoints_survive_sigkill_right_after_they_return(db_path: Path) -> None:
    StateDB.open(db_path).close()
    result = run_script(KILLED_AFTER_CHECKPOINT, str(db_path))
    assert result.returncode == -signal.SIGKILL, result.stderr
    run_id = int(result.stdout)
    with StateDB.open(db_path) as db:
        assert db.mark_crashed("nightly") == 1
        assert db.last_unfinished_run("nightly") == run_id
        done = db.checkpointed(run_id, "contacts")
    assert done == {f"row{i}": ("created", f"id{i}") for i in range(300)}
