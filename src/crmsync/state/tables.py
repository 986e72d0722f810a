"""The tables a run reads and writes per record: the id map, row hashes and watermarks.

- `id_map`: (object scope, key kind, normalized key) -> Rally id. Filled as records are
  acknowledged and when Rally's list is read; references and re-runs find records through it.
- `row_hashes`: per step scope and record key, the hash of the payload Rally last accepted and
  its id. Written after every acknowledged batch, so a killed run's rerun sends only the rest.
- `watermarks`: per step scope and source, the newest update time read, for incremental reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

import polars as pl

from crmsync.state.connection import Connection, now
from crmsync.state.fingerprint import FP_COLUMN, VOUCHING, code, stored
from crmsync.state.hashing import hash_code
from crmsync.state.snapshots import Snapshots

HASH_SCHEMA = {"match_key": pl.String, "payload_hash": pl.String, "rally_id": pl.String}
COMPARED_SCHEMA = {"match_key": pl.String, "payload_hash": pl.UInt64, FP_COLUMN: pl.UInt64}
KEY_CODE = "key_code"  # the `hash_code` of match_key: keys told apart without their text
CODES_SCHEMA = {KEY_CODE: pl.UInt64, "payload_hash": pl.UInt64, FP_COLUMN: pl.UInt64}


class IdMap:
    """Normalized keys -> Rally ids, per object scope and key kind."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def put(
        self, obj: str, kind: str, pairs: Iterable[tuple[str, str]], *, run_id: int | None = None
    ) -> int:
        """Map keys of one kind to Rally ids (a known key is overwritten); returns how many."""
        stamp = now()
        rows = [(obj, kind, key, rally_id, run_id, stamp) for key, rally_id in pairs]
        with self._db.write() as db:
            db.executemany(
                "INSERT INTO id_map (object, kind, key, rally_id, run_id, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (object, kind, key) DO UPDATE SET rally_id = excluded.rally_id,"
                " run_id = excluded.run_id, updated_at = excluded.updated_at",
                rows,
            )
        return len(rows)

    def get(self, obj: str, kind: str, keys: Iterable[str] | None = None) -> dict[str, str]:
        """key -> Rally id for the given keys that are known (all keys of the kind if None)."""
        query = "SELECT key, rally_id FROM id_map WHERE object = ? AND kind = ?"
        params: tuple[object, ...] = (obj, kind)
        if keys is not None:
            query += " AND key IN (SELECT value FROM json_each(?))"
            params += (json.dumps(list(keys), ensure_ascii=False),)
        return dict(self._db.read(query, params))

    def forget(self, obj: str, rally_ids: Iterable[str]) -> None:
        """Drop every key pointing at these Rally ids (records deleted by an undo)."""
        with self._db.write() as db:
            db.execute(
                "DELETE FROM id_map WHERE object = ?"
                " AND rally_id IN (SELECT value FROM json_each(?))",
                (obj, json.dumps(list(rally_ids), ensure_ascii=False)),
            )


class RowHashes:
    """What Rally last accepted per record of a step: the payload's hash and the record's id."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection
        self._snapshots = Snapshots(connection)

    def put(
        self,
        step: str,
        rows: Iterable[tuple[str, str, str | None]],
        *,
        run_id: int | None = None,
        written: Mapping[str, str] | None = None,
        prints: Mapping[str, str] | None = None,
    ) -> int:
        """Remember (match_key, payload_hash, rally_id) per row Rally accepted, for the keys
        in `written` the JSON of the fields crmsync wrote (each field's base next time), and
        for the keys in `prints` the source fingerprint of the row (`crmsync.state.
        fingerprint`; another key keeps its own, which vouches only for the hash it came
        with).

        A None rally_id keeps the id already known for that key (unknown is not "no id"); a key
        not in `written` keeps what was written before.
        """
        wrote, made = written or {}, prints or {}
        values = [
            (step, key, digest, rally_id, run_id, wrote.get(key), _kept(made.get(key), digest))
            for key, digest, rally_id in rows
        ]
        with self._db.write() as db:
            db.executemany(
                "INSERT INTO row_hashes"
                f" (step, match_key, payload_hash, rally_id, run_id, written, {FP_COLUMN})"
                " VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (step, match_key) DO UPDATE SET"
                " payload_hash = excluded.payload_hash,"
                " rally_id = COALESCE(excluded.rally_id, row_hashes.rally_id),"
                " run_id = excluded.run_id,"
                " written = COALESCE(excluded.written, row_hashes.written),"
                f" {FP_COLUMN} = COALESCE(excluded.{FP_COLUMN}, row_hashes.{FP_COLUMN})",
                values,
            )
        return len(values)

    def get(self, step: str) -> pl.DataFrame:
        """Every remembered row of a step: match_key, payload_hash, rally_id (all String)."""
        return self._db.read_frame(
            "SELECT match_key, payload_hash, rally_id FROM row_hashes WHERE step = ?",
            (step,),
            HASH_SCHEMA,
        )

    def compared(self, step: str, *, keys: bool = True) -> pl.DataFrame:
        """What planning compares: match_key, payload_hash as its `hash_code` (UInt64), and
        source_fp as the code of the fingerprint that still vouches for the record (else
        null). The Rally ids stay behind (`ids`): a rerun needs those of its changed rows
        alone, and ten million of them took 500 MB. Read from the step's snapshot where one
        is kept (`crmsync.state.snapshots`).

        Without `keys`, a snapshot gives each key's code (KEY_CODE) instead of its text,
        which is most of its size (ten million keys: 400 MB of 620): enough to tell rows
        apart, not to plan. Read from the table, the text comes anyway."""
        kept = self._snapshots.read(step, COMPARED_SCHEMA if keys else CODES_SCHEMA)
        return kept if kept is not None else self._table_compared(step)

    def keep_snapshot(self, step: str) -> None:
        """Keep what `compared` gives for the step, with its key codes, as its snapshot,
        unless the one read is still current."""
        self._snapshots.keep(
            step,
            lambda: self._table_compared(step).with_columns(
                hash_code(pl.col("match_key")).alias(KEY_CODE)
            ),
        )

    def _table_compared(self, step: str) -> pl.DataFrame:
        return self._db.read_frame(
            f"SELECT match_key, payload_hash, {VOUCHING} FROM row_hashes WHERE step = ?",
            (step,),
            {"match_key": pl.String, "payload_hash": pl.String, FP_COLUMN: pl.String},
            lambda part: part.with_columns(
                hash_code(pl.col("payload_hash")), code(pl.col(FP_COLUMN))
            ),
        )

    def fingerprint(self, step: str, rows: pl.DataFrame) -> None:
        """Store each row's source fingerprint (`rows`: match_key, payload_hash, source_fp)
        with its record, where the record's hash is still that row's: a row Rally did not
        accept, or whose record another write changed since, stores nothing. In key order,
        so the writes sweep the table once rather than hop about it."""
        ordered = rows.sort("match_key").select("match_key", "payload_hash", FP_COLUMN)
        values = [(stored(fp, digest), step, key, digest) for key, digest, fp in ordered.rows()]
        with self._db.write() as db:
            db.executemany(
                f"UPDATE row_hashes SET {FP_COLUMN} = ?"
                " WHERE step = ? AND match_key = ? AND payload_hash = ?",
                values,
            )

    def ids(self, step: str, keys: Iterable[str]) -> dict[str, str]:
        """key -> the Rally id last accepted for it, for the keys that have one."""
        return self._by_key("rally_id", step, keys)

    def written(self, step: str, keys: Iterable[str]) -> dict[str, str]:
        """key -> the JSON of the fields crmsync last wrote, for the keys that have one."""
        return self._by_key("written", step, keys)

    def _by_key(self, column: str, step: str, keys: Iterable[str]) -> dict[str, str]:
        rows = self._db.read(
            f"SELECT match_key, {column} FROM row_hashes WHERE step = ? AND {column} IS NOT NULL"
            " AND match_key IN (SELECT value FROM json_each(?))",
            (step, json.dumps(list(keys), ensure_ascii=False)),
        )
        return dict(rows)

    def reset(self, step: str, written: Mapping[str, str]) -> None:
        """Records whose Rally values were put back (by an undo): their hash is forgotten, so
        the next run plans them again, against `written` as what crmsync last wrote."""
        with self._db.write() as db:
            db.executemany(
                "UPDATE row_hashes SET payload_hash = '', written = ?"
                " WHERE step = ? AND match_key = ?",
                [(text, step, key) for key, text in written.items()],
            )

    def forget(self, step: str, keys: Iterable[str]) -> None:
        """Records that are gone from Rally (deleted by an undo): new to the next run."""
        with self._db.write() as db:
            db.execute(
                "DELETE FROM row_hashes WHERE step = ?"
                " AND match_key IN (SELECT value FROM json_each(?))",
                (step, json.dumps(list(keys), ensure_ascii=False)),
            )


def _kept(fingerprint: str | None, payload_hash: str) -> str | None:
    """A row's fingerprint as row_hashes keeps it (`stored`), or None when it has none."""
    return None if fingerprint is None else stored(fingerprint, payload_hash)


class Watermarks:
    """The newest update time read per step and source."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def get(self, step: str, source: str) -> str | None:
        """The newest updated-at value seen for this step's source, if any."""
        rows = self._db.read(
            "SELECT value FROM watermarks WHERE step = ? AND source = ?", (step, source)
        )
        return None if not rows else str(rows[0][0])

    def set(self, step: str, source: str, value: str) -> None:
        """Store the watermark; call it only once the records up to it are safely loaded."""
        with self._db.write() as db:
            db.execute(
                "INSERT INTO watermarks (step, source, value, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (step, source) DO UPDATE"
                " SET value = excluded.value, updated_at = excluded.updated_at",
                (step, source, value, now()),
            )
