"""The state on PostgreSQL: the same schema as on SQLite, migrations that refuse what they do not
know, an advisory lock that spans processes and dies with its holder, and messages that never
show the password."""

from __future__ import annotations

import signal
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from crmsync.errors import EXIT_LOCKED, ConfigError, LockedError, StateError
from crmsync.state import StateDB
from crmsync.state.location import StateLocation, redact_url
from crmsync.state.pg_copy import COPY_FROM_ROWS, plan
from crmsync.state.pg_lock import AdvisoryLock
from crmsync.state.pg_schema import PG_MIGRATIONS
from crmsync.state.postgres import driver_message, translate
from crmsync.state.schema import MIGRATIONS, SCHEMA_VERSION

from .conftest import spawn

PASSWORD = "pg-s3cret-Passw0rd"

HOLD = """
import sys
from crmsync.state.pg_copy import COPY_FROM_ROWS, plan
from crmsync.state.pg_lock import AdvisoryLock
lock = AdvisoryLock(sys.argv[1], schema=sys.argv[2], pipeline="nightly").acquire()
print("held", flush=True)
sys.stdin.read()
"""


def columns_sqlite(path: Path) -> dict[str, list[str]]:
    with sqlite3.connect(path) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        found = {
            t: [row[1] for row in connection.execute(f"PRAGMA table_info({t})")] for t in tables
        }
    connection.close()
    return found


def columns_postgres(url: str, schema: str) -> dict[str, list[str]]:
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = %s ORDER BY table_name, ordinal_position",
            (schema,),
        ).fetchall()
    found: dict[str, list[str]] = {}
    for table, column in rows:
        found.setdefault(table, []).append(column)
    return found


def test_both_backends_have_the_same_tables_and_columns_at_every_version(
    tmp_path: Path, postgres_url: str, pg_schema: str
) -> None:
    assert len(PG_MIGRATIONS) == len(MIGRATIONS) == SCHEMA_VERSION
    for version in range(1, SCHEMA_VERSION + 1):
        path = tmp_path / f"v{version}.db"
        StateDB.open(path, migrations=MIGRATIONS[:version]).close()
        schema = f"{pg_schema}_v{version}"
        StateDB.connect(
            postgres_url, schema_name=schema, migrations=PG_MIGRATIONS[:version]
        ).close()
        assert columns_postgres(postgres_url, schema) == columns_sqlite(path), version


def test_an_older_schema_is_migrated_and_keeps_its_runs(postgres_url: str, pg_schema: str) -> None:
    with StateDB.connect(postgres_url, schema_name=pg_schema, migrations=PG_MIGRATIONS[:3]) as old:
        old.runs.start("nightly")
    with StateDB.connect(postgres_url, schema_name=pg_schema) as db:
        assert db.schema_version() == SCHEMA_VERSION
        (run,) = db.runs.latest("nightly")
        db.runs.finish(run.id, status="partial", summary={}, report_dir=None)  # a V4 status
        assert db.runs.get(run.id) is not None


def test_a_newer_schema_is_refused_and_left_untouched(postgres_url: str, pg_schema: str) -> None:
    future = (*PG_MIGRATIONS, "CREATE TABLE from_the_future (x INTEGER);")
    StateDB.connect(postgres_url, schema_name=pg_schema, migrations=future).close()
    with pytest.raises(ConfigError, match="newer than this crmsync understands"):
        StateDB.connect(postgres_url, schema_name=pg_schema)


def test_a_schema_holding_someone_elses_tables_is_refused(
    postgres_url: str, pg_schema: str
) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {pg_schema}".encode())
        connection.execute(f"CREATE TABLE {pg_schema}.invoices (id INTEGER)".encode())
    with pytest.raises(ConfigError, match="other tables and no crmsync version"):
        StateDB.connect(postgres_url, schema_name=pg_schema)


def test_two_connections_migrating_an_empty_schema_at_once_migrate_it_once(
    postgres_url: str, pg_schema: str
) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        opened = list(
            pool.map(lambda _: StateDB.connect(postgres_url, schema_name=pg_schema), range(4))
        )
    for db in opened:
        assert db.schema_version() == SCHEMA_VERSION
        db.close()
    versions = columns_postgres(postgres_url, pg_schema)["schema_version"]
    assert versions == ["version", "applied_at"]
    with psycopg.connect(postgres_url) as connection:
        count = connection.execute(f"SELECT count(*) FROM {pg_schema}.schema_version".encode())
        assert count.fetchone() == (SCHEMA_VERSION,)


def test_the_lock_refuses_a_second_holder_and_names_the_first(
    postgres_url: str, pg_schema: str
) -> None:
    with AdvisoryLock(postgres_url, schema=pg_schema, pipeline="nightly") as held:
        assert held.held
        second = AdvisoryLock(postgres_url, schema=pg_schema, pipeline="nightly")
        with pytest.raises(LockedError) as refused:
            second.acquire()
        assert refused.value.exit_code == EXIT_LOCKED
        assert "already running (pid " in str(refused.value)
        # another pipeline, or the same name in another schema, is another lock
        AdvisoryLock(postgres_url, schema=pg_schema, pipeline="weekly").acquire().release()
        AdvisoryLock(postgres_url, schema=f"{pg_schema}_b", pipeline="nightly").acquire().release()
    AdvisoryLock(postgres_url, schema=pg_schema, pipeline="nightly").acquire().release()


def test_a_killed_holder_releases_the_lock_with_its_connection(
    postgres_url: str, pg_schema: str
) -> None:
    holder = spawn(HOLD, postgres_url, pg_schema)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(LockedError, match=f"pid {holder.pid} on "):
            AdvisoryLock(postgres_url, schema=pg_schema, pipeline="nightly").acquire()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    lock = AdvisoryLock(postgres_url, schema=pg_schema, pipeline="nightly")
    for _ in range(100):  # the server ends the dead client's session within moments
        try:
            lock.acquire()
            break
        except LockedError:
            time.sleep(0.05)
    assert lock.held
    lock.release()


def test_no_message_shows_the_password(postgres_url: str) -> None:
    port = postgres_url.rsplit(":", 1)[1].split("/")[0]
    closed = f"postgresql://crm:{PASSWORD}@127.0.0.1:1/db"
    with pytest.raises(StateError) as unreachable:
        StateDB.connect(closed, schema_name="crmsync")
    wrong_user = f"postgresql://nobody:{PASSWORD}@127.0.0.1:{port}/nowhere"
    with pytest.raises(StateError) as refused:
        StateDB.connect(wrong_user, schema_name="crmsync")
    location = StateLocation(url=closed)
    for text in (str(unreachable.value), str(refused.value), repr(location), str(location)):
        assert PASSWORD not in text
        assert "127.0.0.1" in text or "crmsync" in text
    assert "nowhere" in str(refused.value) or "nobody" in str(refused.value)


@pytest.mark.parametrize(
    "message",
    [
        f"connection to server failed: password={PASSWORD} host=x",
        f"invalid URI postgresql://crm:{PASSWORD}@db/x",
        f'FATAL:  password authentication failed for user "crm"\nDETAIL: {PASSWORD}',
    ],
)
def test_driver_messages_lose_anything_like_a_password(message: str) -> None:
    assert PASSWORD not in driver_message(RuntimeError(message))


def test_urls_are_shown_without_password_or_query() -> None:
    url = f"postgresql://crm:{PASSWORD}@db.internal:5433/crm?sslmode=require&password={PASSWORD}"
    assert redact_url(url) == "postgresql://crm@db.internal:5433/crm"


def test_statements_are_translated_once_into_postgres_spelling() -> None:
    assert translate("SELECT a FROM t WHERE k IN (SELECT value FROM json_each(?)) AND p IS ?") == (
        b"SELECT a FROM t WHERE k = ANY(ARRAY(SELECT value FROM"
        b" json_array_elements_text(CAST(%s AS json)))) AND p IS NOT DISTINCT FROM %s"
    )
    assert translate("SELECT '50%' WHERE x = ?") == b"SELECT '50%%' WHERE x = %s"


def test_a_big_put_through_copy_stores_what_row_by_row_statements_store(
    tmp_path: Path, postgres_url: str, pg_schema: str
) -> None:
    """Above COPY_FROM_ROWS a put goes through COPY and one INSERT ... SELECT; with keys
    repeated it stays row by row. Either way both backends end with the same rows."""
    rows = COPY_FROM_ROWS * 3
    first = [(f"k{n}@example.com", f"h{n}", f"id-{n}") for n in range(rows)]
    # an update: every other id unknown (None keeps the stored one), new hashes, a new key
    second = [(k, h + "'%?x", None if n % 2 else f"new-{n}") for n, (k, h, _) in enumerate(first)]
    second.append(("late@example.com", "h-late", None))
    repeated = [*first[:10], *first[:10]]
    written = {f"k{n}@example.com": f'{{"n": {n}}}' for n in range(0, rows, 7)}
    results = []
    for db in (
        StateDB.open(tmp_path / "s.db"),
        StateDB.connect(postgres_url, schema_name=pg_schema),
    ):
        with db:
            db.hashes.put("step", first, run_id=1, written=written)
            db.hashes.put("step", second, run_id=2)
            db.hashes.put("other", repeated, run_id=3)
            db.ids.put("contacts", "email", [(k, r or "") for k, _, r in second])
            stored = db.hashes.get("step").sort("match_key")
            results.append(
                (
                    stored.rows(),
                    db.hashes.get("other").sort("match_key").rows(),
                    db.hashes.written("step", list(written)),
                    db.ids.get("contacts", "email"),
                )
            )
    assert results[0] == results[1]
    assert len(results[0][0]) == rows + 1 and len(results[0][1]) == 10
    assert plan("INSERT INTO t (a, b) VALUES (?, ?) ON CONFLICT (a) DO NOTHING") is not None
    assert plan("UPDATE t SET a = ? WHERE b = ?") is None
