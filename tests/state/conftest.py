"""Fixtures for the state database and lock tests: a fresh StateDB, and a helper that runs a
short Python script in a separate process (locks and crash durability need real processes)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from crmsync.state import StateDB


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / ".crmsync" / "state.db"


@pytest.fixture
def db(db_path: Path) -> Iterator[StateDB]:
    with StateDB.open(db_path) as state:
        yield state


def spawn(script: str, *args: str) -> subprocess.Popen[str]:
    """Start ``python -c script args...`` with pipes for stdin/stdout (text)."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_script(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a script to completion and return its result (not checked)."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
