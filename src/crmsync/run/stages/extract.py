"""Extract: the rows of a step's source that are this step's.

An incremental source is read from the newest update time the last complete run saw, less an
overlap for clock skew; `--limit` keeps the first N records of the file (unparseable ones
count); `where:` keeps the rows whose columns hold the given values (ignoring case and the
spaces around them), and `where_filled:` those whose columns have a value: the others belong
to other steps and are not counted here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import polars as pl

from crmsync.extract import Extracted
from crmsync.transform.mapping import compared, resolve_columns
from crmsync.transform.normalizers.company_names import no_company_to_null

WATERMARK_OVERLAP = timedelta(minutes=5)


def read_start(watermark: str | None) -> datetime | None:
    """Where an incremental read starts, from the newest update time a complete run read."""
    if watermark is None:
        return None
    start = datetime.fromisoformat(watermark.replace("Z", "+00:00")) - WATERMARK_OVERLAP
    return start.astimezone(UTC)


def newest(extracted: Extracted, column: str) -> str | None:
    """The newest value of the update-time column read, the next watermark."""
    frame = extracted.frame
    if column not in frame.columns or frame.is_empty():
        return None
    value = frame[column].drop_nulls().max()
    return str(value) if value else None


def select(
    extracted: Extracted,
    *,
    limit: int | None,
    where: Mapping[str, str | list[str]],
    source: str,
    filled: Sequence[str] = (),
) -> Extracted:
    """The first `limit` records, then only the rows `where` names and whose `filled` columns
    have a value."""
    frame, rejects = _limit(extracted, limit)
    if filled:
        actual = resolve_columns(
            {f"where_filled.{name}": [name] for name in filled}, extracted.columns, source=source
        )
        # a company column's "Self-employed" is no company: such rows are another step's
        present = [no_company_to_null(pl.col(found[0])).is_not_null() for found in actual.values()]
        frame = frame.filter(pl.all_horizontal(present))
    if where:
        wanted = {
            name: [str(v).casefold() for v in (value if isinstance(value, list) else [value])]
            for name, value in where.items()
        }
        actual = resolve_columns(
            {name: [name] for name in wanted}, extracted.columns, source=source
        )
        keep = [compared(pl.col(actual[name][0])).is_in(values) for name, values in wanted.items()]
        frame = frame.filter(pl.all_horizontal(keep).fill_null(False))
    return dataclasses.replace(extracted, frame=frame, rejects=rejects)


def _limit(extracted: Extracted, limit: int | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The first `limit` records of the file, counting unparseable ones too."""
    frame, rejects = extracted.frame, extracted.rejects
    if limit is None:
        return frame, rejects
    rows = pl.concat([frame.select("_row"), rejects.select("_row")]).sort("_row")
    if rows.height <= limit:
        return frame, rejects
    last = rows["_row"][limit - 1] if limit > 0 else 0
    return frame.filter(pl.col("_row") <= last), rejects.filter(pl.col("_row") <= last)
