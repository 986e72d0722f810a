"""Getting one step's records into Rally: plan what changed, send it the way the load mode
says, and make every acknowledged batch durable before the next.

    new        bulk (auto, bulk) or upsert; in auto a bulk refusal of a keyed record is
               retried once through upsert, which settles "created since" either way
    changed    upsert by key (auto, upsert), or PUT by the stored id when there is no key;
               a 404 there means the record was deleted in Rally: it is created again
    unchanged  not sent; counted as unchanged with the id Rally gave it before
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from crmsync.errors import CrmsyncError
from crmsync.load import LoadSettings, RallyClient, RecordOutcome, RequestRefused, load_records
from crmsync.load.reconcile import list_since, listing_fields, match_listed
from crmsync.plan import ACTION, HASH, KEY, KNOWN_ID, Checkpointer, plan
from crmsync.references import normalize_key

if TYPE_CHECKING:
    from crmsync.config import Step
    from crmsync.report import RunSummary
    from crmsync.step import RunContext

SOURCE_ID_COLUMN = "_source_id"
NOT_FOUND = 404
LIST_PAGE = 100
DEFAULT_MAX_CONCURRENCY = 16
PUT_BACKLOG = 64  # updates queued at the client at once
Items = list[tuple[int, dict[str, Any]]]


def to_payloads(frame: pl.DataFrame, columns: Sequence[str]) -> Items:
    """(row, JSON-ready record) pairs; nulls are left out rather than sent as null."""
    rows = frame.select(["_row", *columns]).to_dicts()
    return [
        (row.pop("_row"), {key: value for key, value in row.items() if value is not None})
        for row in rows
    ]


def load_settings(step: Step, mode: str) -> LoadSettings:
    cfg = step.load
    return LoadSettings(
        mode=mode,  # type: ignore[arg-type]
        batch_size=cfg.batch_size,
        concurrency=cfg.concurrency,
        max_concurrency=cfg.max_concurrency or max(DEFAULT_MAX_CONCURRENCY, cfg.concurrency),
        max_retries=cfg.max_retries,
        max_backoff_s=cfg.max_backoff_s,
        connect_timeout_s=cfg.connect_timeout_s,
        read_timeout_s=cfg.read_timeout_s,
    )


def identities(
    frame: pl.DataFrame, obj_name: str, match_key: str | None
) -> dict[str, dict[int, str]]:
    """Per id-map kind, row -> key: the match key, a company's name, the source id, and the
    content hash (the fingerprint of records without a match key)."""
    rows = frame["_row"].to_list()

    def by_row(values: pl.Series) -> dict[int, str]:
        return {r: k for r, k in zip(rows, values.to_list(), strict=True) if k}

    out: dict[str, dict[int, str]] = {}
    if match_key and match_key in frame.columns:
        out[match_key] = by_row(
            normalize_key(frame[match_key], "email" if match_key == "email" else "domain")
        )
    if obj_name == "companies" and "name" in frame.columns:
        out["name"] = by_row(normalize_key(frame["name"], "name"))
    if SOURCE_ID_COLUMN in frame.columns:
        out["source_id"] = by_row(frame[SOURCE_ID_COLUMN])
    keyed = out.get(match_key or "", {})
    out["fingerprint"] = {r: h for r, h in by_row(frame[HASH]).items() if r not in keyed}
    return out


def step_scope(ctx: RunContext, step: Step) -> str:
    """Where a step's row hashes live in the state DB: per destination and step."""
    return ctx.scoped(f"step:{step.name}")


def plan_step(
    ctx: RunContext, step: Step, frame: pl.DataFrame, columns: Sequence[str]
) -> pl.DataFrame:
    """The frame planned against what the state DB says Rally last accepted for this step."""
    source_id = SOURCE_ID_COLUMN if SOURCE_ID_COLUMN in frame.columns else None
    return plan(
        frame,
        columns,
        ctx.state.get_hashes(step_scope(ctx, step)),
        match_key=step.rally_object.match_key,
        source_id=source_id,
        full=ctx.options.full,
    )


class Delivery:
    """One step's load against one client; `run` returns an outcome for every row."""

    def __init__(
        self,
        ctx: RunContext,
        step: Step,
        client: RallyClient,
        summary: RunSummary,
        columns: Sequence[str],
    ) -> None:
        self.ctx = ctx
        self.step = step
        self.obj = step.rally_object
        self.client = client
        self.summary = summary
        self.columns = list(columns)
        self.outcomes: list[RecordOutcome] = []
        self.sent = 0

    @property
    def step_scope(self) -> str:
        return step_scope(self.ctx, self.step)

    def planned(self, frame: pl.DataFrame) -> pl.DataFrame:
        return plan_step(self.ctx, self.step, frame, self.columns)

    async def run(self, frame: pl.DataFrame, on_load_start: Callable[[int, int], None]) -> None:
        planned = self.planned(frame)
        unchanged = planned.filter(pl.col(ACTION) == "unchanged")
        self.outcomes += [
            RecordOutcome(key=row, status="unchanged", rally_id=rally_id, error=None)
            for row, rally_id in unchanged.select("_row", KNOWN_ID).iter_rows()
        ]
        todo = planned.filter(pl.col(ACTION) != "unchanged")
        items = to_payloads(todo, self.columns)
        batches = -(-len(items) // self.step.load.batch_size)
        on_load_start(len(items), batches)
        if not items:
            return
        checkpoint = Checkpointer(
            state=self.ctx.state,
            step_scope=self.step_scope,
            object_scope=self.ctx.scoped(self.obj.name),
            run_id=self.ctx.run_id,
            keys=dict(todo.select("_row", KEY).iter_rows()),
            hashes=dict(todo.select("_row", HASH).iter_rows()),
            identities=identities(todo, self.obj.name, self.obj.match_key),
        )
        self.checkpoint = checkpoint
        try:
            items = await self._settle_unfinished(planned, items)
            await self._send_by_mode(
                todo.filter(pl.col("_row").is_in([r for r, _ in items])), items
            )
        finally:
            checkpoint.flush()
            for kind, pairs in checkpoint.settled.items():
                self.ctx.maps.get(self.obj.name, kind).update(pairs)

    async def _settle_unfinished(self, planned: pl.DataFrame, items: Items) -> Items:
        """After a run that did not finish, find the keyless records it created but never
        recorded (killed between Rally's answer and the checkpoint) before sending them again:
        without a key nothing else would stop a second copy. Matched by content among what
        Rally stored since that run started; returns the items still to send."""
        since = self.ctx.resume_since
        key = self.obj.match_key
        keyless = [(row, p) for row, p in items if not (key and p.get(key))]
        if since is None or not keyless:
            return items
        payloads = [payload for _, payload in keyless]
        listed = await list_since(self.client, self.obj, since, listing_fields(payloads))
        self.summary.requests += -(-len(listed) // LIST_PAGE) or 1
        owned = {rid for rid in planned[KNOWN_ID].drop_nulls().to_list()}
        found = match_listed(payloads, listed, exclude_ids=owned)
        settled = set()
        for (row, _), rally_id in zip(keyless, found, strict=True):
            if rally_id is None:
                continue
            outcome = RecordOutcome(row, "created", rally_id, None, reconciled=True)
            self.outcomes.append(outcome)
            self.checkpoint.add(outcome)
            settled.add(row)
        self.checkpoint.flush()
        if settled:
            self.ctx.observer.stage(
                "resume", f"{len(settled)} records the unfinished run created, found in Rally"
            )
        return [item for item in items if item[0] not in settled]

    async def _send_by_mode(self, todo: pl.DataFrame, items: Items) -> None:
        mode, key = self.step.load.mode, self.obj.match_key
        if mode != "auto":
            await self._send(items, mode)
            return
        action = dict(todo.select("_row", ACTION).iter_rows())
        known_id = dict(todo.select("_row", KNOWN_ID).iter_rows())
        keyed = {row for row, payload in items if key and payload.get(key)}
        new = [
            item
            for item in items
            if action[item[0]] == "new" or (item[0] not in keyed and not known_id[item[0]])
        ]
        changed_keyed = [
            item for item in items if action[item[0]] == "changed" and item[0] in keyed
        ]
        changed_by_id = [
            item
            for item in items
            if action[item[0]] == "changed" and item[0] not in keyed and known_id[item[0]]
        ]
        refused = await self._send(new, "bulk")
        retry = [item for item in new if item[0] in refused and item[0] in keyed]
        await self._send(changed_keyed + retry, "upsert")
        deleted = await self._update_by_id(changed_by_id, known_id)
        await self._send(deleted, "bulk")

    async def _send(self, items: Items, mode: str) -> set[int]:
        """Load `items` in `mode`; returns the rows that failed (their outcomes are kept back
        when the caller may retry them, see _send_by_mode)."""
        if not items:
            return set()
        offset = self.sent
        observer = self.ctx.observer
        checkpoint = self.checkpoint
        held: list[RecordOutcome] = []
        retryable = self.step.load.mode == "auto" and mode == "bulk"

        def on_outcome(outcome: RecordOutcome) -> None:
            if retryable and outcome.status == "failed":
                held.append(outcome)
                return
            self.outcomes.append(outcome)
            checkpoint.add(outcome)

        def on_progress(records: int, batches: int) -> None:
            checkpoint.flush()
            observer.load_progress(offset + records, batches)

        result = await load_records(
            self.client,
            self.obj,
            items,
            load_settings(self.step, mode),
            on_progress=on_progress,
            on_outcome=on_outcome,
        )
        self.sent += len(items)
        self.summary.requests += result.requests
        self.summary.retries += result.retries
        self.summary.rate_limited += result.rate_limited
        keyed = {
            row for row, payload in items if self.obj.match_key and payload.get(self.obj.match_key)
        }
        # a refused record without a key cannot be retried through upsert: its refusal stands
        self.outcomes += [o for o in held if o.key not in keyed]
        return {o.key for o in held}

    async def _update_by_id(self, items: Items, known_id: dict[int, str | None]) -> Items:
        """PUT each changed keyless record by its stored id; returns those Rally no longer has."""
        gone: Items = []
        limit = asyncio.Semaphore(PUT_BACKLOG)  # the client's own cap paces the requests

        async def update(row: int, payload: dict[str, Any]) -> None:
            rally_id = known_id[row]
            assert rally_id is not None
            async with limit:
                self.summary.requests += 1
                try:
                    await self.client.update(self.obj, rally_id, payload)
                except RequestRefused as exc:
                    if exc.status == NOT_FOUND:
                        gone.append((row, payload))
                        return
                    outcome = RecordOutcome(row, "failed", None, exc.detail, exc.status)
                except CrmsyncError as exc:
                    outcome = RecordOutcome(row, "failed", None, str(exc), None)
                else:
                    outcome = RecordOutcome(row, "updated", rally_id, None)
            self.outcomes.append(outcome)
            self.checkpoint.add(outcome)

        await asyncio.gather(*(update(row, payload) for row, payload in items))
        self.checkpoint.flush()
        return gone
