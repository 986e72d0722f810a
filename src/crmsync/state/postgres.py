"""The state database on a PostgreSQL server, shared by workers on many hosts (psycopg 3).

The tables' statements are written once in SQLite's spelling; :func:`translate` turns them into
PostgreSQL's (``?`` -> ``%s``, ``json_each(?)`` -> ``json_array_elements_text``, ``IS ?`` ->
``IS NOT DISTINCT FROM``), so each table has one definition of its SQL. Everything lives in one
schema of the database (``crmsync`` unless the pipeline file names another), created on first
use, so crmsync never mixes its tables with an application's.

The password is never part of a message: URLs are shown by :func:`redact_url`, and driver
errors (which may quote the connection string) are reduced to their first line with the
password taken out. libpq's own variables (PGPASSWORD, PGSSLMODE, ~/.pgpass) apply.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql

from crmsync.errors import ConfigError, StateError
from crmsync.state.connection import Connection, Cursor, Session
from crmsync.state.location import SCHEMA_PATTERN, redact_url
from crmsync.state.pg_copy import copy_rows
from crmsync.state.pg_schema import PG_MIGRATIONS

SCHEMA_NAME = re.compile(SCHEMA_PATTERN)
CONNECT_TIMEOUT_S = 10
# A worker whose host vanishes (no FIN) holds its lock until the server notices: ask the
# server to probe idle connections after this long, so a dead host's lock frees in about a minute.
KEEPALIVE_IDLE_S = 30
_IN_JSON_LIST = re.compile(r"IN \(SELECT (.+?) FROM json_each\(\?\)\)")
MIGRATION_LOCK = 0x63726D73  # "crms": serializes migrations of one database


@functools.lru_cache(maxsize=256)
def translate(query: str) -> bytes:
    """A table's SQLite statement in PostgreSQL's spelling (bytes: psycopg takes a query built
    at run time that way)."""
    query = query.replace("%", "%%")
    # `x IN (SELECT value FROM json_each(?))` as an array the index is searched with: the
    # subquery form makes the planner loop over both sides when a table has no statistics yet
    # (10,000 keys against 30,000 rows: 9.2 s, and 0.06 s as an array).
    query = _IN_JSON_LIST.sub(r"= ANY(ARRAY(SELECT \1 FROM json_each(?)))", query)
    query = query.replace("json_each(?)", "json_array_elements_text(CAST(? AS json))")
    query = query.replace(" IS ?", " IS NOT DISTINCT FROM ?")
    return query.replace("?", "%s").encode()


class PgSession:
    """The tables' statements on a psycopg connection, translated."""

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self._raw = raw

    def execute(self, query: str, params: Sequence[Any] = ()) -> Cursor:
        return self._raw.execute(translate(query), tuple(params))

    def executemany(self, query: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows and not copy_rows(self._raw, query, rows):
            with self._raw.cursor() as cursor:
                cursor.executemany(translate(query), rows)


class PgConnection(Connection):
    """A state schema on a PostgreSQL server (autocommit: this class owns transactions)."""

    def __init__(self, raw: psycopg.Connection[Any], where: str) -> None:
        super().__init__(where)
        self.raw = raw
        self._session = PgSession(raw)

    def session(self) -> Session:
        return self._session

    def _begin(self) -> None:
        self.raw.execute("BEGIN")

    def _commit(self) -> None:
        self.raw.execute("COMMIT")

    def _rollback(self) -> None:
        # A connection that is gone was rolled back by the server already.
        with contextlib.suppress(psycopg.Error):
            self.raw.execute("ROLLBACK")

    def hold_writers(self, table: str) -> None:
        # SHARE: other writers wait for this transaction; readers do not
        self.raw.execute(sql.SQL("LOCK TABLE {} IN SHARE MODE").format(sql.Identifier(table)))

    @contextmanager
    def failures(self) -> Iterator[None]:
        try:
            yield
        except psycopg.Error as exc:
            raise pg_failure(self.where, exc) from None

    def close(self) -> None:
        with self.lock:
            self.raw.close()


def pg_failure(where: str, exc: BaseException, *, doing: str = "") -> StateError:
    """The StateError for a PostgreSQL failure, its message stripped of any password."""
    lead = f"{doing} state database" if doing else "state database"
    return StateError(f"{lead}: {driver_message(exc)}", file=where)


def driver_message(exc: BaseException) -> str:
    """The first line of a driver error, with anything like a password removed."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return re.sub(r"(password\s*=\s*)\S+|(://[^:/@\s]*:)[^@\s]*@", _mask, text, flags=re.I)


def _mask(match: re.Match[str]) -> str:
    if match.group(1):
        return f"{match.group(1)}***"
    return f"{match.group(2)}***@"


def connect(url: str, *, application_name: str = "crmsync") -> psycopg.Connection[Any]:
    """An autocommit connection, or ConfigError saying why not (never with the password)."""
    try:
        return psycopg.connect(
            url,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT_S,
            application_name=application_name,
            keepalives=1,
            keepalives_idle=KEEPALIVE_IDLE_S,
        )
    except psycopg.Error as exc:
        raise pg_failure(redact_url(url), exc, doing="cannot open") from None
    except ValueError as exc:  # a URL libpq cannot parse: its text may quote the URL
        raise ConfigError(f"state.url: not a usable PostgreSQL URL ({redact_url(url)})") from exc


def open_schema(
    url: str, schema: str, *, migrations: Sequence[str] = PG_MIGRATIONS
) -> PgConnection:
    """Connect, create the schema if need be, and migrate it to ``len(migrations)``."""
    where = f"{redact_url(url)} (schema {schema})"
    if not SCHEMA_NAME.match(schema):
        raise ConfigError(f"state.schema: {schema!r} is not a plain lower-case SQL name")
    raw = connect(url)
    try:
        raw.execute(
            "SELECT set_config('search_path', %s, false),"
            " set_config('tcp_keepalives_idle', %s, false)",
            (schema, str(KEEPALIVE_IDLE_S)),
        )
        migrate(raw, schema, where=where, migrations=migrations)
        analyze(raw, schema)
    except psycopg.Error as exc:
        raw.close()
        raise pg_failure(where, exc, doing="cannot open") from None
    except BaseException:
        raw.close()
        raise
    return PgConnection(raw, where)


def tables_of(raw: psycopg.Connection[Any], schema: str) -> list[str]:
    """The tables the schema holds (none when it does not exist)."""
    rows = raw.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,))
    return [str(name) for (name,) in rows.fetchall()]


def read_version(raw: psycopg.Connection[Any], schema: str, *, where: str) -> int:
    """The schema version (0 for a schema that has no tables yet); refuses a schema holding
    other tables and no version, rather than adding crmsync's tables to someone else's."""
    tables = tables_of(raw, schema)
    if not tables:
        return 0
    if "schema_version" not in tables:
        raise ConfigError(
            f"state database {where}: the schema holds other tables and no crmsync version; "
            "name a schema of crmsync's own (state.schema)",
            file=where,
        )
    row = raw.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def migrate(
    raw: psycopg.Connection[Any], schema: str, *, where: str, migrations: Sequence[str]
) -> int:
    """Bring the schema up to ``len(migrations)`` in one transaction; returns the start."""
    target = len(migrations)
    with raw.transaction():
        raw.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        raw.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        start = read_version(raw, schema, where=where)
        if start > target:
            raise ConfigError(
                f"state database {where} has schema version {start}, newer than this crmsync "
                f"understands (version {target}); upgrade crmsync, or name another state.schema",
                file=where,
            )
        for version in range(start + 1, target + 1):
            raw.execute(migrations[version - 1].encode())
            raw.execute(
                "INSERT INTO schema_version (version, applied_at) VALUES (%s, %s)",
                (version, datetime.now(UTC).isoformat(timespec="seconds")),
            )
    return start


def analyze(raw: psycopg.Connection[Any], schema: str) -> None:
    """Refresh the planner's statistics of the schema's tables: the last run may have added
    a million rows in batches of 100 since autovacuum last looked, and a query for many keys
    planned against an empty table loops over both sides."""
    for table in tables_of(raw, schema):
        raw.execute(sql.SQL("ANALYZE {}.{}").format(sql.Identifier(schema), sql.Identifier(table)))


def schema_exists(url: str, schema: str) -> bool:
    """Whether the schema has crmsync's tables (a pipeline that never ran has none)."""
    raw = connect(url)
    try:
        return "schema_version" in tables_of(raw, schema)
    except psycopg.Error as exc:
        raise pg_failure(redact_url(url), exc, doing="cannot open") from None
    finally:
        raw.close()
