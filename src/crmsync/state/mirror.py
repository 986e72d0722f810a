"""The `rally_records` table: each record as Rally last showed crmsync (a list or a PUT answer).

An update must carry every field Rally holds (a PUT replaces the record), and must not undo
what a person typed since crmsync last wrote: both need the record as Rally holds it now.
Reading it record by record would cost a request each; instead a step lists what changed in
Rally since its last look (the list's `updatedSince`) and keeps every record it saw here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from crmsync.state.connection import Connection, now

Record = dict[str, Any]
SCAN_KEYS = 20_000  # past this many keys, one read of the scope's keys beats a lookup each


class RallyRecords:
    """Records per destination/object scope, by Rally id and by match key."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def put(self, scope: str, records: Iterable[tuple[str | None, Mapping[str, Any]]]) -> int:
        """Keep (match key, record with its `id`) pairs as Rally showed them."""
        stamp = now()
        rows = [
            (scope, str(record["id"]), key, json.dumps(record, ensure_ascii=False), stamp)
            for key, record in records
        ]
        with self._db.write() as db:
            db.executemany(
                "INSERT INTO rally_records (scope, rally_id, key, record, seen_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (scope, rally_id) DO UPDATE"
                " SET key = excluded.key, record = excluded.record, seen_at = excluded.seen_at",
                rows,
            )
        return len(rows)

    def get(self, scope: str, rally_ids: Iterable[str]) -> dict[str, Record]:
        """id -> record, for the ids that were seen."""
        rows = self._db.read(
            "SELECT rally_id, record FROM rally_records WHERE scope = ?"
            " AND rally_id IN (SELECT value FROM json_each(?))",
            (scope, json.dumps(list(rally_ids))),
        )
        return {rally_id: json.loads(text) for rally_id, text in rows}

    def has_any(self, scope: str) -> bool:
        """Whether any record of the scope was seen."""
        rows = self._db.read("SELECT 1 FROM rally_records WHERE scope = ? LIMIT 1", (scope,))
        return bool(rows)

    def ids_of(self, scope: str, keys: Iterable[str]) -> dict[str, str]:
        """match key -> Rally id, for the keys a seen record has. Many keys are looked up by
        reading the scope's keys once: a million keys through json_each took 3 s even
        against an empty table."""
        keys = list(keys)
        if len(keys) > SCAN_KEYS:
            wanted = set(keys)
            every = self._db.read(
                "SELECT key, rally_id FROM rally_records WHERE scope = ? AND key IS NOT NULL",
                (scope,),
            )
            return {key: rally_id for key, rally_id in every if key in wanted}
        rows = self._db.read(
            "SELECT key, rally_id FROM rally_records WHERE scope = ?"
            " AND key IN (SELECT value FROM json_each(?))",
            (scope, json.dumps(list(keys), ensure_ascii=False)),
        )
        return dict(rows)

    def forget(self, scope: str, rally_ids: Iterable[str]) -> None:
        """Records Rally no longer has."""
        with self._db.write() as db:
            db.execute(
                "DELETE FROM rally_records WHERE scope = ?"
                " AND rally_id IN (SELECT value FROM json_each(?))",
                (scope, json.dumps(list(rally_ids))),
            )
