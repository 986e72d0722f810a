"""Deliver: what a plan says to send, sent, and every acknowledged batch made durable.

Two deliveries share the `Delivery` protocol: `RallyDelivery` sends through the routes of
plan.py and records each settled record in the state database before the next batch (a
killed run's rerun then counts them unchanged); `DryRunDelivery` sends nothing and says what
it would send, so a dry run is the same step with another delivery.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import polars as pl

from crmsync.api import RallyClient
from crmsync.config import LoadConfig
from crmsync.errors import CrmsyncError, RequestRefused
from crmsync.load import LoadMode, RecordOutcome, load_records
from crmsync.load.reconcile import list_since, listing_fields, match_listed
from crmsync.run.artifacts import HASH, KEY, KEYED, KNOWN_ID, Delivered, Plan, Settled
from crmsync.run.ids import IdIndex, identities
from crmsync.run.observer import RunObserver
from crmsync.run.stages.plan import route
from crmsync.state import StepState

NOT_FOUND = 404
LIST_PAGE = 100
PUT_BACKLOG = 64  # updates queued at the client at once
# Rows turned into payload dicts at a time: 100 bulk batches, so the loader's workers never
# wait for the next batch, and a fraction of the memory of a whole big file's dicts.
PAYLOAD_CHUNK = 10_000
Item = tuple[int, dict[str, Any]]
LoadStarted = Callable[[int, int], None]  # (records to send, batches)


def stream_payloads(
    frame: pl.DataFrame, columns: Sequence[str], chunk: int = PAYLOAD_CHUNK
) -> Iterator[Item]:
    """(row, JSON-ready record) pairs a slice at a time, nulls left out rather than sent as
    null: a million-row load holds one chunk of dicts, not all."""
    names = ["_row", *columns]
    for start in range(0, frame.height, chunk):
        for row in frame.slice(start, chunk).select(names).to_dicts():
            yield row.pop("_row"), {key: value for key, value in row.items() if value is not None}


class Delivery(Protocol):
    """Sends a plan's records (or not) and fills `into` as they settle."""

    async def deliver(self, plan: Plan, into: Delivered, started: LoadStarted) -> None: ...


class DryRunDelivery:
    """Sends nothing: unchanged rows stay unchanged, the rest are `planned`, their payloads
    kept for the report, and placeholder ids let the dry run's later steps resolve them."""

    def __init__(self, ids: IdIndex) -> None:
        self._ids = ids

    async def deliver(self, plan: Plan, into: Delivered, started: LoadStarted) -> None:
        todo = plan.todo
        for kind, by_row in identities(todo, plan.obj).items():
            placeholder = {key: f"(new {plan.obj.name} row {row})" for row, key in by_row.items()}
            self._ids.learn(plan.obj.name, kind, placeholder)
        unchanged = plan.unchanged.select("_row", KNOWN_ID).iter_rows()
        into.settled += [Settled(row, "unchanged", rally_id) for row, rally_id in unchanged]
        into.settled += [Settled(row, "planned", None) for row in todo["_row"]]
        into.payloads = [payload for _, payload in stream_payloads(todo, plan.columns)]


@dataclass
class _Recorder:
    """Settled records, made durable in batches: the step's state and the run's id maps."""

    obj: str
    state: StepState
    ids: IdIndex
    keys: dict[int, str]  # row -> planner key
    hashes: dict[int, str]  # row -> payload hash
    identities: dict[str, dict[int, str]]  # id-map kind -> row -> key
    pending: list[Settled] = field(default_factory=list)

    def add(self, settled: Settled) -> None:
        self.pending.append(settled)

    def flush(self) -> None:
        """Write what settled since the last flush (called after each batch)."""
        done = [s for s in self.pending if s.outcome != "failed" and s.rally_id]
        self.pending.clear()
        if not done:
            return
        accepted = [(self.keys[s.row], self.hashes[s.row], s.rally_id) for s in done]
        by_kind: dict[str, list[tuple[str, str]]] = {}
        for kind, by_row in self.identities.items():
            pairs = [(by_row[s.row], s.rally_id) for s in done if s.row in by_row and s.rally_id]
            if pairs:
                by_kind[kind] = pairs
                self.ids.learn(self.obj, kind, dict(pairs))
        self.state.settle(self.obj, accepted, by_kind)


def _settled(outcome: RecordOutcome) -> Settled:
    return Settled(outcome.key, outcome.status, outcome.rally_id, outcome.error)


class RallyDelivery:
    """Sends a plan to Rally in the step's load mode (see plan.py's routing table)."""

    def __init__(
        self,
        client: RallyClient,
        *,
        load: LoadConfig,
        state: StepState,
        ids: IdIndex,
        observer: RunObserver,
        resume_since: datetime | None,
    ) -> None:
        self._client = client
        self._load = load
        self._state = state
        self._ids = ids
        self._observer = observer
        self._resume_since = resume_since
        self._sent = 0

    async def deliver(self, plan: Plan, into: Delivered, started: LoadStarted) -> None:
        into.settled += [
            Settled(row, "unchanged", rally_id)
            for row, rally_id in plan.unchanged.select("_row", KNOWN_ID).iter_rows()
        ]
        todo = plan.todo
        started(todo.height, -(-todo.height // self._load.batch_size))
        if todo.is_empty():
            return
        recorder = _Recorder(
            obj=plan.obj.name,
            state=self._state,
            ids=self._ids,
            keys=dict(todo.select("_row", KEY).iter_rows()),
            hashes=dict(todo.select("_row", HASH).iter_rows()),
            identities=identities(todo, plan.obj),
        )
        try:
            todo = await self._settle_unfinished(plan, todo, into, recorder)
            routes = route(todo, self._load.mode)
            refused = await self._send(
                plan,
                routes.bulk,
                "bulk",
                into,
                recorder,
                hold_refusals=routes.refused_bulk_retries_by_upsert,
            )
            retry = routes.bulk.filter(pl.col("_row").is_in(refused) & pl.col(KEYED))
            await self._send(plan, pl.concat([routes.upsert, retry]), "upsert", into, recorder)
            gone = await self._update_by_id(plan, routes.by_id, into, recorder)
            await self._send(plan, gone, "bulk", into, recorder)
        finally:
            recorder.flush()

    async def _settle_unfinished(
        self, plan: Plan, todo: pl.DataFrame, into: Delivered, recorder: _Recorder
    ) -> pl.DataFrame:
        """After a run that did not finish, find the keyless records it created but never
        recorded (killed between Rally's answer and the record) before sending them again:
        without a key nothing else would stop a second copy. Matched by content among what
        Rally stored since that run started; returns the rows still to send."""
        keyless = todo.filter(~pl.col(KEYED))
        if self._resume_since is None or keyless.is_empty():
            return todo
        rows = keyless["_row"].to_list()
        payloads = [payload for _, payload in stream_payloads(keyless, plan.columns)]
        listed = await list_since(
            self._client, plan.obj, self._resume_since, listing_fields(payloads)
        )
        into.requests += -(-len(listed) // LIST_PAGE) or 1
        owned = set(todo[KNOWN_ID].drop_nulls().to_list())
        found = match_listed(payloads, listed, exclude_ids=owned)
        settled = []
        for row, rally_id in zip(rows, found, strict=True):
            if rally_id is None:
                continue
            outcome = Settled(row, "created", rally_id)
            into.settled.append(outcome)
            recorder.add(outcome)
            settled.append(row)
        recorder.flush()
        if not settled:
            return todo
        self._observer.stage(
            "resume", f"{len(settled)} records the unfinished run created, found in Rally"
        )
        return todo.filter(~pl.col("_row").is_in(settled))

    async def _send(
        self,
        plan: Plan,
        todo: pl.DataFrame,
        mode: LoadMode,
        into: Delivered,
        recorder: _Recorder,
        *,
        hold_refusals: bool = False,
    ) -> list[int]:
        """Load `todo`'s rows in `mode`; returns the rows refused. With `hold_refusals`, the
        refusal of a keyed row is not an outcome yet: the caller retries it by upsert."""
        if todo.is_empty():
            return []
        offset = self._sent
        held: list[RecordOutcome] = []

        def on_outcome(outcome: RecordOutcome) -> None:
            if hold_refusals and outcome.status == "failed":
                held.append(outcome)
                return
            settled = _settled(outcome)
            into.settled.append(settled)
            recorder.add(settled)

        def on_progress(records: int, batches: int) -> None:
            recorder.flush()
            self._observer.load_progress(offset + records, batches)

        result = await load_records(
            self._client,
            plan.obj,
            stream_payloads(todo, plan.columns),
            self._load.settings(mode),
            on_progress=on_progress,
            on_outcome=on_outcome,
        )
        self._sent += todo.height
        into.requests += result.requests
        into.retries += result.retries
        into.rate_limited += result.rate_limited
        keyed = set(todo.filter(pl.col(KEYED))["_row"].to_list()) if held else set()
        # a refused record without a key cannot be retried through upsert: its refusal stands
        into.settled += [_settled(o) for o in held if o.key not in keyed]
        return [o.key for o in held]

    async def _update_by_id(
        self, plan: Plan, todo: pl.DataFrame, into: Delivered, recorder: _Recorder
    ) -> pl.DataFrame:
        """PUT each changed keyless record by its stored id; returns those Rally no longer has."""
        gone: list[int] = []
        limit = asyncio.Semaphore(PUT_BACKLOG)  # the client's own cap paces the requests
        known_id = dict(todo.select("_row", KNOWN_ID).iter_rows())

        async def update(row: int, payload: dict[str, Any]) -> None:
            rally_id = known_id[row]
            assert rally_id is not None
            async with limit:
                into.requests += 1
                try:
                    await self._client.update(plan.obj, rally_id, payload)
                except RequestRefused as exc:
                    if exc.status == NOT_FOUND:
                        gone.append(row)
                        return
                    outcome = Settled(row, "failed", None, exc.detail)
                except CrmsyncError as exc:
                    outcome = Settled(row, "failed", None, str(exc))
                else:
                    outcome = Settled(row, "updated", rally_id)
            into.settled.append(outcome)
            recorder.add(outcome)

        for start in range(0, todo.height, PAYLOAD_CHUNK):
            chunk = todo.slice(start, PAYLOAD_CHUNK)
            await asyncio.gather(*(update(*item) for item in stream_payloads(chunk, plan.columns)))
            recorder.flush()
        return todo.filter(pl.col("_row").is_in(gone))
