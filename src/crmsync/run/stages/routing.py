"""What both deliveries share: the protocol a step delivers a plan through, and the routing
of a plan's rows against what Rally holds now."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import polars as pl

from crmsync.run.artifacts import KEY, KEYED, KNOWN_ID, Delivered, Plan, Settled
from crmsync.run.mirror import Mirror
from crmsync.run.stages.plan import SKIP_REASON, TARGET_ID, Routes, route

LoadStarted = Callable[[int, int], None]  # (records to send, batches)


class Delivery(Protocol):
    """Sends a plan's records (or not) and fills `into` as they settle."""

    async def deliver(self, plan: Plan, into: Delivered, started: LoadStarted) -> None: ...


def skipped_rows(rows: pl.DataFrame) -> list[Settled]:
    """Rows the routing skips (load mode), each settled with its reason."""
    pairs = rows.select("_row", SKIP_REASON).iter_rows()
    return [Settled(row, "skipped", None, reason) for row, reason in pairs]


ROUTING = ["_row", KEY, KNOWN_ID, KEYED]  # the columns routing reads


def routes_of(todo: pl.DataFrame, mirror: Mirror, mode: Any) -> Routes:
    """`todo` routed, with the ids of the records Rally has among its keyed rows crmsync
    knows no id of."""
    if not mirror.holds_any():  # a first load into an empty tenant: nothing to look up
        return route(todo, mode, {})
    unknown = pl.col(KEY).filter(pl.col(KEYED) & pl.col(KNOWN_ID).is_null())
    keys = todo.select(unknown).to_series().to_list()  # the key alone, not every column
    return route(todo, mode, mirror.ids_of(keys) if keys else {})


# Past this many records to update, a step lists what changed rather than fetch them: that
# many GETs beat a listing only of ten million records or more, and their ids are held.
MOST_FETCHED = 100_000


def update_targets(plan: Plan, mirror: Mirror, mode: Any) -> list[str] | None:
    """The ids of the records `plan` updates, when each of its rows has a record crmsync
    knows and none would be created (routed from what the state holds, before any look at
    Rally: a look only finds more), and they are at most MOST_FETCHED; else None. Such a
    plan needs those records alone."""
    frames = plan.parts.peek(ROUTING) if plan.parts is not None else iter([plan.todo])
    ids: list[str] = []
    for rows in frames:
        routes = routes_of(rows, mirror, mode)
        if not routes.create.is_empty() or routes.skip[TARGET_ID].null_count():
            return None
        ids += routes.update[TARGET_ID].to_list()
        if len(ids) > MOST_FETCHED:
            return None
    return ids
