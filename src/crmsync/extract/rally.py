"""Rally as a source: one object of a tenant through its list API, as the frame every reader
yields. Used to copy a tenant into another (a rehearsal sandbox into production, two merged
companies) and, with a watermark on `updatedAt`, to read only what changed since last time.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

import polars as pl

from crmsync.api import ClientSettings, RallyClient
from crmsync.api.http import public_url
from crmsync.errors import TransientError, UnreachableError
from crmsync.extract.result import ROW_COL, SOURCE_COL, Extracted, column_names, empty_rejects
from crmsync.schema import OBJECTS

TAG_SEPARATOR = ", "  # how a list of tags reads in a cell, as the tag normalizer splits it


def read_rally_api(
    base_url: str,
    api_key: str,
    object: str,
    *,
    updated_since: datetime | None = None,
    settings: ClientSettings | None = None,
    allow_insecure_http: bool = False,
) -> Extracted:
    """Every record of `object` (updated since `updated_since`, when given), one row each,
    numbered in the list's order (updatedAt, then id). AuthError when the key is refused."""
    shown = public_url(base_url)
    label = f"{shown}/api/v1/{object}"
    client = RallyClient(
        base_url,
        api_key,
        settings=settings or ClientSettings(),
        allow_insecure_http=allow_insecure_http,
    )
    try:
        records = asyncio.run(_walk(client, object, updated_since))
    except TransientError as exc:
        raise UnreachableError(f"cannot read Rally at {shown}: {exc}") from None
    # every documented field is a column, even of an empty read (nothing changed since the
    # watermark), so a step's mapping still finds it
    return _frame(label, records, OBJECTS[object].response_fields)


async def _walk(
    client: RallyClient, object: str, updated_since: datetime | None
) -> list[dict[str, Any]]:
    obj = OBJECTS[object]
    async with client:
        await client.check_auth(obj)
        return [record async for record in client.iter_records(obj, updated_since=updated_since)]


def _frame(label: str, records: list[dict[str, Any]], documented: list[str]) -> Extracted:
    keys = list(dict.fromkeys([*documented, *(key for record in records for key in record)]))
    names = column_names(keys)
    columns = {
        name: pl.Series(name, [_text(record.get(key)) for record in records], dtype=pl.String)
        for key, name in zip(keys, names, strict=True)
    }
    frame = pl.DataFrame(columns).with_columns(
        pl.lit(label, pl.String).alias(SOURCE_COL),
        pl.Series(ROW_COL, range(1, len(records) + 1), dtype=pl.Int64),
    )
    return Extracted(frame, empty_rejects(), tuple(names), "utf-8", None)


def _text(value: Any) -> str | None:
    """Cells are text like every other source's; tags read as "a, b", as in an export."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return TAG_SEPARATOR.join(value)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
