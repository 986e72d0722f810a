"""The dry run's delivery: sends nothing, and says what it would write, field by field.

It looks at Rally as a real delivery does and routes the plan the same way, so a dry run is
the same step with another delivery.
"""

from __future__ import annotations

import polars as pl

from crmsync.api import RallyClient
from crmsync.config import Step
from crmsync.frame_json import field_counts, has_empty, json_objects
from crmsync.report.changes import ChangeLog
from crmsync.report.files import payload_line
from crmsync.report.outcomes import Outcome
from crmsync.run.artifacts import KEY, Delivered, Plan, Settled
from crmsync.run.ids import IdIndex, identities
from crmsync.run.mirror import Mirror
from crmsync.run.stages.routing import LoadStarted, routes_of, skipped_rows, update_targets
from crmsync.run.stages.update import Merger, rows_of
from crmsync.state import StepState


class DryRunDelivery:
    """Sends nothing: unchanged rows stay unchanged, skipped ones are skipped, the rest are
    `planned`, with the fields they would write in plan.csv and their payloads in
    payloads.ndjson; placeholder ids let the dry run's later steps resolve what it would create."""

    def __init__(
        self,
        step: Step,
        state: StepState,
        ids: IdIndex,
        client: RallyClient | None,
        log: ChangeLog,
        *,
        learn: bool = True,
    ) -> None:
        self._step = step
        self._state = state
        self._ids = ids
        self._client = client
        self._log = log
        self._learn = learn  # placeholders for a later step that looks these records up
        self._mirror = Mirror(step.rally_object, state)

    async def deliver(self, plan: Plan, into: Delivered, started: LoadStarted) -> None:
        if plan.parts is None:
            into.settle_all(plan.unchanged, "unchanged")
        todo = plan.todo if plan.parts is None else plan.frame
        if plan.to_send and self._client is not None:
            only = update_targets(plan, self._mirror, self._step.load.mode)
            await self._mirror.look(self._client, only=only)
        self._log.add_payloads(pl.Series("json", [], pl.String))  # none is still a file
        for part in plan.todo_parts(todo):
            self._part(part, into)

    def _part(self, plan: Plan, into: Delivered) -> None:
        """One part's rows to send, planned; its payloads written, creates then updates."""
        routes = routes_of(plan.frame, self._mirror, self._step.load.mode)
        into.settled += skipped_rows(routes.skip)
        creates = routes.create
        if self._learn:
            for kind, by_row in identities(creates, plan.obj).items():
                placeholder = {
                    key: f"(new {plan.obj.name} row {row})" for row, key in by_row.items()
                }
                self._ids.learn(plan.obj.name, kind, placeholder)
        into.settle_all(creates, "planned")
        payloads = json_objects(creates, plan.columns)
        self._log.add_payloads(payloads)
        # what a record written whole sets: its payload, unless a value in it is empty
        written = payloads
        if has_empty(creates, plan.columns):
            written = json_objects(creates, plan.columns, drop_empty=True)
        self._log.add_created(
            creates.select(
                "_source",
                "_row",
                written.alias("to"),
                field_counts(creates, plan.columns, drop_empty=True).alias("fields"),
            )
        )
        del written, payloads
        updated: list[str] = []
        merger = Merger(self._step, self._state, self._mirror)
        keys = dict(routes.update.select("_row", KEY).iter_rows())
        for update, merged in merger.merge(rows_of(plan, routes.update), keys):
            if (why := merger.held_back(merged)) is not None:
                into.settled.append(Settled(update.row, "skipped", update.target, why))
                continue
            self._log.add(update.source, update.row, update.target, merged.changes)
            outcome: Outcome = "planned" if merged.writes else "unchanged"
            into.settled.append(Settled(update.row, outcome, update.target))
            if merged.writes:
                into.would_update += 1
                updated.append(payload_line(merged.record))
        self._log.add_payloads(pl.Series("json", updated, dtype=pl.String))
