"""What a step says besides its counts: the read stage's line, the rows warned per field, and
a notice in place of a line on many rows (a warning, a reason to skip)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from crmsync.config import Step
from crmsync.extract import Extracted
from crmsync.report.outcomes import IDENTITY
from crmsync.report.wording import counted
from crmsync.run.stages.update import HELD_BACK
from crmsync.transform.normalizers.phone import NO_REGION

HELD_BACK_START = HELD_BACK.split("{", 1)[0]  # "not updated: Rally never shows a "


def warnings_by_field(warned: pl.DataFrame) -> dict[str, int]:
    """Rows warned, per field, most first: what the closing table shows beside the total."""
    per_field = warned.unique(subset=[*IDENTITY, "field"]).group_by("field").len()
    ordered = per_field.sort(["len", "field"], descending=[True, False])
    return {str(name): int(count) for name, count in ordered.iter_rows()}


def step_notices(step: Step, warned: pl.DataFrame, outcomes: pl.DataFrame) -> list[str]:
    """The notices a step's end says: phones read as written, updates held back."""
    found = [region_notice(step, warned), held_back_notice(outcomes)]
    return [notice for notice in found if notice]


def held_back_notice(outcomes: pl.DataFrame) -> str | None:
    """One line for the records not updated because an update would wipe what Rally never
    shows (each one's reason is in skipped.csv)."""
    held = outcomes.filter(
        (pl.col("outcome") == "skipped") & pl.col("error").str.starts_with(HELD_BACK_START)
    )
    if held.is_empty():
        return None
    return (
        f"{counted(held.height, 'record')} not updated: an update would wipe the fields Rally "
        "never shows (address, notes, ...); sync: {unreadable: rewrite} in the pipeline "
        "allows it (skipped.csv)"
    )


def region_notice(step: Step, warned: pl.DataFrame) -> str | None:
    """One line for what would otherwise be a warning on most rows: phones without a country
    code, read as written because the step has no default region."""
    if step.normalize.default_region is not None or warned.is_empty():
        return None
    missing = warned.filter(pl.col("error").str.contains(NO_REGION, literal=True))
    rows = missing.select(IDENTITY).unique().height
    if not rows:
        return None
    return (
        f"{counted(rows, 'row')} {'has' if rows == 1 else 'have'} a phone without a country "
        "code, kept as written: set normalize.default_region (e.g. US) to read them"
    )


def read_detail(rows: int, source: str, read: Extracted) -> str:
    """The read stage's line: rows, the file, and where its header was when that is not line
    1 or when columns had to be renamed, so a user sees which line and names were taken."""
    detail = f"{counted(rows, 'row')} from {Path(source).name}"
    if read.subheader_line is not None:
        detail += f" (header on lines {read.header_line} and {read.subheader_line})"
    elif read.header_line is not None and read.header_line > 1:
        detail += f" (header on line {read.header_line})"
    for written, given in read.renamed:
        detail += f'; a second column named "{written}" is read as "{given}"'
    if read.nested is not None:
        detail += f' (the "{read.nested.member}" of {counted(read.nested.parents, "record")})'
    if read.footer:
        lines = counted(read.footer, "line")
        detail += f'; {lines} below the table left out, a report\'s footer ("{read.footer_first}")'
    return detail


def nested_notice(read: Extracted) -> str | None:
    """What a source read with `records:` left out: the records holding none, which give no
    row (so the count of rows is not the count of records)."""
    nested = read.nested
    if nested is None or not nested.without:
        return None
    verb = "holds" if nested.without == 1 else "hold"
    return (
        f'{counted(nested.without, "record")} {verb} no "{nested.member}" (an empty array, '
        "null or no such member): no row comes from them"
    )
