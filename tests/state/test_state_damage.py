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


def damage(path: Path) -> None:
    """Overwrite the inside of every page after the schema's with garbage (a bad disk)."""
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    data = bytearray(path.read_bytes())
    noise = bytes(range(256)) * 4
    for start in range(2 * PAGE, len(data), PAGE):
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
