"""Updates: each record merged field by field into Rally's (run/merge.py) and written by id.

The record sent is Rally's record with only the fields the merge writes changed (a PUT
replaces the whole record); its answer is the record as Rally now holds it, kept for the next
merge. A record that writes nothing sends nothing. Every write is journaled with the values it
replaced, so the run can be undone.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from crmsync.api import RallyClient
from crmsync.config import Step, SyncConfig
from crmsync.errors import AuthError, CrmsyncError, RequestRefused
from crmsync.report.changes import ChangeLog
from crmsync.run.artifacts import Delivered, Plan, Settled
from crmsync.run.merge import FieldPolicy, Merged, merge
from crmsync.run.mirror import Mirror
from crmsync.run.stages.plan import TARGET_ID
from crmsync.run.stages.record import PAYLOAD_CHUNK, Recorder, stream_rows
from crmsync.schema import RallyObject
from crmsync.state import StepState
from crmsync.state.journal import Write
from crmsync.transform.mapping import DEFAULT_MARK

NOT_FOUND = 404
HELD_BACK = (
    "not updated: Rally never shows a {object}'s {fields}, and an update replaces them, so "
    "it would wipe what a person typed there; the pipeline's sync: {{unreadable: rewrite}} "
    "allows it"
)
PUT_BACKLOG = 64  # updates queued at the client at once; the client's own cap paces them
POLICY_MARK_CHARS = 8


def policies(step: Step) -> dict[str, FieldPolicy]:
    """Each mapped field's update policy, the step's sync: section filling what it leaves."""
    return {
        name: FieldPolicy(
            update=spec.update,
            blank=spec.blank or step.sync.blank,
            on_conflict=spec.on_conflict or step.sync.on_conflict,
            on_update=spec.on == "always",
        )
        for name, spec in step.mapping.items()
    }


def policy_mark(step: Step) -> str:
    """A short name for the step's update policies; empty when they are all the defaults, so
    records settled before policies existed stay unchanged."""
    chosen = {
        name: (spec.update, spec.blank, spec.on_conflict, spec.on)
        for name, spec in step.mapping.items()
        if (spec.update, spec.blank, spec.on_conflict, spec.on) != ("always", None, None, "create")
    }
    if not chosen and step.sync == SyncConfig():
        return ""
    text = json.dumps([step.sync.model_dump(), chosen], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:POLICY_MARK_CHARS]


def readable(obj: RallyObject) -> frozenset[str]:
    """The fields of a record Rally's answers show (a write-only field cannot show an edit)."""
    return frozenset(obj.response_fields) & frozenset(obj.wire_fields)


@dataclass(frozen=True)
class Row:
    """One row to merge: where it came from, its values, and the record it merges into."""

    row: int
    source: str
    target: str
    ours: dict[str, Any]
    defaulted: frozenset[str]


def rows_of(plan: Plan, frame: pl.DataFrame) -> list[Row]:
    """The rows of `frame` (with TARGET_ID) with their mapped values and default marks."""
    marks = [c for c in frame.columns if c.startswith(DEFAULT_MARK)]
    extra = ["_source", TARGET_ID, *marks]
    out = []
    for row, values in stream_rows(frame, [*plan.columns, *extra]):
        source, target = values.pop("_source"), values.pop(TARGET_ID)
        defaulted = frozenset(m.removeprefix(DEFAULT_MARK) for m in marks if values.pop(m))
        out.append(Row(row, source, target, values, defaulted))
    return out


class Merger:
    """Merges rows into the records Rally holds, for one step."""

    def __init__(self, step: Step, state: StepState, mirror: Mirror) -> None:
        self.obj = step.rally_object
        self._state = state
        self.mirror = mirror
        self._policies = policies(step)
        self._readable = readable(self.obj)
        self._writable = frozenset(self.obj.wire_fields)
        unseen = sorted(self._writable - self._readable)
        self._held_back = (
            HELD_BACK.format(object=self.obj.name.removesuffix("s"), fields=", ".join(unseen))
            if unseen and step.sync.unreadable == "keep"
            else None
        )

    def held_back(self, merged: Merged) -> str | None:
        """Why a record whose merge writes is not updated: the PUT would replace fields Rally
        never shows, and the pipeline did not say it may (None: it may be updated)."""
        return self._held_back if merged.writes else None

    def merge(self, rows: list[Row], keys: Mapping[int, str]) -> list[tuple[Row, Merged]]:
        """Each row merged with what crmsync last wrote and what Rally holds now."""
        bases = self._state.written(keys[r.row] for r in rows)
        theirs = self.mirror.get(r.target for r in rows)
        out = []
        for row in rows:
            record = theirs.get(row.target)
            out.append(
                (
                    row,
                    merge(
                        row.ours,
                        bases.get(keys[row.row]),
                        record or {},
                        writable=self._writable,
                        readable=self._readable if record is not None else (),
                        policies=self._policies,
                        defaulted=row.defaulted,
                    ),
                )
            )
        return out


async def write_merged(
    client: RallyClient,
    merger: Merger,
    rows: list[Row],
    *,
    into: Delivered,
    recorder: Recorder,
    log: ChangeLog | None,
    step: str,
    scope: str,
    progress: Callable[[int], None],
) -> list[int]:
    """Merge and write `rows`; returns the rows whose record Rally no longer has (404)."""
    gone: list[int] = []
    refused: list[AuthError] = []  # the key refused: no more is sent, the rest stay unsettled
    limit = asyncio.Semaphore(PUT_BACKLOG)
    obj = merger.obj
    flying: set[int] = set()  # rows whose PUT left, without an outcome yet

    async def write(row: Row, merged: Merged, key: str) -> None:
        if (why := merger.held_back(merged)) is not None:
            skipped = Settled(row.row, "skipped", row.target, why)
            into.settled.append(skipped)
            recorder.add(skipped)
            return
        if log is not None:
            log.add(row.source, row.row, row.target, merged.changes)
        if not merged.writes:
            settled = Settled(row.row, "unchanged", row.target)
            into.settled.append(settled)
            recorder.add(settled, written=merged.written)
            return
        async with limit:
            if refused:
                return
            flying.add(row.row)
            try:
                answer = await client.update(obj, row.target, merged.record)
            except AuthError as exc:
                refused.append(exc)
                return
            except RequestRefused as exc:
                if exc.status == NOT_FOUND:
                    gone.append(row.row)
                    merger.mirror.gone([row.target])
                    return
                outcome = Settled(row.row, "failed", None, exc.detail)
            except CrmsyncError as exc:
                outcome = Settled(row.row, "failed", None, str(exc))
            else:
                if answer is not None:  # a 204 shows nothing: the next look lists it
                    merger.mirror.saw(answer)
                outcome = Settled(row.row, "updated", row.target)
        into.settled.append(outcome)
        flying.discard(row.row)
        if outcome.outcome != "updated":
            return
        write = Write(
            step=step,
            scope=scope,
            object=obj.name,
            rally_id=row.target,
            action="updated",
            before={c.field: c.before for c in merged.writes},
            after={c.field: c.after for c in merged.writes},
            row_key=key,
            written_before=merged.base,
        )
        recorder.add(outcome, written=merged.written, write=write)

    with into.sending(flying):
        for start in range(0, len(rows), PAYLOAD_CHUNK):
            chunk = rows[start : start + PAYLOAD_CHUNK]
            keys = recorder.keys_of([row.row for row in chunk])
            merged = merger.merge(chunk, keys)
            # every write of the chunk ends before one's error is raised: what was written
            # is recorded first (its undo journal too), whatever stops the step
            ended = await asyncio.gather(
                *(write(row, result, keys[row.row]) for row, result in merged),
                return_exceptions=True,
            )
            recorder.flush()
            progress(len(chunk))
            if refused:  # as a refused bulk does: the step stops
                raise refused[0]
            for outcome in ended:
                if isinstance(outcome, BaseException):
                    raise outcome
    return gone
