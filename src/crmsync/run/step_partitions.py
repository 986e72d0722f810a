"""A step whose big file went to partitions: each partition deduped and planned alone.

The rows Rally already has as they are settle unchanged partition by partition and are let
go of; only the rows to send are kept, in the file's order, for one delivery. A nightly rerun
of a big file thus holds one partition at a time, not the file.

A step that resolves references, or a step of companies (found by name as well as by
domain), looks keys up across the whole file: it plans the file as one, as does an export, a
first load and a `--full` run (every row is sent: nothing would be let go of).
"""

from __future__ import annotations

import polars as pl

from crmsync.config import Step
from crmsync.run.artifacts import KNOWN_ID, Delivered, Plan, Transformed
from crmsync.run.files import FileDestination
from crmsync.run.ledger import OutcomeLedger
from crmsync.run.stages.adopt import COMPANIES
from crmsync.run.stages.partitions import Partitions
from crmsync.run.stages.pieces import ReadInPieces
from crmsync.run.stages.plan import payload_columns
from crmsync.run.stages.transform import deduped, failures
from crmsync.run.step_rally import Planned, plan_rows
from crmsync.run.step_run import StepRun


def partitioned(step: Step, env: StepRun) -> bool:
    """Whether the step dedupes and plans its rows a partition at a time: it may, and some
    of its rows may be unchanged (a first load sends every row: partitions would only cost
    time)."""
    return not (
        isinstance(env.destination, FileDestination)
        or step.lookups
        or step.rally_object.name == COMPANIES
        or env.options.full
        or not env.state.any_accepted()
    )


def plan_in_partitions(
    step: Step,
    env: StepRun,
    parts: Partitions,
    read: ReadInPieces,
    ledger: OutcomeLedger,
    delivered: Delivered,
) -> tuple[Transformed, Planned]:
    """Every partition deduped and planned (its merges into `ledger`, its unchanged rows
    into `delivered`): the rows to send as one plan, and the transform's account."""
    obj = step.rally_object
    failed = failures(read.issues)
    accepted = env.state.accepted()
    todo: list[pl.DataFrame] = []
    planned_rows, merged = 0, None
    for rows in parts.parts():
        kept = deduped(rows, failed.rows, step, read.columns)
        del rows
        ledger.record(kept.outcomes)
        if kept.merged is not None:
            merged = (merged or 0) + kept.merged
        planned = plan_rows(step, env, kept.frame, accepted)
        delivered.settle_all(planned.unchanged, "unchanged", rally_id=KNOWN_ID)
        todo.append(planned.todo)
        planned_rows += kept.frame.height
    frame = pl.concat(todo, how="diagonal_relaxed").sort("_row", maintain_order=True)
    ahead = Planned(Plan(obj, frame, payload_columns(frame, obj)), planned_rows)
    transformed = Transformed(frame, failed.outcomes, failed.warnings, failed.rows.height, merged)
    return transformed, ahead
