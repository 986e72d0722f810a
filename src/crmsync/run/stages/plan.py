"""Plan: which records are new, changed or unchanged since Rally last accepted them, and which
request each one goes out by.

Change detection hashes each payload (hashlib over canonical JSON, never polars' hash) and
compares it with the hash stored when Rally accepted the record. A record's identity is its
match key (email, domain), else the source system's id, else the hash of its content
(activities have no natural key: the same content is the same record).

Routing by load mode:

    mode    new rows                          changed rows
    bulk    POST /bulk                        POST /bulk (Rally refuses a duplicate key)
    upsert  PUT /upsert                       PUT /upsert
    auto    POST /bulk; a keyed row the       PUT /upsert by key; a row without one by its
            bulk refuses retries by upsert    stored id (PUT /{id}); a 404 there creates it
                                              again through POST /bulk

A row without a key and without a stored id is new to Rally whatever its hash says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import polars as pl

from crmsync.run.artifacts import ACTION, HASH, KEY, KEYED, KNOWN_ID, Plan
from crmsync.run.stages.adopt import name_identity
from crmsync.schema import RallyObject
from crmsync.state import payload_hashes

Mode = Literal["auto", "bulk", "upsert"]
SOURCE_ID_COLUMN = "_source_id"


def identity_key(frame: pl.DataFrame, match_key: str | None, source_id: str | None) -> pl.Expr:
    """The planner's key for each row: match key, else source id, else (a company) its name,
    else content hash."""
    parts: list[pl.Expr] = []
    if match_key and match_key in frame.columns:
        parts.append(pl.col(match_key).cast(pl.String).str.to_lowercase())
    if source_id and source_id in frame.columns:
        parts.append(pl.format("id:{}", pl.col(source_id)))
    parts += name_identity(frame, match_key)  # a company without a domain: its name
    parts.append(pl.format("hash:{}", pl.col(HASH)))
    return pl.coalesce(parts)


def payload_columns(frame: pl.DataFrame, obj: RallyObject) -> tuple[str, ...]:
    """The frame's columns that are fields of the object's request: what a payload holds."""
    fields = obj.wire_fields
    return tuple(name for name in frame.columns if name in fields)


def plan(
    frame: pl.DataFrame, obj: RallyObject, accepted: pl.DataFrame, *, full: bool = False
) -> Plan:
    """`frame` planned against `accepted` (match_key, payload_hash, rally_id: what Rally last
    accepted per record). With `full`, nothing counts as unchanged."""
    columns = payload_columns(frame, obj)
    source_id = SOURCE_ID_COLUMN if SOURCE_ID_COLUMN in frame.columns else None
    hashed = frame.with_columns(payload_hashes(frame, columns).alias(HASH))
    keyed = hashed.with_columns(identity_key(hashed, obj.match_key, source_id).alias(KEY))
    known = accepted.select(
        pl.col("match_key").alias(KEY),
        pl.col("payload_hash").alias("_previous_hash"),
        pl.col("rally_id").alias(KNOWN_ID),
    )
    joined = keyed.join(known, on=KEY, how="left", maintain_order="left")
    same = pl.col(HASH) == pl.col("_previous_hash")
    action = (
        pl.when(pl.col("_previous_hash").is_null())
        .then(pl.lit("new"))
        .when(same & pl.lit(not full))
        .then(pl.lit("unchanged"))
        .otherwise(pl.lit("changed"))
    )
    planned = joined.with_columns(action.alias(ACTION), _keyed(obj, columns).alias(KEYED))
    return Plan(obj=obj, frame=planned.drop("_previous_hash"), columns=columns)


def _keyed(obj: RallyObject, columns: Sequence[str]) -> pl.Expr:
    """Whether a row carries the object's match key (what makes upsert possible)."""
    key = obj.match_key
    if not key or key not in columns:
        return pl.lit(False)
    return pl.col(key).is_not_null() & (pl.col(key).cast(pl.String) != "")


@dataclass(frozen=True)
class Routes:
    """The rows to send, by request kind (see the module's table)."""

    bulk: pl.DataFrame
    upsert: pl.DataFrame
    by_id: pl.DataFrame
    refused_bulk_retries_by_upsert: bool


def route(todo: pl.DataFrame, mode: Mode) -> Routes:
    """Split the rows to send (a Plan's `todo`) by the request each goes out by."""
    empty = todo.clear()
    if mode == "bulk":
        return Routes(todo, empty, empty, refused_bulk_retries_by_upsert=False)
    if mode == "upsert":
        return Routes(empty, todo, empty, refused_bulk_retries_by_upsert=False)
    action, keyed, known = pl.col(ACTION), pl.col(KEYED), pl.col(KNOWN_ID).is_not_null()
    return Routes(
        bulk=todo.filter((action == "new") | (~keyed & ~known)),
        upsert=todo.filter((action == "changed") & keyed),
        by_id=todo.filter((action == "changed") & ~keyed & known),
        refused_bulk_retries_by_upsert=True,
    )
