"""A damaged state database is a clear error naming the file and what to do, found when it is
opened (before anything is sent), and any SQLite failure later is a StateError too."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from crmsync.errors import EXIT_CANNOT_START, StateError
from crmsync.state import StateDB
from crmsync.state.connection import DAMAGED_ADVICE, FULL_ADVICE, state_failure

PAGE = 4096


def damage(path: Path, first_page: int = 2) -> None:
    """Overwrite the inside of every page from `first_page` on (after the schema's; negative:
    counted from the end) with garbage (a bad disk)."""
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    data = bytearray(path.read_bytes())
    noise = bytes(range(256)) * 4
    first = first_page if first_page >= 0 else len(data) // PAGE + first_page
    for start in range(first * PAGE, len(data), PAGE):
        data[start + 100 : start + 900] = noise[:800]
    path.write_bytes(bytes(data))


def filled(path: Path) -> Path:
    with StateDB.open(path) as db:
        for _ in range(60):
            db.runs.start("p")
    return path


def test_a_damaged_page_is_found_on_open_with_what_to_do(db_path: Path) -> None:
    damage(filled(db_path))
    with pytest.raises(StateError) as caught:
        StateDB.open(db_path)
    message = str(caught.value)
    assert str(db_path) in message and "malformed" in message
    assert DAMAGED_ADVICE in message and "\n" not in message
    assert caught.value.exit_code == EXIT_CANNOT_START


def test_a_check_left_for_later_says_the_same_when_the_run_asks(db_path: Path) -> None:
    """A run opens its state with the check on a thread of its own (read and transform go on
    meanwhile); the damage is the same StateError once it asks, before anything is sent."""
    with StateDB.open(db_path) as db:
        for _ in range(2_000):
            db.runs.start("p")
    damage(db_path, first_page=-8)  # the last pages (runs' rows): opening reads none
    db = StateDB.open(db_path, check_later=True)
    try:
        with pytest.raises(StateError) as caught:
            db.verify()
        assert str(db_path) in str(caught.value) and DAMAGED_ADVICE in str(caught.value)
        assert caught.value.exit_code == EXIT_CANNOT_START
        db.verify()  # asked once: the answer was given
    finally:
        db.close()


def test_a_sound_file_checked_later_opens_and_closes(db_path: Path) -> None:
    filled(db_path)
    with StateDB.open(db_path, check_later=True) as db:
        db.verify()
        assert db.runs.latest("p") is not None
    StateDB.open(db_path, check_later=True).close()  # closing waits for the check


def test_damage_found_later_is_a_state_error_too(db_path: Path) -> None:
    db = StateDB.open(filled(db_path))
    try:
        os.truncate(db_path, PAGE * 2)  # the file shrinks under the open connection
        with pytest.raises(StateError, match=str(db_path)):
            for _ in range(3):
                db.runs.mark_crashed("p")
                db.runs.latest("p")
    finally:
        db.close()


@pytest.mark.parametrize(
    ("error", "advice"),
    [
        (sqlite3.DatabaseError("database disk image is malformed"), DAMAGED_ADVICE),
        (sqlite3.DatabaseError("file is not a database"), DAMAGED_ADVICE),
        (sqlite3.OperationalError("database or disk is full"), FULL_ADVICE),
    ],
    ids=["malformed", "not-a-database", "full"],
)
def test_each_failure_says_what_to_do(error: sqlite3.Error, advice: str) -> None:
    failure = state_failure("/var/lib/crmsync/state.db", error)
    assert str(failure).endswith(advice)
    assert failure.file == "/var/lib/crmsync/state.db"
