"""StateDB: what crmsync remembers between runs, as one object per table, in one SQLite file
or in a schema of a PostgreSQL server (workers on several hosts sharing it).

    state.runs        runs and their step summaries            (state/runs.py)
    state.ids         source keys -> Rally ids                  (state/tables.py)
    state.hashes      what Rally last accepted, per record      (state/tables.py)
    state.watermarks  where incremental reads resume            (state/tables.py)
    state.records     records as Rally last showed them         (state/mirror.py)
    state.journal     every write, with what Rally held before  (state/journal.py)
    state.pages       what a run's page draws, per step         (state/pages.py)

A run reaches its step's slice through `StepState` (state/step_state.py).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path

from crmsync.closing import Closing
from crmsync.errors import ConfigError
from crmsync.state import schema
from crmsync.state.checked import forget_mark, still_checked, write_mark
from crmsync.state.connection import Connection, SqliteConnection, state_failure
from crmsync.state.journal import Journal
from crmsync.state.mirror import RallyRecords
from crmsync.state.pages import PageData
from crmsync.state.runs import Runs
from crmsync.state.tables import IdMap, RowHashes, Watermarks

# Wait this long for another process's write transaction before giving up ("database is locked").
BUSY_TIMEOUT_S = 30.0
WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024
WAL_CHECKPOINT_PAGES = 16_384  # 64 MiB of 4 KiB pages


class StateDB(Closing):
    """The state database of one pipeline file (several pipelines may share one)."""

    def __init__(self, connection: Connection, path: Path | None = None) -> None:
        """Use :meth:`open` or :meth:`connect`; this only wraps a migrated connection."""
        self._path = path
        self._shared = connection
        self._check: _DamageCheck | None = None
        # When the file last passed the damage check (this open's, or one it still stands
        # on): marked beside the file at close. None: not known sound (no mark written).
        self.checked_at: float | None = None
        self.runs = Runs(self._shared)
        self.ids = IdMap(self._shared)
        self.hashes = RowHashes(self._shared)
        self.watermarks = Watermarks(self._shared)
        self.records = RallyRecords(self._shared)
        self.journal = Journal(self._shared)
        self.pages = PageData(self._shared)

    def transaction(self) -> AbstractContextManager[object]:
        """Writes made inside commit together, once, at the end (all or nothing)."""
        return self._shared.write()

    @classmethod
    def open(
        cls,
        path: str | Path,
        *,
        migrations: Sequence[str] = schema.MIGRATIONS,
        check_later: bool = False,
    ) -> StateDB:
        """Open (creating the file and its folder if need be) and migrate to the last version
        `migrations` know (SCHEMA_VERSION; a test may pass a future release's list).

        Raises ConfigError when the folder cannot be created, the file is not a state database,
        or it was written by a newer crmsync: the run cannot start, and nothing was changed.
        Every page is checked for damage before this returns, or with `check_later` on a
        thread of its own while the caller goes on (reading its source), until `verify()`;
        not when the file is unchanged since crmsync closed it after a recent check
        (`crmsync.state.checked`).
        """
        path = Path(path)
        carried = still_checked(path)  # before this connection writes anything
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise state_failure(str(path), exc, doing="cannot open") from None
        except OSError as exc:
            raise ConfigError(f"cannot open state database {path}: {exc}", file=str(path)) from exc
        try:
            # Refuse a newer file before switching its journal mode or anything else.
            schema.refuse_newer(schema.read_version(connection), len(migrations), path=str(path))
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            # A million-row put makes a big WAL; let checkpoints shrink it back afterwards.
            connection.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT_BYTES}")
            # A load commits after every batch, and a batch of random keys touches a page of
            # each index per record: checkpointing every 1,000 pages (SQLite's default) copied
            # the same pages into the file again and again. Checkpoint once the WAL is that big.
            connection.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
            connection.execute("PRAGMA foreign_keys = ON")
            schema.migrate(connection, path=str(path), migrations=migrations)
            started = time.time()
            if carried is None and not check_later:
                _check_not_damaged(connection)
        except ConfigError as exc:
            connection.close()
            if exc.file is None:
                raise ConfigError(str(exc), file=str(path)) from exc
            raise
        except sqlite3.Error as exc:
            connection.close()
            forget_mark(path)
            raise state_failure(str(path), exc, doing="cannot open") from None
        db = cls(SqliteConnection(connection, str(path)), path)
        if carried is not None:
            db.checked_at = carried
        elif check_later:
            db._check = _DamageCheck(path)
        else:
            db.checked_at = started
        return db

    @classmethod
    def connect(
        cls, url: str, *, schema_name: str, migrations: Sequence[str] | None = None
    ) -> StateDB:
        """Open (creating it if need be) and migrate a schema on a PostgreSQL server.

        Raises StateError when the server cannot be reached or refuses, ConfigError when the
        schema holds other tables or was written by a newer crmsync.
        """
        from crmsync.state import postgres  # only a PostgreSQL state needs the driver
        from crmsync.state.pg_schema import PG_MIGRATIONS

        wanted = PG_MIGRATIONS if migrations is None else migrations
        return cls(postgres.open_schema(url, schema_name, migrations=wanted))

    @property
    def path(self) -> Path | None:
        """The database file (None on PostgreSQL)."""
        return self._path

    @property
    def where(self) -> str:
        """The file, or the server's URL without its password, for messages."""
        return self._shared.where

    def schema_version(self) -> int:
        """The schema version of the open database (SCHEMA_VERSION once opened)."""
        rows = self._shared.read("SELECT COALESCE(MAX(version), 0) FROM schema_version")
        return int(rows[0][0])

    def verify(self) -> None:
        """Wait for the damage check `open(check_later=True)` started; StateError (what to do
        included) when a page is damaged. Call before anything is sent."""
        check, self._check = self._check, None
        if check is None:
            return
        error = check.wait()
        if error is not None:
            raise state_failure(self.where, error, doing="cannot open")
        self.checked_at = check.started

    def close(self) -> None:
        """Close the connection; committed work is already on disk. A file known sound is
        marked so (`crmsync.state.checked`), once no write of this connection can follow."""
        check, self._check = self._check, None
        if check is not None and check.wait() is None:
            self.checked_at = check.started
        self._shared.close()
        if self._path is None:
            return
        if self.checked_at is None:
            forget_mark(self._path)
        else:
            write_mark(self._path, self.checked_at)


class _DamageCheck:
    """`_check_not_damaged` on a connection of its own: quick_check reads every page (0.8 s
    for a state of a million records), and a run reads its source meanwhile."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self.started = time.time()
        self._error: sqlite3.Error | None = None
        self._thread = threading.Thread(target=self._run, name="state-check", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            connection = sqlite3.connect(self._path, timeout=BUSY_TIMEOUT_S)
            try:
                _check_not_damaged(connection)
            finally:
                connection.close()
        except sqlite3.Error as exc:
            self._error = exc

    def wait(self) -> sqlite3.Error | None:
        self._thread.join()
        return self._error


def _check_not_damaged(connection: sqlite3.Connection) -> None:
    """A damaged page is found now, before anything is sent, not by a write in the middle of
    a load (quick_check reads every page but skips the slower index cross-checks)."""
    (result,) = connection.execute("PRAGMA quick_check(1)").fetchone()
    if result != "ok":
        found = " ".join(str(result).split())
        raise sqlite3.DatabaseError(f"database disk image is malformed ({found})")
