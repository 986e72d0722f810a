"""A step's slice of the state database, with its scopes built once.

Everything crmsync remembers is kept per destination (a tenant: its base URL and a short hash
of its key, never the key), so ids learned while rehearsing against a sandbox never make a
production run skip a record:

    <destination>/step:<step name>   row hashes and watermarks of one step
    <destination>/<object>           the id map of one Rally object, shared by every step

A dry run reads everything and writes nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import polars as pl

from crmsync.errors import StateError
from crmsync.state.db import StateDB
from crmsync.state.journal import Write

_READER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crmsync-state")
KEY_DIGEST_CHARS = 12
LISTED_MARK = "rally:listed"  # the watermark of a destination's object: when it was last listed


def destination_scope(base_url: str, api_key: str) -> str:
    """A tenant's name in the state database: its base URL and a short hash of its key."""
    digest = hashlib.sha256(api_key.encode()).hexdigest()[:KEY_DIGEST_CHARS]
    return f"{base_url}#{digest}"


class StepState:
    """What one step of one run reads from and writes to the state database."""

    def __init__(
        self, db: StateDB, *, destination: str, step: str, run_id: int, dry_run: bool
    ) -> None:
        self._db = db
        self._destination = destination
        self.scope = f"{destination}/step:{step}"
        self.run_id = run_id
        self.dry_run = dry_run
        self._accepted: Future[pl.DataFrame] | None = None

    def together(self) -> AbstractContextManager[object]:
        """What is written inside is committed as one transaction: a batch's journal, hashes
        and ids (one commit instead of one per table)."""
        return nullcontext() if self.dry_run else self._db.transaction()

    def object_scope(self, obj: str) -> str:
        """Where the id map of a Rally object lives, for this destination."""
        return f"{self._destination}/{obj}"

    def verify(self) -> None:
        """Wait for the state database's damage check (StateDB.verify): before anything is sent."""
        self._db.verify()

    # -- change detection ------------------------------------------------------------------------

    def prefetch_accepted(self) -> None:
        """Start reading what Rally last accepted on another thread, while the source is read
        and transformed (polars lets go of the interpreter lock: a million stored hashes take
        a second to read, which the transform then hides). `accepted` picks it up."""
        if self._accepted is None:
            self._accepted = _READER.submit(self._db.hashes.compared, self.scope, keys=False)

    def accepted(self, *, keys: bool = True) -> pl.DataFrame:
        """What Rally last accepted per record of this step: match_key, payload_hash (its
        `hash_code`), source_fp (the code of a fingerprint that vouches for it, or null);
        the Rally ids by `accepted_ids`. Without `keys`, match_key may come as its code
        (`RowHashes.compared`)."""
        future, self._accepted = self._accepted, None
        if future is not None:
            frame = future.result()
            if not keys or "match_key" in frame.columns:
                return frame
            del frame
        return self._db.hashes.compared(self.scope, keys=keys)

    def fingerprint(self, rows: pl.DataFrame) -> None:
        """Store the source fingerprints of rows whose records Rally holds as planned
        (`rows`: match_key, payload_hash, source_fp): the next run knows them unchanged
        without transforming them."""
        if not self.dry_run and rows.height:
            self._db.hashes.fingerprint(self.scope, rows)

    def keep_accepted(self) -> None:
        """Keep what `accepted` read as the step's snapshot, for the next run to read fast
        (not on a dry run, which writes nothing). A snapshot is only a shortcut: one that
        cannot be written (the file busy or full) is left for a later run to keep."""
        if self.dry_run:
            return
        with contextlib.suppress(StateError):
            self._db.hashes.keep_snapshot(self.scope)

    def accepted_ids(self, keys: Iterable[str]) -> dict[str, str]:
        """record key -> the Rally id last accepted for it, for the keys that have one."""
        return self._db.hashes.ids(self.scope, keys)

    # -- identities ------------------------------------------------------------------------------

    def ids(self, obj: str, kind: str, keys: Iterable[str]) -> dict[str, str]:
        """key -> Rally id for the keys of `kind` the id map knows."""
        return self._db.ids.get(self.object_scope(obj), kind, keys)

    def remember_ids(self, obj: str, kind: str, pairs: Iterable[tuple[str, str]]) -> None:
        """Record keys Rally showed to exist (its list), for later steps and runs."""
        if not self.dry_run:
            self._db.ids.put(self.object_scope(obj), kind, pairs, run_id=self.run_id)

    def settle(
        self,
        obj: str,
        accepted: Iterable[tuple[str, str, str | None]],
        identities: Mapping[str, Iterable[tuple[str, str]]],
        written: Mapping[str, Mapping[str, Any]] | None = None,
        prints: Mapping[str, str] | None = None,
    ) -> None:
        """Make acknowledged records durable: (record key, payload hash, Rally id) per record,
        each kind of key they can be found by, and per record key what crmsync has written in
        each field and the source fingerprint of its row (`prints`). Committed before
        returning, so a rerun after kill -9 counts them unchanged instead of sending them
        again."""
        if self.dry_run:
            return
        texts = {key: _json(fields) for key, fields in (written or {}).items()}
        self._db.hashes.put(self.scope, accepted, run_id=self.run_id, written=texts, prints=prints)
        for kind, pairs in identities.items():
            self._db.ids.put(self.object_scope(obj), kind, pairs, run_id=self.run_id)

    def written(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """record key -> what crmsync last wrote in each field (a three-way merge's base)."""
        return {
            key: json.loads(text) for key, text in self._db.hashes.written(self.scope, keys).items()
        }

    def journal(self, writes: Iterable[Write]) -> None:
        """Record writes to Rally with what Rally held before them (undo reads them back)."""
        if not self.dry_run:
            self._db.journal.append(self.run_id, writes)

    # -- Rally's records as last seen ----------------------------------------------------------

    def seen(self, obj: str, rally_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        return self._db.records.get(self.object_scope(obj), rally_ids)

    def seen_ids(self, obj: str, keys: Iterable[str]) -> dict[str, str]:
        """match key -> Rally id of the seen records that have it."""
        return self._db.records.ids_of(self.object_scope(obj), keys)

    def has_seen(self, obj: str) -> bool:
        """Whether any record of `obj` at this destination was seen."""
        return self._db.records.has_any(self.object_scope(obj))

    def keep_seen(self, obj: str, records: Iterable[tuple[str | None, Mapping[str, Any]]]) -> None:
        if not self.dry_run:
            self._db.records.put(self.object_scope(obj), records)

    def forget_seen(self, obj: str, rally_ids: Iterable[str]) -> None:
        if not self.dry_run:
            self._db.records.forget(self.object_scope(obj), rally_ids)

    def seen_since(self, obj: str) -> str | None:
        """Rally's time when this destination's records of `obj` were last listed."""
        return self._db.watermarks.get(self.object_scope(obj), LISTED_MARK)

    def listed_at(self, obj: str, value: str) -> None:
        if not self.dry_run:
            self._db.watermarks.set(self.object_scope(obj), LISTED_MARK, value)

    # -- incremental reads -----------------------------------------------------------------------

    def watermark(self, source: str) -> str | None:
        """The newest update time an earlier complete run read from `source`."""
        return self._db.watermarks.get(self.scope, source)

    def advance_watermark(self, source: str, value: str) -> None:
        """Remember `value` if it is newer; call only after a complete run."""
        previous = self.watermark(source)
        if not self.dry_run and (previous is None or value > previous):
            self._db.watermarks.set(self.scope, source, value)


def _json(fields: Mapping[str, Any]) -> str:
    return json.dumps(dict(fields), ensure_ascii=False, sort_keys=True, default=str)
