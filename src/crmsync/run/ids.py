"""Where a run finds a record's Rally id by one of its keys, across steps.

One IdIndex per run: (object, key kind) -> {normalized key: Rally id}. What a step looks up is
taken, in order, from what this run already learned, from the state database (earlier steps
and runs), and from Rally's own list, read once per object and run, so records that already
exist in the tenant still link. Acknowledged records are added as they settle; a dry run adds
placeholders for what it would create, so its later steps resolve against them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from crmsync.api import RallyClient
from crmsync.report.wording import counted
from crmsync.run.artifacts import HASH
from crmsync.run.observer import RunObserver
from crmsync.run.stages.plan import SOURCE_ID_COLUMN
from crmsync.schema import OBJECTS, RallyObject
from crmsync.state import StepState
from crmsync.transform.keys import normalize_key

# Where a key kind lives in the id map: an email's domain is a company domain.
STORED_KIND = {
    "domain": "domain",
    "email": "email",
    "email_domain": "domain",
    "name": "name",
    "source_id": "source_id",
}
# The Rally field each stored kind is listed by, per object.
LISTED_FIELD = {
    ("contacts", "email"): "email",
    ("companies", "domain"): "domain",
    ("companies", "name"): "name",
}
SINGULAR = {"contacts": "contact", "companies": "company", "activities": "activity"}
FINGERPRINT = "fingerprint"  # the content hash: the identity of a record without a key

Needed = Mapping[tuple[str, str], set[str]]  # (object, stored kind) -> keys


IDENTITY_PREFIX = "id:"  # identity_frame's columns: "id:email", "id:fingerprint", ...


def identity_frame(frame: pl.DataFrame, obj: RallyObject) -> pl.DataFrame:
    """`_row` and, per id-map kind, the row's key in column "id:<kind>" (null: none): the
    match key, a company's name, the source id, and the content hash (the fingerprint of
    records without a match key)."""
    columns: dict[str, pl.Series] = {"_row": frame["_row"]}

    def kept(values: pl.Series) -> pl.Series:
        return values.cast(pl.String).replace("", None)

    match_key = obj.match_key
    keyed = None
    if match_key and match_key in frame.columns:
        keyed = kept(normalize_key(frame[match_key], match_key))
        columns[IDENTITY_PREFIX + match_key] = keyed
    if obj.name == "companies" and "name" in frame.columns:
        columns[IDENTITY_PREFIX + "name"] = kept(normalize_key(frame["name"], "name"))
    if SOURCE_ID_COLUMN in frame.columns:
        columns[IDENTITY_PREFIX + "source_id"] = kept(frame[SOURCE_ID_COLUMN])
    fingerprint = kept(frame[HASH])
    if keyed is not None:
        fingerprint = pl.select(pl.when(keyed.is_null()).then(fingerprint)).to_series()
    columns[IDENTITY_PREFIX + FINGERPRINT] = fingerprint
    return pl.DataFrame([series.alias(name) for name, series in columns.items()])


def identities(frame: pl.DataFrame, obj: RallyObject) -> dict[str, dict[int, str]]:
    """Per id-map kind, row -> key (identity_frame's, as dicts)."""
    table = identity_frame(frame, obj)
    rows = table["_row"].to_list()
    out: dict[str, dict[int, str]] = {}
    for name in table.columns[1:]:
        values = table[name].to_list()
        out[name.removeprefix(IDENTITY_PREFIX)] = {
            r: k for r, k in zip(rows, values, strict=True) if k is not None
        }
    return out


class IdIndex:
    """The run's id maps; see the module docstring for where ids come from."""

    def __init__(self) -> None:
        self._maps: dict[tuple[str, str], dict[str, str]] = {}
        self._listed: set[str] = set()  # objects whose Rally list was read

    def get(self, obj: str, kind: str) -> dict[str, str]:
        """key -> Rally id of one object and key kind (lookup kinds map to stored kinds)."""
        return self._maps.setdefault((obj, STORED_KIND.get(kind, kind)), {})

    def learn(self, obj: str, kind: str, pairs: Mapping[str, str]) -> None:
        """Keys this run established (acknowledged records, or a dry run's placeholders)."""
        self.get(obj, kind).update(pairs)

    async def fill(
        self,
        needed: Needed,
        state: StepState,
        rally: RallyClient | None,
        observer: RunObserver,
    ) -> None:
        """Put every needed key into the maps, if it exists anywhere: the state database, then
        (with a client) Rally's list."""
        for (obj, kind), keys in needed.items():
            known = self.get(obj, kind)
            missing = [k for k in keys if k not in known]
            if missing:
                known.update(state.ids(obj, kind, missing))
                missing = [k for k in keys if k not in known]
            if missing and (obj, kind) in LISTED_FIELD and rally and obj not in self._listed:
                await self._read_rally(rally, obj, state, observer)

    async def _read_rally(
        self, rally: RallyClient, obj: str, state: StepState, observer: RunObserver
    ) -> None:
        """Learn the keys of every record Rally already has (list with fields=id + keys)."""
        fields = sorted({f for (o, _), f in LISTED_FIELD.items() if o == obj})
        rows: dict[str, list[Any]] = {"id": [], **{f: [] for f in fields}}
        async for record in rally.iter_records(OBJECTS[obj], fields=["id", *fields]):
            for name in rows:
                value = record.get(name)
                rows[name].append(None if value is None else str(value))
        self._listed.add(obj)
        frame = pl.DataFrame(rows, schema=dict.fromkeys(rows, pl.String))
        for (o, kind), listed_field in LISTED_FIELD.items():
            if o != obj:
                continue
            keys = normalize_key(frame[listed_field], kind)
            pairs = [(k, i) for k, i in zip(keys, frame["id"], strict=True) if k and i]
            self.learn(obj, kind, dict(pairs))
            state.remember_ids(obj, kind, pairs)
        observer.stage("lookup", f"{counted(frame.height, SINGULAR[obj])} already in Rally")
