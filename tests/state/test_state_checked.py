"""A state file that passed its damage check and that only crmsync wrote since is not read
page by page again at the next open; any other change to it (a bad disk, a copy, a run
killed mid-write, a week gone by) checks every page, as before."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from crmsync.errors import StateError
from crmsync.state import StateDB
from crmsync.state import db as state_db
from crmsync.state.checked import (
    RECHECK_AFTER_S,
    mark_path,
    read_mark,
    still_checked,
    write_mark,
)

from .test_state_damage import damage, filled


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files whose every page was checked, in turn (on open or on the check's thread)."""
    seen: list[Path] = []
    real: Callable[[sqlite3.Connection], None] = state_db._check_not_damaged

    def counted(connection: sqlite3.Connection) -> None:
        (_, _, file) = connection.execute("PRAGMA database_list").fetchone()
        seen.append(Path(file))
        real(connection)

    monkeypatch.setattr(state_db, "_check_not_damaged", counted)
    return seen


@pytest.mark.parametrize("later", [False, True], ids=["on-open", "checked-later"])
def test_a_file_closed_after_its_check_is_not_checked_again(
    db_path: Path, checks: list[Path], later: bool
) -> None:
    filled(db_path)
    assert checks == [db_path] and read_mark(db_path) is not None
    for _ in range(3):  # runs that write, one after another
        with StateDB.open(db_path, check_later=later) as db:
            db.verify()
            db.runs.start("p")
    assert checks == [db_path]
    mark = read_mark(db_path)
    assert mark is not None and still_checked(db_path) == mark.checked_at


def test_damage_right_after_a_close_is_still_found(db_path: Path) -> None:
    """File times are coarse: the close sets the file's time back a second before it marks
    it, so even a write within the same tick stamps a time the mark does not hold."""
    filled(db_path)
    damage(db_path)  # at once, no sleep
    assert still_checked(db_path) is None
    with pytest.raises(StateError, match="malformed"):
        StateDB.open(db_path)
    assert not mark_path(db_path).exists()


def test_damage_found_by_a_later_check_leaves_no_mark(db_path: Path) -> None:
    with StateDB.open(db_path) as db:
        for _ in range(2_000):
            db.runs.start("p")
    damage(db_path, first_page=-8)
    db = StateDB.open(db_path, check_later=True)
    with pytest.raises(StateError):
        db.verify()
    db.close()
    assert not mark_path(db_path).exists()
    with pytest.raises(StateError):  # and the next open checks again
        StateDB.open(db_path)


def test_a_connection_left_open_elsewhere_means_a_check(db_path: Path, checks: list[Path]) -> None:
    """A process killed mid-write leaves its write-ahead log beside the file: the next open
    cannot know what it did, and checks."""
    filled(db_path)
    other = sqlite3.connect(db_path)
    try:
        other.execute(
            "INSERT INTO runs (pipeline, started_at, status) VALUES ('x', 'now', 'running')"
        )
        other.commit()
        assert os.path.getsize(f"{db_path}-wal") > 0
        StateDB.open(db_path).close()
    finally:
        other.close()
    assert checks == [db_path, db_path]


def test_a_file_changed_or_replaced_since_its_mark_is_checked(
    db_path: Path, checks: list[Path]
) -> None:
    filled(db_path)
    copy = db_path.with_name("copy.db")
    copy.write_bytes(db_path.read_bytes())
    os.replace(copy, db_path)  # restored from a backup: the same bytes, another file
    StateDB.open(db_path).close()
    assert checks == [db_path, db_path]


def test_a_week_old_check_is_made_again(db_path: Path) -> None:
    filled(db_path)
    mark = read_mark(db_path)
    assert mark is not None
    checked_at = mark.checked_at
    assert still_checked(db_path, now=checked_at + RECHECK_AFTER_S - 1) == checked_at
    assert still_checked(db_path, now=checked_at + RECHECK_AFTER_S) is None
    assert still_checked(db_path, now=checked_at - 60) is None  # a clock set back: check


def test_an_unreadable_mark_means_a_check(db_path: Path, checks: list[Path]) -> None:
    filled(db_path)
    mark_path(db_path).write_text("{not json", encoding="utf-8")
    StateDB.open(db_path).close()
    assert checks == [db_path, db_path]
    assert read_mark(db_path) is not None  # marked again at that close


def test_the_mark_never_sets_the_file_time_forward(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"x")
    old = time.time_ns() - 3600 * 1_000_000_000
    os.utime(path, ns=(old, old))
    write_mark(path, checked_at=time.time())
    assert os.stat(path).st_mtime_ns == old
    assert still_checked(path) is not None
