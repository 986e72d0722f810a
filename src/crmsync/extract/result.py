"""What every reader returns, and the pieces of it that readers share.

The contract the pipeline relies on: every record of the file is in exactly one of
``Extracted.frame`` (parsed) or ``Extracted.rejects`` (could not be parsed, with its raw text),
and both carry ``_source`` and ``_row`` so the report can point at the line.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import polars as pl

SourceKind = Literal["csv", "json", "ndjson"]

SOURCE_COL = "_source"
ROW_COL = "_row"
RESERVED_COLUMNS = (SOURCE_COL, ROW_COL)

REJECT_SCHEMA: dict[str, pl.DataType] = {
    SOURCE_COL: pl.String(),
    ROW_COL: pl.Int64(),
    "error": pl.String(),
    "raw": pl.String(),
}

BLANK_HEADER_FMT = "column_{}"
DUPLICATE_FIRST_SUFFIX = 2


@dataclass(frozen=True)
class NestedRead:
    """How a JSON source read the records nested in each of its records (``records:``)."""

    member: str  # the array each record holds them in
    parents: int  # records read
    without: int  # of them, records whose array was empty, null or missing: no row


@dataclass(frozen=True)
class Extracted:
    """One source file, read.

    ``frame``: one row per parsed record, every source column as ``pl.String`` (empty -> null)
    in file order, then ``_source`` (the path as given) and ``_row`` (CSV and NDJSON: the
    physical line the record starts on; JSON: the 1-based record number).
    ``rejects``: ``_source``, ``_row``, ``error``, ``raw`` for records that could not be parsed.
    ``header_line``: the physical line the header was read from (CSV; lines above it were a
    preamble, blank, or skipped as asked), None for sources without one.
    ``renamed``: (name as written, name given) for each header the reader had to change
    because another column already had it (``Phone`` twice: the second is ``Phone_2``), so a
    caller can say which column a mapping of that name will read.
    ``subheader_line``: the line of a second header row read into the column names
    (SurveyMonkey's sub-fields, below its questions on ``header_line``), None for one row.
    ``nested``: for a JSON source read with ``records:``, how many records held the rows
    (``_row`` then numbers the nested rows; ``found_at`` says where each is).
    ``footer``: lines below the table left out as a report's footer (``extract.footer``),
    ``footer_first`` the first one's text.
    """

    frame: pl.DataFrame
    rejects: pl.DataFrame
    columns: tuple[str, ...]
    encoding: str
    delimiter: str | None
    header_line: int | None = None
    renamed: tuple[tuple[str, str], ...] = ()
    subheader_line: int | None = None
    nested: NestedRead | None = None
    footer: int = 0
    footer_first: str | None = None

    @property
    def rows_read(self) -> int:
        """Records in the file: always ``len(frame) + len(rejects)``."""
        return self.frame.height + self.rejects.height


def column_names(raw: Sequence[str | None]) -> list[str]:
    """Header names as written, made usable: trimmed, blank -> ``column_N``, duplicates suffixed.

    ``_source``/``_row`` are taken by the reader, so a source column of that name is suffixed
    too; a name never silently overwrites another column.
    """
    cleaned = [
        (value or "").strip() or BLANK_HEADER_FMT.format(position)
        for position, value in enumerate(raw, start=1)
    ]
    reserved = set(cleaned)
    used: set[str] = set(RESERVED_COLUMNS)
    names: list[str] = []
    for name in cleaned:
        unique = name
        suffix = DUPLICATE_FIRST_SUFFIX
        # skip suffixes that a later column literally has: that name belongs to it
        while unique in used or (unique != name and unique in reserved):
            unique = f"{name}_{suffix}"
            suffix += 1
        used.add(unique)
        names.append(unique)
    return names


def renamed_columns(raw: Sequence[str | None], names: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """(written, given) for the named headers ``column_names`` had to change; a blank header
    named ``column_N`` is not a rename (it had no name to lose)."""
    return tuple(
        (written, given)
        for value, given in zip(raw, names, strict=True)
        if (written := (value or "").strip()) and written != given
    )


def empty_rejects() -> pl.DataFrame:
    """A rejects frame with no rows (the common case)."""
    return pl.DataFrame(schema=REJECT_SCHEMA)


def make_rejects(
    source: str, rows: Sequence[int], errors: Sequence[str], raws: Sequence[str]
) -> pl.DataFrame:
    """A rejects frame from parallel lists (readers that find rejects one by one)."""
    return pl.DataFrame(
        {
            SOURCE_COL: [source] * len(rows),
            ROW_COL: list(rows),
            "error": list(errors),
            "raw": list(raws),
        },
        schema=REJECT_SCHEMA,
    )


def empty_frame(columns: Sequence[str]) -> pl.DataFrame:
    """A record frame with the given source columns and no rows."""
    schema: dict[str, pl.DataType] = {name: pl.String() for name in columns}
    schema[SOURCE_COL] = pl.String()
    schema[ROW_COL] = pl.Int64()
    return pl.DataFrame(schema=schema)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building millions of small lists or dicts.

    Each allocation burst triggers a collection that walks every live container, which made a
    1M-row parse with the csv module 3x slower; the objects made here hold no cycles.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
