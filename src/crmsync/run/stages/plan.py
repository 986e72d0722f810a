"""Plan: which records are new, changed or unchanged since Rally last accepted them, and which
request each one goes out by.

Change detection hashes each payload (hashlib over canonical JSON, never polars' hash) and
compares it with the hash stored when Rally accepted the record. A record's identity is its
match key (email, domain), else the source system's id, else the hash of its content
(activities have no natural key: the same content is the same record).

Routing by load mode (a record "Rally has" is one whose id crmsync stored, or whose match key
Rally's list showed):

    mode         records Rally does not have          records Rally has
    auto         POST /bulk; a keyed one Rally        merged field by field into Rally's record
                 refuses (it has the key) is merged   (run/merge.py), PUT by id; a 404 there
                                                      creates it again
    upsert       PUT /upsert, one by one              merged, as in auto
    bulk         POST /bulk                           POST /bulk too: Rally refuses a known key
    create_only  POST /bulk                           skipped, with the reason
    update_only  skipped, with the reason             merged, as in auto

A row without a key and without a stored id is new to Rally whatever its hash says.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import polars as pl

from crmsync.load import LoadMode
from crmsync.run.artifacts import ACTION, HASH, KEY, KEYED, KNOWN_ID, Plan
from crmsync.run.stages.adopt import name_identity
from crmsync.schema import RallyObject
from crmsync.state import payload_hashes
from crmsync.state.fingerprint import FP_COLUMN
from crmsync.state.hashing import hash_code

Mode = Literal["auto", "bulk", "upsert", "create_only", "update_only"]
SOURCE_ID_COLUMN = "_source_id"
SMALLER_PART = 4  # a frame this many times smaller than what is stored plans against its keys
TARGET_ID = "_target_id"  # the Rally record an update merges into
HELD_FP = "_held_fp"  # the code of the source fingerprint the row's record holds, if any
SKIP_REASON = "_skip"
SKIP_EXISTS = "Rally has this record; load.mode create_only never updates"
SKIP_MISSING = "Rally has no record with this key; load.mode update_only never creates"


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
    frame: pl.DataFrame,
    obj: RallyObject,
    accepted: pl.DataFrame,
    *,
    known_ids: Callable[[list[str]], Mapping[str, str]] | None = None,
    full: bool = False,
    policy: str = "",
    dry_run: bool = False,
) -> Plan:
    """`frame` planned against `accepted` (match_key, payload_hash as `hash_code`, and
    rally_id; or, without it, `known_ids` gives the ids of changed rows by key: what Rally
    last accepted per record; with source_fp, each row's HELD_FP). With `full`, nothing
    counts as unchanged. `policy` names the update policies in force (empty for the
    defaults): a record settled under other policies counts as changed, so a new policy
    (blank: clear, say) applies to every record once. A `dry_run` stores nothing, so with
    nothing `accepted` a hash has nothing to be compared with: only the rows keyed by their
    hash (those without a match key) are hashed (a million rows: 1 s less)."""
    columns = payload_columns(frame, obj)
    source_id = SOURCE_ID_COLUMN if SOURCE_ID_COLUMN in frame.columns else None
    if dry_run and accepted.is_empty():
        digest = _keyless_hashes(frame, obj.match_key, columns)
    else:
        digest = payload_hashes(frame, columns)
    if policy:
        digest = pl.select(pl.concat_str([pl.lit(f"{policy}:"), pl.lit(digest)])).to_series()
    hashed = frame.with_columns(digest.alias(HASH))
    keyed = hashed.with_columns(identity_key(hashed, obj.match_key, source_id).alias(KEY))
    ids = pl.col("rally_id") if "rally_id" in accepted.columns else pl.lit(None, pl.String)
    held = [pl.col(FP_COLUMN).alias(HELD_FP)] if FP_COLUMN in accepted.columns else []
    known = accepted.select(
        pl.col("match_key").alias(KEY),
        pl.col("payload_hash").alias("_previous_hash"),
        ids.alias(KNOWN_ID),
        *held,
    )  # one row per key (the state's primary key): the join keeps the frame's rows
    keys = keyed.select(KEY)
    if known.height > SMALLER_PART * keys.height:  # a part of the file: its keys' rows only
        known = known.join(keys, on=KEY, how="semi")
    # the key column alone is joined: a join of the whole frame would copy every column
    found = keys.join(known, on=KEY, how="left", maintain_order="left")
    joined = keyed.with_columns(found.drop(KEY))
    same = hash_code(pl.col(HASH)) == pl.col("_previous_hash")
    action = (
        pl.when(pl.col("_previous_hash").is_null())
        .then(pl.lit("new"))
        .when(same & pl.lit(not full))
        .then(pl.lit("unchanged"))
        .otherwise(pl.lit("changed"))
    )
    planned = joined.with_columns(action.alias(ACTION), _keyed(obj, columns).alias(KEYED))
    made = Plan(obj=obj, frame=planned.drop("_previous_hash"), columns=columns)
    if "rally_id" in accepted.columns:
        return made
    if known_ids is None:  # a changed row without its id would be created a second time
        raise ValueError("plan: accepted holds no rally_id and no known_ids was given")
    return _with_known_ids(made, known_ids)


def _keyless_hashes(
    frame: pl.DataFrame, match_key: str | None, columns: Sequence[str]
) -> pl.Series:
    """`payload_hashes` of the rows without a match key; null for the others."""
    if not match_key or match_key not in frame.columns:
        return payload_hashes(frame, columns)
    keyless = frame.get_column(match_key).is_null()
    digest = pl.repeat(None, frame.height, dtype=pl.String, eager=True)
    if keyless.any():
        digest.scatter(keyless.arg_true(), payload_hashes(frame.filter(keyless), columns))
    return digest


def _with_known_ids(planned: Plan, ids: Callable[[list[str]], Mapping[str, str]]) -> Plan:
    """The plan's changed rows with the Rally ids `ids` gives for their keys (KNOWN_ID):
    only changed rows are written by id, and a nightly rerun has few of them."""
    frame = planned.frame
    changed = frame.filter((pl.col(ACTION) == "changed") & pl.col(KNOWN_ID).is_null())
    if changed.is_empty():
        return planned
    found = dict(ids(changed[KEY].to_list()))
    known = pl.col(KEY).replace_strict(found, default=None, return_dtype=pl.String)
    filled = pl.when(pl.col(ACTION) == "changed").then(pl.coalesce(pl.col(KNOWN_ID), known))
    frame = frame.with_columns(filled.otherwise(pl.col(KNOWN_ID)).alias(KNOWN_ID))
    return Plan(planned.obj, frame, planned.columns, planned.parts)


def _keyed(obj: RallyObject, columns: Sequence[str]) -> pl.Expr:
    """Whether a row carries the object's match key (what makes upsert possible)."""
    key = obj.match_key
    if not key or key not in columns:
        return pl.lit(False)
    return pl.col(key).is_not_null() & (pl.col(key).cast(pl.String) != "")


@dataclass(frozen=True)
class Routes:
    """The rows to send, by what happens to them (see the module's table)."""

    create: pl.DataFrame  # new to Rally
    update: pl.DataFrame  # merged into Rally's record TARGET_ID
    skip: pl.DataFrame  # left alone by the mode, SKIP_REASON says why
    create_by: LoadMode  # bulk or upsert
    merge_refused: bool  # a keyed create Rally refuses (it has the key) is merged instead


def route(todo: pl.DataFrame, mode: Mode, found: Mapping[str, str]) -> Routes:
    """Split the rows to send (a Plan's `todo`) by what happens to them. `found` maps match
    keys (lower case) to the ids of records Rally already has."""
    target = pl.coalesce(
        pl.col(KNOWN_ID),
        pl.when(pl.col(KEYED)).then(
            pl.col(KEY).replace_strict(dict(found), default=None, return_dtype=pl.String)
        ),
    )
    rows = todo.with_columns(target.alias(TARGET_ID))
    known = pl.col(TARGET_ID).is_not_null()
    empty = rows.clear().with_columns(pl.lit(None, pl.String).alias(SKIP_REASON))
    if mode == "bulk":
        return Routes(rows, rows.clear(), empty, "bulk", merge_refused=False)
    create, update = rows.filter(~known), rows.filter(known)
    if mode == "create_only":
        skip = update.with_columns(pl.lit(SKIP_EXISTS).alias(SKIP_REASON))
        return Routes(create, rows.clear(), skip, "bulk", merge_refused=False)
    if mode == "update_only":
        skip = create.with_columns(pl.lit(SKIP_MISSING).alias(SKIP_REASON))
        return Routes(rows.clear(), update, skip, "bulk", merge_refused=False)
    create_by: LoadMode = "upsert" if mode == "upsert" else "bulk"
    return Routes(create, update, empty, create_by, merge_refused=True)
