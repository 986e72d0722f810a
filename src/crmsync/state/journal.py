"""The `journal` table: every write a run made to Rally, with what Rally held before it.

Undoing a run reads its entries back: a record it created is deleted, a field it updated gets
its value from before the run, unless a person changed it since (then it is left alone and the
entry says why). Entries are marked as they are undone, so an undo killed half-way resumes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from crmsync.state.connection import Connection

Action = Literal["created", "updated"]


@dataclass(frozen=True)
class Write:
    """One write to record: a record created or updated, and its fields before and after."""

    step: str
    scope: str  # destination/object
    object: str
    rally_id: str
    action: Action
    before: Mapping[str, Any]  # the written fields as Rally held them ({} for a creation)
    after: Mapping[str, Any]  # the fields as written
    row_key: str | None = None  # the record's key in the step's row hashes
    written_before: Mapping[str, Any] | None = None  # what crmsync had written before


@dataclass(frozen=True)
class Entry(Write):
    """A journaled write of a run."""

    run_id: int = 0
    seq: int = 0
    undone_by: int | None = None
    undo_note: str | None = None


_COLUMNS = (
    "run_id, seq, step, scope, object, rally_id, action, before, after, row_key,"
    " written_before, undone_by, undo_note"
)


class Journal:
    """Writes per run, in the order they were made."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def append(self, run_id: int, writes: Iterable[Write]) -> int:
        """Journal writes of a run (committed before returning); returns how many."""
        with self._db.write() as db:
            (last,) = db.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM journal WHERE run_id = ?", (run_id,)
            ).fetchone()
            rows = [
                (
                    run_id,
                    last + offset,
                    w.step,
                    w.scope,
                    w.object,
                    w.rally_id,
                    w.action,
                    _json(w.before),
                    _json(w.after),
                    w.row_key,
                    None if w.written_before is None else _json(w.written_before),
                )
                for offset, w in enumerate(writes, start=1)
            ]
            db.executemany(
                "INSERT INTO journal (run_id, seq, step, scope, object, rally_id, action, before,"
                " after, row_key, written_before) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        return len(rows)

    def of_run(self, run_id: int) -> list[Entry]:
        """Every write of a run, in order."""
        rows = self._db.read(
            f"SELECT {_COLUMNS} FROM journal WHERE run_id = ? ORDER BY seq", (run_id,)
        )
        return [_entry(row) for row in rows]

    def rewritten_later(self, run_id: int) -> dict[str, int]:
        """rally_id -> the first later run that wrote a record this run wrote and still
        stands there: a later write its undo took back cleanly (nothing left alone) does not
        count, so undoing the runs from the newest back is never refused."""
        rows = self._db.read(
            "SELECT mine.rally_id, MIN(later.run_id) FROM journal AS mine"
            " JOIN journal AS later ON later.scope = mine.scope"
            " AND later.rally_id = mine.rally_id AND later.run_id > mine.run_id"
            " AND (later.undone_by IS NULL OR later.undo_note IS NOT NULL)"
            " WHERE mine.run_id = ? GROUP BY mine.rally_id",
            (run_id,),
        )
        return {rally_id: int(later) for rally_id, later in rows}

    def written_again(self, entry: Entry) -> bool:
        """Whether a later run or undo wrote the record `entry` wrote (undone or not): its
        `updatedAt` then moved by crmsync's own hand."""
        rows = self._db.read(
            "SELECT 1 FROM journal WHERE scope = ? AND rally_id = ? AND run_id > ? LIMIT 1",
            (entry.scope, entry.rally_id, entry.run_id),
        )
        return bool(rows)

    def mark_undone(self, run_id: int, seq: int, *, by: int, note: str | None) -> None:
        """The entry is settled by the undo run `by` (`note`: why it was left alone)."""
        with self._db.write() as db:
            db.execute(
                "UPDATE journal SET undone_by = ?, undo_note = ? WHERE run_id = ? AND seq = ?",
                (by, note, run_id, seq),
            )


def _json(value: Mapping[str, Any]) -> str:
    return json.dumps(dict(value), ensure_ascii=False, sort_keys=True, default=str)


def _entry(row: tuple[Any, ...]) -> Entry:
    (run_id, seq, step, scope, obj, rally_id, action, before, after, row_key, written_before,
     undone_by, undo_note) = row  # fmt: skip
    return Entry(
        step=step,
        scope=scope,
        object=obj,
        rally_id=rally_id,
        action=action,
        before=json.loads(before),
        after=json.loads(after),
        row_key=row_key,
        written_before=None if written_before is None else json.loads(written_before),
        run_id=run_id,
        seq=seq,
        undone_by=undone_by,
        undo_note=undo_note,
    )
