"""Where a pipeline's state lives, and its lock: an SQLite file (the default) or a schema on a
PostgreSQL server that workers on many hosts share.

The lock follows the state: beside an SQLite file it is a lock file (state/lock.py), which only
processes on one host can see; on PostgreSQL it is an advisory lock (state/pg_lock.py), which
every worker using that database sees.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from crmsync.state.db import StateDB
from crmsync.state.lock import PipelineLock

if TYPE_CHECKING:
    from crmsync.state.pg_lock import AdvisoryLock

SCHEMES = ("postgresql://", "postgres://")
DEFAULT_SCHEMA = "crmsync"
SCHEMA_PATTERN = r"^[a-z_][a-z0-9_]{0,62}$"  # a plain lower-case SQL name: never quoted wrong
UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]")
NAME_DIGEST_CHARS = 8


@dataclass(frozen=True)
class StateLocation:
    """An SQLite file (`path`) or a PostgreSQL URL and schema (`url`, `schema`)."""

    path: Path | None = None
    url: str | None = field(default=None, repr=False)  # may hold a password: never shown
    schema: str = DEFAULT_SCHEMA

    def __post_init__(self) -> None:
        if (self.path is None) == (self.url is None):
            raise ValueError("a state location is a file or a URL, exactly one of them")

    def __str__(self) -> str:
        """For messages: the file, or the server without its password, and the schema."""
        if self.url is None:
            return str(self.path)
        return f"{redact_url(self.url)} (schema {self.schema})"

    def exists(self) -> bool:
        """Whether a run ever wrote it (history commands need not create it)."""
        if self.url is None:
            return self.path is not None and self.path.exists()
        from crmsync.state.postgres import schema_exists

        return schema_exists(self.url, self.schema)

    def open(self, *, check_later: bool = False) -> StateDB:
        """Open and migrate the state database, creating it if need be (`check_later`: see
        StateDB.open; a server's database checks its own pages)."""
        if self.url is None:
            assert self.path is not None
            return StateDB.open(self.path, check_later=check_later)
        return StateDB.connect(self.url, schema_name=self.schema)

    def lock(self, pipeline: str) -> PipelineLock | AdvisoryLock:
        """The lock one run of `pipeline` holds (not yet taken)."""
        if self.url is None:
            assert self.path is not None
            return PipelineLock(lock_file(self.path, pipeline), pipeline=pipeline)
        from crmsync.state.pg_lock import AdvisoryLock

        return AdvisoryLock(self.url, schema=self.schema, pipeline=pipeline)


def lock_file(state_path: Path, pipeline: str) -> Path:
    """A pipeline's lock file, beside its SQLite state database.

    One lock per (state database, pipeline name): exactly what the state database calls one
    pipeline, so pipeline files sharing a folder (and so a state database) don't block each other.
    """
    name = UNSAFE_FILE_CHARS.sub("_", pipeline)
    if name != pipeline:  # two names that differ only in unsafe characters stay apart
        name += "-" + hashlib.sha256(pipeline.encode()).hexdigest()[:NAME_DIGEST_CHARS]
    return state_path.with_name(f"{state_path.name}.{name}.lock")


def is_url(location: str) -> bool:
    """Whether a state location names a PostgreSQL server rather than an SQLite file."""
    return location.startswith(SCHEMES)


def redact_url(url: str) -> str:
    """The URL as it may be shown: no password, no query (it may carry one)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "postgresql://(unreadable URL)"
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit((parts.scheme, f"{user}{host}{port}", parts.path, "", ""))


def url_password(url: str) -> str | None:
    """The password a URL holds, if any (to redact it wherever it could appear)."""
    try:
        return urlsplit(url).password or None
    except ValueError:
        return None
