"""PipelineLock: one run per pipeline; a dead run's lock is taken over, a live one's refused."""

from __future__ import annotations

import json
import os
import signal
import socket
from pathlib import Path

import pytest

from crmsync.errors import EXIT_LOCKED, LockedError
from crmsync.state.lock import PipelineLock

from .conftest import run_script, spawn

HOLD = """
import sys
from crmsync.state.lock import PipelineLock
lock = PipelineLock(sys.argv[1], pipeline="nightly").acquire()
print("held", flush=True)
sys.stdin.read()  # hold until the test closes stdin (or kills us)
lock.release()
"""

TRY = """
import sys
from crmsync.errors import LockedError
from crmsync.state.lock import PipelineLock
try:
    with PipelineLock(sys.argv[1], pipeline="nightly") as lock:
        print("acquired", lock.took_over_from, flush=True)
        if len(sys.argv) > 2:
            import time; time.sleep(float(sys.argv[2]))
except LockedError as exc:
    print("locked", exc.exit_code, exc, flush=True)
"""


# A racer for the lock: the winner holds it until every other racer has tried (each loser
# leaves a file in the `done` folder), so no racer can come late and find it free.
RACE = """
import os, pathlib, sys, time
from crmsync.errors import LockedError
from crmsync.state.lock import PipelineLock
done, others = pathlib.Path(sys.argv[2]), int(sys.argv[3]) - 1
try:
    with PipelineLock(sys.argv[1], pipeline="nightly") as lock:
        print("acquired", lock.took_over_from, flush=True)
        deadline = time.monotonic() + 60
        while len(list(done.iterdir())) < others and time.monotonic() < deadline:
            time.sleep(0.02)
except LockedError as exc:
    print("locked", exc.exit_code, exc, flush=True)
    (done / str(os.getpid())).touch()
"""


@pytest.fixture
def lock_path(tmp_path: Path) -> Path:
    return tmp_path / ".crmsync" / "nightly.lock"


def _dead_pid() -> int:
    result = run_script("import os; print(os.getpid())")
    return int(result.stdout)


def test_acquire_writes_who_holds_it_and_release_removes_it(lock_path: Path) -> None:
    with PipelineLock(lock_path, pipeline="nightly") as lock:
        assert lock.held
        assert lock.took_over_from is None
        info = json.loads(lock_path.read_text())
        assert info["pid"] == os.getpid()
        assert info["host"] == socket.gethostname()
        assert info["pipeline"] == "nightly"
        assert info["started_at"]
    assert not lock.held
    assert not lock_path.exists()
    lock.release()  # idempotent


def test_release_on_error_inside_the_block(lock_path: Path) -> None:
    with pytest.raises(RuntimeError, match="boom"), PipelineLock(lock_path, pipeline="p"):
        raise RuntimeError("boom")
    assert not lock_path.exists()


def test_another_process_is_refused_at_once(lock_path: Path) -> None:
    with PipelineLock(lock_path, pipeline="nightly"):
        result = run_script(TRY, str(lock_path))
    words = result.stdout.split()
    assert words[:2] == ["locked", str(EXIT_LOCKED)], result.stderr
    assert f"pipeline 'nightly' is already running (pid {os.getpid()} since" in result.stdout


def test_refused_while_another_process_holds_it_then_free(lock_path: Path) -> None:
    holder = spawn(HOLD, str(lock_path))
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LockedError, match=f"already running \\(pid {holder.pid} since"):
            PipelineLock(lock_path, pipeline="nightly").acquire()
        assert lock_path.exists()  # the refusal did not disturb the holder's file
    finally:
        holder.communicate("", timeout=30)  # closing stdin lets it release
    with PipelineLock(lock_path, pipeline="nightly") as lock:
        assert lock.took_over_from is None


def test_same_process_second_lock_is_refused(lock_path: Path) -> None:
    with PipelineLock(lock_path, pipeline="p"):
        with pytest.raises(LockedError):
            PipelineLock(lock_path, pipeline="p").acquire()
        assert lock_path.exists()


def test_stale_lock_file_of_a_dead_pid_is_taken_over(lock_path: Path) -> None:
    dead = _dead_pid()
    lock_path.parent.mkdir(parents=True)
    info = {"pid": dead, "host": socket.gethostname(), "started_at": "x", "pipeline": "nightly"}
    lock_path.write_text(json.dumps(info))
    with PipelineLock(lock_path, pipeline="nightly") as lock:
        assert lock.took_over_from == dead
        assert json.loads(lock_path.read_text())["pid"] == os.getpid()
    assert not lock_path.exists()


def test_garbage_lock_file_without_a_holder_is_taken_over(lock_path: Path) -> None:
    lock_path.parent.mkdir(parents=True)
    lock_path.write_bytes(b"\xff not json")
    with PipelineLock(lock_path, pipeline="nightly") as lock:
        assert lock.took_over_from is None
        assert json.loads(lock_path.read_text())["pid"] == os.getpid()


def test_sigkilled_holder_is_taken_over(lock_path: Path) -> None:
    holder = spawn(HOLD, str(lock_path))
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    holder.send_signal(signal.SIGKILL)
    holder.communicate(timeout=30)
    assert lock_path.exists()  # a killed process cannot clean up
    with PipelineLock(lock_path, pipeline="nightly") as lock:
        assert lock.took_over_from == holder.pid


ORPHAN = """
import os, sys, time
from crmsync.state.lock import PipelineLock
lock = PipelineLock(sys.argv[1], pipeline="nightly").acquire()
child = os.fork()
if child == 0:
    time.sleep(60)  # inherits the descriptor, so the flock outlives the parent
    os._exit(0)
print(child, flush=True)
os._exit(0)
"""


def test_lock_held_only_by_an_orphaned_child_of_a_dead_pid_is_taken_over(lock_path: Path) -> None:
    parent = spawn(ORPHAN, str(lock_path))
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    parent.wait(timeout=30)  # not communicate(): the child keeps the pipes open
    try:
        dead = json.loads(lock_path.read_text())["pid"]
        with PipelineLock(lock_path, pipeline="nightly") as lock:
            assert lock.took_over_from == dead
            assert json.loads(lock_path.read_text())["pid"] == os.getpid()
        assert not lock_path.exists()
    finally:
        os.kill(child, signal.SIGKILL)
        for pipe in (parent.stdin, parent.stdout, parent.stderr):
            if pipe is not None:
                pipe.close()


@pytest.mark.slow  # processes racing for the lock
def test_concurrent_takeover_of_a_stale_lock_has_one_winner(lock_path: Path) -> None:
    lock_path.parent.mkdir(parents=True)
    lock_path.write_text(json.dumps({"pid": _dead_pid(), "host": socket.gethostname()}))
    done = lock_path.parent / "done"
    done.mkdir()
    racers = [spawn(RACE, str(lock_path), str(done), "4") for _ in range(4)]
    outputs = [racer.communicate(timeout=60)[0] for racer in racers]
    acquired = [out for out in outputs if out.startswith("acquired")]
    assert len(acquired) == 1, outputs
    assert sum(out.startswith("locked") for out in outputs) == 3, outputs
