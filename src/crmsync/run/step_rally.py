"""The part of a step that may talk to Rally: lookups, a look at what Rally holds, the
delivery (or a dry run's account of it)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from crmsync.api import ClientStats, RallyClient
from crmsync.config import Step
from crmsync.errors import CrmsyncError
from crmsync.report.changes import ChangeLog
from crmsync.report.wording import counted
from crmsync.run.artifacts import Delivered, Plan, Transformed
from crmsync.run.destination import Destination
from crmsync.run.ledger import OutcomeLedger
from crmsync.run.stages.adopt import adopt_by_name, names_needed
from crmsync.run.stages.deliver import RallyDelivery
from crmsync.run.stages.dry_run import DryRunDelivery
from crmsync.run.stages.plan import plan
from crmsync.run.stages.resolve import needed_keys, resolve
from crmsync.run.stages.routing import Delivery
from crmsync.run.stages.update import policy_mark
from crmsync.run.step_run import StepRun

ISSUE_COLUMNS = ["_source", "_row", "field", "error"]
# said of a load stopped before any write could have changed Rally (each was refused)
NOTHING_WRITTEN = "; Rally refused every write, so nothing was written"


@dataclass(frozen=True)
class Planned:
    """A plan made ahead, a partition at a time (its unchanged rows already settled): the
    rows left to send, and how many rows were planned in all."""

    plan: Plan
    rows: int


async def resolve_and_deliver(
    step: Step,
    env: StepRun,
    rally: Destination,
    transformed: Transformed,
    ledger: OutcomeLedger,
    warnings: list[pl.DataFrame],
    delivered: Delivered,
    log: ChangeLog,
    ahead: Planned | None = None,
) -> None:
    """Everything that may talk to Rally: lookups, a look at what Rally holds, the delivery
    (of the plan made `ahead`, when one was). A dry run connects only when it has lookups to
    resolve (references, or a company known only by its name) or records to merge, and never
    when its destination is not set."""
    obj = step.rally_object
    looks_up = ahead is None and bool(step.lookups or names_needed(transformed.frame, obj))
    if env.options.dry_run and not (looks_up and rally.available):
        planned, _ = await _planned(step, env, transformed, None, ledger, warnings, ahead)
        if planned.todo.is_empty() or not rally.available:
            dry = DryRunDelivery(step, env.state, env.ids, None, log, learn=env.asked_later)
            await dry.deliver(planned, delivered, _no_load)
            return
        async with rally.connect(obj, step.load.settings("bulk")) as client:
            dry = DryRunDelivery(step, env.state, env.ids, client, log, learn=env.asked_later)
            await dry.deliver(planned, delivered, _no_load)
        return
    async with rally.connect(obj, step.load.settings("bulk")) as client:
        planned, planned_rows = await _planned(
            step, env, transformed, client, ledger, warnings, ahead
        )
        if env.options.dry_run:
            dry = DryRunDelivery(step, env.state, env.ids, client, log, learn=env.asked_later)
            await dry.deliver(planned, delivered, _no_load)
            return
        env.observer.stage("connect", f"Rally at {rally.base_url}")
        delivery: Delivery = RallyDelivery(
            client,
            step=step,
            state=env.state,
            observer=env.observer,
            resume_since=env.resume_since,
            log=log,
        )

        sending = False
        before = client.stats.snapshot()
        env.observer.load_watch(client.timeline)

        def started(records: int, batches: int) -> None:
            nonlocal sending
            sending = records > 0
            sent = counted(records, "record")
            env.observer.stage("plan", f"{planned_rows - records} unchanged, {sent} to send")
            env.observer.load_started(records, batches)

        try:
            await delivery.deliver(planned, delivered, started)
        except CrmsyncError as exc:
            if not sending:
                raise  # nothing was sent: the step could not start
            delivered.stopped = str(exc)
            if client.stats.writes_landed == before.writes_landed:
                delivered.stopped += NOTHING_WRITTEN
            _count_requests(delivered, client, before)
        finally:
            delivered.load = client.timeline.seconds()
            env.observer.load_finished()


def _count_requests(delivered: Delivered, client: RallyClient, before: ClientStats) -> None:
    """The requests a delivery cut short made: the loader had no chance to count them."""
    stats = client.stats
    delivered.requests = max(delivered.requests, stats.requests - before.requests)
    delivered.retries = max(delivered.retries, stats.retries - before.retries)
    delivered.rate_limited = max(delivered.rate_limited, stats.rate_limited - before.rate_limited)


async def _resolve(
    step: Step,
    env: StepRun,
    frame: pl.DataFrame,
    client: RallyClient | None,
    ledger: OutcomeLedger,
    warnings: list[pl.DataFrame],
) -> pl.DataFrame:
    """Reference fields filled in; rows whose references find nothing fail (stage resolve)."""
    needed = {**needed_keys(frame, step.lookups)}
    for key, names in names_needed(frame, step.rally_object).items():
        needed[key] = needed.get(key, set()) | names
    await env.ids.fill(needed, env.state, client, env.observer)
    if not step.lookups:
        return frame
    resolved = resolve(frame, step.lookups, env.ids)
    ledger.fail(resolved.failures, stage="resolve")
    warnings.append(resolved.warnings.select(ISSUE_COLUMNS))
    missing = resolved.failures.height + resolved.warnings.height
    env.observer.stage("resolve", f"{counted(missing, 'reference')} not found")
    return resolved.frame


async def _planned(
    step: Step,
    env: StepRun,
    transformed: Transformed,
    client: RallyClient | None,
    ledger: OutcomeLedger,
    warnings: list[pl.DataFrame],
    ahead: Planned | None,
) -> tuple[Plan, int]:
    """The plan made ahead, else the transformed rows resolved and planned: the plan and how
    many rows were planned."""
    if ahead is not None:
        return ahead.plan, ahead.rows
    frame = await _resolve(step, env, transformed.frame, client, ledger, warnings)
    return plan_rows(step, env, frame, env.state.accepted()), frame.height


def plan_rows(step: Step, env: StepRun, frame: pl.DataFrame, accepted: pl.DataFrame) -> Plan:
    """The step's rows planned against what Rally `accepted` (the whole read, or a part of
    it), under the step's update policies and run options."""
    mark = policy_mark(step)
    obj, ids = step.rally_object, env.state.accepted_ids
    options = env.options
    planned = plan(
        frame, obj, accepted, known_ids=ids, full=options.full, policy=mark, dry_run=options.dry_run
    )
    return adopt_by_name(planned, env.ids)


def _no_load(records: int, batches: int) -> None:
    """A dry run starts no load."""
