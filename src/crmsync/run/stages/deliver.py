"""Deliver: what a plan says to send, sent, and every acknowledged batch made durable.

`RallyDelivery` looks at what Rally holds now (run/mirror.py), sends by the routes of plan.py
(creates in bulk or by upsert; updates merged field by field into Rally's records, stage
update.py) and records each settled record before the next batch, so a killed run's rerun
counts them unchanged. A dry run is the same step with another delivery (dry_run.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import polars as pl

from crmsync.api import ClientStats, RallyClient
from crmsync.config import Step
from crmsync.load import LoadMode, RecordOutcome, load_records
from crmsync.load.reconcile import list_since, listing_fields, match_listed
from crmsync.report.changes import ChangeLog
from crmsync.run.artifacts import (
    FP_ROW,
    HASH,
    KEY,
    KEYED,
    KNOWN_ID,
    Delivered,
    Plan,
    Settled,
)
from crmsync.run.ids import identity_frame
from crmsync.run.merge import written_fields
from crmsync.run.mirror import Mirror
from crmsync.run.observer import RunObserver
from crmsync.run.stages.plan import SKIP_EXISTS, TARGET_ID, Routes
from crmsync.run.stages.record import PAYLOAD_CHUNK, Recorder, RowValues, stream_payloads
from crmsync.run.stages.routing import (
    ROUTING,
    LoadStarted,
    routes_of,
    skipped_rows,
    update_targets,
)
from crmsync.run.stages.spool import Spool
from crmsync.run.stages.update import Merger, Row, rows_of, write_merged
from crmsync.schema import RallyObject
from crmsync.state import StepState
from crmsync.state.journal import Action

SKIP_GONE = "Rally no longer has this record; load.mode update_only never creates"


class RallyDelivery:
    """Sends a plan to Rally in the step's load mode (see plan.py's routing table)."""

    def __init__(
        self,
        client: RallyClient,
        *,
        step: Step,
        state: StepState,
        observer: RunObserver,
        resume_since: datetime | None,
        log: ChangeLog | None = None,
    ) -> None:
        self._client = client
        self._step = step
        self._load = step.load
        self._state = state
        self._observer = observer
        self._resume_since = resume_since
        self._log = log
        self._mirror = Mirror(step.rally_object, state)
        self._merger = Merger(step, state, self._mirror)
        self._sent = 0
        self._batches = 0  # sent by the parts before this one
        self._listed: dict[tuple[str, ...], list[dict[str, Any]]] = {}  # by _settle_unfinished
        self._claimed: set[str] = set()  # Rally ids rows of this load are known by

    async def deliver(self, plan: Plan, into: Delivered, started: LoadStarted) -> None:
        if plan.parts is None:
            into.settle_all(plan.unchanged, "unchanged")
        if not plan.to_send:
            started(0, 0)
            return
        before = self._client.stats.snapshot()
        try:
            only = None  # a resumed run settles what it created first: it lists
            if self._resume_since is None:
                only = update_targets(plan, self._mirror, self._load.mode)
            await self._mirror.look(self._client, only=only)
            if plan.parts is None:
                await self._whole(plan, into, started)
            else:
                await self._in_parts(plan, plan.parts, into, started)
        finally:
            _count(into, before, self._client.stats)

    async def _whole(self, plan: Plan, into: Delivered, started: LoadStarted) -> None:
        """The rows to send, at once: what an unfinished run created of them found first,
        so the count is what is sent."""
        todo = await self._settle_unfinished(plan, plan.todo, into)
        routes = routes_of(todo, self._mirror, self._load.mode)
        creates, updates = routes.create.height, routes.update.height
        started(creates + updates, -(-creates // self._load.batch_size))
        await self._part(Plan(plan.obj, todo, plan.columns), into, routes)

    async def _in_parts(
        self, plan: Plan, parts: Spool, into: Delivered, started: LoadStarted
    ) -> None:
        """The rows to send, a part at a time, after one count of them all (from the parts'
        routing columns alone)."""
        creates, updates = 0, 0
        for rows in parts.peek(ROUTING):
            counted = routes_of(rows, self._mirror, self._load.mode)
            creates, updates = creates + counted.create.height, updates + counted.update.height
            del counted
        started(creates + updates, -(-creates // self._load.batch_size))
        for part in plan.todo_parts(plan.frame):
            await self._part(part, into)

    def _recorder(self, obj: RallyObject, todo: pl.DataFrame) -> Recorder:
        values = identity_frame(todo, obj).with_columns(todo[KEY], todo[HASH])
        if FP_ROW in todo.columns:  # stored with the hash: the next run may skip the row
            values = values.with_columns(todo[FP_ROW])
        return Recorder(
            obj=obj.name,
            state=self._state,
            step=self._step.name,
            scope=self._state.object_scope(obj.name),
            values=RowValues(values),
        )

    async def _part(self, plan: Plan, into: Delivered, routes: Routes | None = None) -> None:
        """One part's rows sent (a big file's plan has several: each is held in turn); a
        part not yet `routes`d first settles what an unfinished run created of it."""
        recorder = self._recorder(plan.obj, plan.frame)
        try:
            if routes is None:
                todo = await self._settle_unfinished(plan, plan.frame, into)
                routes = routes_of(todo, self._mirror, self._load.mode)
            into.settled += skipped_rows(routes.skip)
            await self._send(plan, routes, into, recorder)
        finally:
            recorder.flush()

    async def _send(self, plan: Plan, routes: Routes, into: Delivered, recorder: Recorder) -> None:
        mode = self._load.mode
        hold = routes.merge_refused or mode == "create_only"
        refused = await self._create(plan, routes.create, routes.create_by, into, recorder, hold)
        with into.sending(refused):  # sent, and refused: settled by what comes next
            await self._after_create(plan, routes, refused, into, recorder)

    async def _after_create(
        self,
        plan: Plan,
        routes: Routes,
        refused: dict[int, RecordOutcome],
        into: Delivered,
        recorder: Recorder,
    ) -> None:
        """The updates, with the refused creates whose key Rally has; then what Rally no
        longer has created again."""
        mode = self._load.mode
        updates = rows_of(plan, routes.update)
        if refused:  # Rally had these keys after all: created meanwhile, or missed
            rows = routes.create.filter(pl.col("_row").is_in(list(refused)))
            if mode == "create_only":
                into.settle_all(rows, "skipped", error=SKIP_EXISTS)
            else:
                updates += self._found_after_all(plan, rows, refused, into)
        gone = await self._update(plan, updates, into, recorder)
        if not gone:
            return
        lost = pl.concat([routes.update, routes.create]).filter(pl.col("_row").is_in(gone))
        if mode == "update_only":
            into.settled += [Settled(row, "skipped", None, SKIP_GONE) for row in gone]
        else:  # deleted in Rally since crmsync wrote it: created again
            await self._create(plan, lost.drop(TARGET_ID), "bulk", into, recorder, hold=False)

    def _found_after_all(
        self,
        plan: Plan,
        rows: pl.DataFrame,
        refused: dict[int, RecordOutcome],
        into: Delivered,
    ) -> list[Row]:
        """Rows a bulk refused: those whose key Rally has are merged into its record; the
        refusal of the others stands."""
        found = self._mirror.ids_of(rows[KEY].to_list())
        targets = rows.with_columns(
            pl.col(KEY).replace_strict(found, default=None, return_dtype=pl.String).alias(TARGET_ID)
        )
        missing = targets.filter(pl.col(TARGET_ID).is_null())["_row"].to_list()
        into.settled += [_settled(refused[row]) for row in missing]
        return rows_of(plan, targets.filter(pl.col(TARGET_ID).is_not_null()))

    async def _create(
        self,
        plan: Plan,
        rows: pl.DataFrame,
        mode: LoadMode,
        into: Delivered,
        recorder: Recorder,
        hold: bool,
    ) -> dict[int, RecordOutcome]:
        """Create `rows` through `mode`; returns the keyed rows Rally refused when `hold`
        (their outcome is the caller's), the refusals of keyless rows standing."""
        if rows.is_empty():
            return {}
        offset = self._sent
        held: dict[int, RecordOutcome] = {}
        keyed = set(rows.filter(pl.col(KEYED))["_row"].to_list()) if hold else set()
        sent: dict[int, dict[str, Any]] = {}

        def items() -> Iterator[tuple[int, dict[str, Any]]]:
            for start in range(0, rows.height, PAYLOAD_CHUNK):
                chunk = rows.slice(start, PAYLOAD_CHUNK)
                recorder.values.remember(chunk["_row"])  # their keys, taken in one piece
                for row, payload in stream_payloads(chunk, plan.columns):
                    sent[row] = payload
                    yield row, payload

        def on_outcome(outcome: RecordOutcome) -> None:
            payload = sent.pop(outcome.key, {})
            if outcome.key in keyed and outcome.status == "failed":
                held[outcome.key] = outcome
                return
            settled = _settled(outcome)
            into.settled.append(settled)
            if outcome.status == "failed" or outcome.rally_id is None:
                recorder.add(settled)
                return
            action: Action = "created" if outcome.status == "created" else "updated"
            recorder.add(settled, written=payload, created=action)

        batched = self._batches

        def on_progress(records: int, batches: int) -> None:
            recorder.flush()
            self._batches = batched + batches
            self._client.timeline.settled(offset + records)
            self._observer.load_progress(offset + records, self._batches)

        def on_unsent(rows: list[int]) -> None:  # cancelled before their request left
            for row in rows:
                sent.pop(row, None)

        with into.sending(sent):  # pulled for a request, no outcome yet
            await load_records(
                self._client,
                plan.obj,
                items(),
                self._load.settings(mode),
                on_progress=on_progress,
                on_outcome=on_outcome,
                on_unsent=on_unsent,
            )
        self._sent += rows.height
        return held

    async def _update(
        self, plan: Plan, rows: list[Row], into: Delivered, recorder: Recorder
    ) -> list[int]:
        if not rows:
            return []

        def progress(records: int) -> None:
            self._sent += records
            self._client.timeline.settled(self._sent)
            self._observer.load_progress(self._sent, 0)

        return await write_merged(
            self._client,
            self._merger,
            rows,
            into=into,
            recorder=recorder,
            log=self._log,
            step=self._step.name,
            scope=self._state.object_scope(plan.obj.name),
            progress=progress,
        )

    async def _settle_unfinished(
        self, plan: Plan, todo: pl.DataFrame, into: Delivered
    ) -> pl.DataFrame:
        """After a run that did not finish, find the keyless records it created but never
        recorded (killed between Rally's answer and the record) before sending them again:
        without a key nothing else would stop a second copy. Matched by content among what
        Rally stored since that run started (listed once for all the parts of a plan);
        returns the rows still to send."""
        keyless = todo.filter(~pl.col(KEYED))
        if self._resume_since is None or keyless.is_empty():
            return todo
        rows = keyless["_row"].to_list()
        payloads = [payload for _, payload in stream_payloads(keyless, plan.columns)]
        fields = tuple(listing_fields(payloads))
        if (listed := self._listed.get(fields)) is None:
            listed = await list_since(self._client, plan.obj, self._resume_since, fields)
            self._listed[fields] = listed
        self._claimed |= set(todo[KNOWN_ID].drop_nulls().to_list())
        found = match_listed(payloads, listed, exclude_ids=self._claimed)
        recorder = self._recorder(plan.obj, keyless)
        settled = []
        for row, payload, rally_id in zip(rows, payloads, found, strict=True):
            if rally_id is None:
                continue
            outcome = Settled(row, "created", rally_id)
            into.settled.append(outcome)
            recorder.add(outcome, written=written_fields(payload))
            settled.append(row)
            self._claimed.add(rally_id)
        recorder.flush()
        if not settled:
            return todo
        self._observer.stage(
            "resume", f"{len(settled)} records the unfinished run created, found in Rally"
        )
        return todo.filter(~pl.col("_row").is_in(settled))


def _settled(outcome: RecordOutcome) -> Settled:
    return Settled(outcome.key, outcome.status, outcome.rally_id, outcome.error)


def _count(into: Delivered, before: ClientStats, after: ClientStats) -> None:
    into.requests += after.requests - before.requests
    into.retries += after.retries - before.retries
    into.rate_limited += after.rate_limited - before.rate_limited
