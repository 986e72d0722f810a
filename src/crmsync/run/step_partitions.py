"""A step whose big file went to partitions: each partition deduped, planned and delivered
alone.

The rows Rally already has as they are settle unchanged partition by partition and are let
go of; each partition's rows to send wait in a spool (on disk past a budget) and are sent a
partition at a time, after one count of them all. A first load or a nightly rerun of a big
file thus holds one partition at a time, not the file.

A step that resolves references, or a step of companies (found by name as well as by
domain), looks keys up across the whole file: it plans the file as one, as does an export.
"""

from __future__ import annotations

import polars as pl

from crmsync.config import Step
from crmsync.report.outcomes import IDENTITY
from crmsync.run.artifacts import Delivered, Plan, Transformed
from crmsync.run.files import FileDestination
from crmsync.run.ledger import OutcomeLedger
from crmsync.run.stages.adopt import COMPANIES
from crmsync.run.stages.partitions import Partitions
from crmsync.run.stages.pieces import ReadInPieces
from crmsync.run.stages.plan import payload_columns
from crmsync.run.stages.spool import Spool
from crmsync.run.stages.transform import deduped, failures
from crmsync.run.stages.unchanged import to_store, vouched
from crmsync.run.step_rally import Planned, plan_rows
from crmsync.run.step_run import StepRun


def partitioned(step: Step, env: StepRun) -> bool:
    """Whether the step dedupes, plans and delivers its rows a partition at a time: no key
    of it is looked up across the file."""
    return not (
        isinstance(env.destination, FileDestination)
        or step.lookups
        or step.rally_object.name == COMPANIES
    )


def plan_in_partitions(
    step: Step,
    env: StepRun,
    parts: Partitions,
    read: ReadInPieces,
    ledger: OutcomeLedger,
    delivered: Delivered,
    accepted: pl.DataFrame,
    known: list[pl.DataFrame],
) -> tuple[Transformed, Planned, Spool]:
    """Every partition deduped and planned against what Rally `accepted` (its merges into
    `ledger`, its unchanged rows into `delivered`, its rows to send into a spool), after the
    rows `known` unchanged unchecked (`_row`; let go of): the plan of the rows to send, part
    by part, the transform's account, and the source fingerprints to store once Rally holds
    the plan."""
    obj = step.rally_object
    failed = failures(read.issues)
    planned_rows, merged = 0, None
    while known:
        rows = known.pop(0)
        delivered.settle_all(rows, "unchanged")
        planned_rows += rows.height
    spool, prints = parts.spool("planned"), parts.spool("fingerprints")
    warned = failed.warnings.select(IDENTITY)
    rescued: list[pl.DataFrame] = []
    for rows in parts.parts():
        kept = deduped(rows, failed, step, read.columns)
        rescued.append(kept.rescued)
        ledger.record(kept.outcomes)
        if kept.merged is not None:
            merged = (merged or 0) + kept.merged
        planned = vouched(plan_rows(step, env, kept.frame, accepted), rows, warned)
        prints.add(to_store(planned))
        del rows
        delivered.settle_all(planned.unchanged, "unchanged")
        todo = planned.todo
        spool.add(todo)
        planned_rows += kept.frame.height
        del kept, planned, todo
    if rescued:
        failed = failed.without(pl.concat(rescued))
    frame = spool.shape.clear()
    plan = Plan(obj, frame, payload_columns(spool.shape, obj), parts=spool)
    transformed = Transformed(frame, failed.outcomes, failed.warnings, failed.rows.height, merged)
    return transformed, Planned(plan, planned_rows), prints
