"""What a step says besides its counts: the read stage's line, the rows warned per field, and
one notice in place of a warning on most rows."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from crmsync.config import Step
from crmsync.extract import Extracted
from crmsync.report.outcomes import IDENTITY
from crmsync.report.wording import counted
from crmsync.transform.normalizers.phone import NO_REGION


def warnings_by_field(warned: pl.DataFrame) -> dict[str, int]:
    """Rows warned, per field, most first: what the closing table shows beside the total."""
    per_field = warned.unique(subset=[*IDENTITY, "field"]).group_by("field").len()
    ordered = per_field.sort(["len", "field"], descending=[True, False])
    return {str(name): int(count) for name, count in ordered.iter_rows()}


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
    if read.header_line is not None and read.header_line > 1:
        detail += f" (header on line {read.header_line})"
    for written, given in read.renamed:
        detail += f'; a second column named "{written}" is read as "{given}"'
    return detail
