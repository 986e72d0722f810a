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
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from crmsync.api import RallyClient
from crmsync.errors import CrmsyncError, RequestRefused
from crmsync.load import LoadSettings, RecordOutcome, load_records
from crmsync.load.reconcile import list_since, listing_fields, match_listed
from crmsync.plan import ACTION, HASH, KEY, KNOWN_ID, Checkpointer, plan
from crmsync.references import normalize_key

if TYPE_CHECKING:
    from crmsync.config import Step
    from crmsync.report import RunSummary
    from crmsync.step import RunContext

SOURCE_ID_COLUMN = "_source_id"
KEYED = "_keyed"  # the row has its object's match key: upsert can settle it
NOT_FOUND = 404
LIST_PAGE = 100
DEFAULT_MAX_CONCURRENCY = 16
PUT_BACKLOG = 64  # updates queued at the client at once
# Rows turned into payload dicts at a time: 100 bulk batches, so the loader's workers never
# wait for the next batch, and a fraction of the memory of a whole big file's dicts.
PAYLOAD_CHUNK = 10_000
Items = list[tuple[int, dict[str, Any]]]


def to_payloads(frame: pl.DataFrame, columns: Sequence[str]) -> Items:
    """(row, JSON-ready record) pairs; nulls are left out rather than sent as null."""
    return list(stream_payloads(frame, columns))


def stream_payloads(
    frame: pl.DataFrame, columns: Sequence[str], chunk: int = PAYLOAD_CHUNK
) -> Iterator[tuple[int, dict[str, Any]]]:
    """to_payloads a slice at a time: a million-row load holds one chunk of dicts, not all."""
    names = ["_row", *columns]
    for start in range(0, frame.height, chunk):
        for row in frame.slice(start, chunk).select(names).to_dicts():
            yield row.pop("_row"), {key: value for key, value in row.items() if value is not None}


def load_settings(step: Step, mode: str) -> LoadSettings:
    return step.load.settings(mode)  # type: ignore[arg-type]


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
        todo = planned.filter(pl.col(ACTION) != "unchanged").with_columns(
            self._keyed().alias(KEYED)
        )
        del planned, unchanged
        batches = -(-todo.height // self.step.load.batch_size)
        on_load_start(todo.height, batches)
        if todo.is_empty():
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
            todo = await self._settle_unfinished(todo)
            await self._send_by_mode(todo)
        finally:
            checkpoint.flush()
            for kind, pairs in checkpoint.settled.items():
                self.ctx.maps.get(self.obj.name, kind).update(pairs)

    def _keyed(self) -> pl.Expr:
        """Whether a row carries the object's match key (what makes upsert possible)."""
        key = self.obj.match_key
        if not key or key not in self.columns:
            return pl.lit(False)
        return pl.col(key).is_not_null() & (pl.col(key).cast(pl.String) != "")

    async def _settle_unfinished(self, todo: pl.DataFrame) -> pl.DataFrame:
        """After a run that did not finish, find the keyless records it created but never
        recorded (killed between Rally's answer and the checkpoint) before sending them again:
        without a key nothing else would stop a second copy. Matched by content among what
        Rally stored since that run started; returns the rows still to send."""
        since = self.ctx.resume_since
        keyless = todo.filter(~pl.col(KEYED))
        if since is None or keyless.is_empty():
            return todo
        rows = keyless["_row"].to_list()
        payloads = [payload for _, payload in stream_payloads(keyless, self.columns)]
        listed = await list_since(self.client, self.obj, since, listing_fields(payloads))
        self.summary.requests += -(-len(listed) // LIST_PAGE) or 1
        owned = set(todo[KNOWN_ID].drop_nulls().to_list())
        found = match_listed(payloads, listed, exclude_ids=owned)
        settled = []
        for row, rally_id in zip(rows, found, strict=True):
            if rally_id is None:
                continue
            outcome = RecordOutcome(row, "created", rally_id, None, reconciled=True)
            self.outcomes.append(outcome)
            self.checkpoint.add(outcome)
            settled.append(row)
        self.checkpoint.flush()
        if not settled:
            return todo
        self.ctx.observer.stage(
            "resume", f"{len(settled)} records the unfinished run created, found in Rally"
        )
        return todo.filter(~pl.col("_row").is_in(settled))

    async def _send_by_mode(self, todo: pl.DataFrame) -> None:
        mode = self.step.load.mode
        if mode != "auto":
            await self._send(todo, mode)
            return
        action, keyed, known = pl.col(ACTION), pl.col(KEYED), pl.col(KNOWN_ID).is_not_null()
        new = todo.filter((action == "new") | (~keyed & ~known))
        refused = await self._send(new, "bulk")
        retry = new.filter(pl.col("_row").is_in(refused) & keyed)
        del new
        await self._send(pl.concat([todo.filter((action == "changed") & keyed), retry]), "upsert")
        deleted = await self._update_by_id(todo.filter((action == "changed") & ~keyed & known))
        await self._send(deleted, "bulk")

    async def _send(self, todo: pl.DataFrame, mode: str) -> list[int]:
        """Load `todo`'s rows in `mode`; returns the rows that failed (their outcomes are kept
        back when the caller may retry them, see _send_by_mode)."""
        if todo.is_empty():
            return []
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
            stream_payloads(todo, self.columns),
            load_settings(self.step, mode),
            on_progress=on_progress,
            on_outcome=on_outcome,
        )
        self.sent += todo.height
        self.summary.requests += result.requests
        self.summary.retries += result.retries
        self.summary.rate_limited += result.rate_limited
        keyed = set(todo.filter(pl.col(KEYED))["_row"].to_list()) if held else set()
        # a refused record without a key cannot be retried through upsert: its refusal stands
        self.outcomes += [o for o in held if o.key not in keyed]
        return [o.key for o in held]

    async def _update_by_id(self, todo: pl.DataFrame) -> pl.DataFrame:
        """PUT each changed keyless record by its stored id; returns those Rally no longer has."""
        gone: list[int] = []
        limit = asyncio.Semaphore(PUT_BACKLOG)  # the client's own cap paces the requests
        known_id = dict(todo.select("_row", KNOWN_ID).iter_rows())

        async def update(row: int, payload: dict[str, Any]) -> None:
            rally_id = known_id[row]
            assert rally_id is not None
            async with limit:
                self.summary.requests += 1
                try:
                    await self.client.update(self.obj, rally_id, payload)
                except RequestRefused as exc:
                    if exc.status == NOT_FOUND:
                        gone.append(row)
                        return
                    outcome = RecordOutcome(row, "failed", None, exc.detail, exc.status)
                except CrmsyncError as exc:
                    outcome = RecordOutcome(row, "failed", None, str(exc), None)
                else:
                    outcome = RecordOutcome(row, "updated", rally_id, None)
            self.outcomes.append(outcome)
            self.checkpoint.add(outcome)

        for start in range(0, todo.height, PAYLOAD_CHUNK):
            chunk = todo.slice(start, PAYLOAD_CHUNK)
            await asyncio.gather(*(update(*item) for item in stream_payloads(chunk, self.columns)))
            self.checkpoint.flush()
        return todo.filter(pl.col("_row").is_in(gone))
