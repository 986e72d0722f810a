"""Fixtures for the state database and lock tests: a fresh StateDB, and a helper that runs a
short Python script in a separate process (locks and crash durability need real processes).

A test that takes `db` (and not the SQLite file's `db_path`) runs twice: on an SQLite file and
on a schema of a real PostgreSQL server, so both backends meet the same expectations."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from crmsync.state import StateDB

BACKENDS = ("sqlite", "postgres")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db" in metafunc.fixturenames and "db_path" not in metafunc.fixturenames:
        metafunc.parametrize("backend", BACKENDS)


@pytest.fixture
def backend() -> str:
    """SQLite, unless the test is parametrized over both backends."""
    return "sqlite"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / ".crmsync" / "state.db"


@pytest.fixture
def db(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[StateDB]:
    if backend == "postgres":
        url = request.getfixturevalue("postgres_url")
        with StateDB.connect(url, schema_name=request.getfixturevalue("pg_schema")) as state:
            yield state
        return
    with StateDB.open(tmp_path / ".crmsync" / "state.db") as state:
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
