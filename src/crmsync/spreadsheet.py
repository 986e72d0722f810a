"""CSV cells that are safe to open in a spreadsheet, and the way back.

People open errors.csv, merged.csv and the other report files in Excel, LibreOffice or Google
Sheets to fix rows. A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is a
formula there (`=HYPERLINK(...)` from a hostile source row would run when the report is
opened), so every CSV crmsync writes prefixes such a cell with an apostrophe, as OWASP
recommends for CSV injection: the spreadsheet shows the text, and the apostrophe is visible
in a text editor.

The escape is reversible: a cell already starting with apostrophes and then such a character
gets one more. When a report file is fed back through a pipeline (it is recognised by its
first columns), exactly one apostrophe is taken off those cells again, so `+49 30 1234` goes
to Rally as it was in the source, never as `'+49 30 1234`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence

import polars as pl

ESCAPE = "'"
FORMULA_START = r"^'*[=+\-@\t\r]"  # a formula, or an already escaped one
ESCAPED_FORMULA = r"^'+[=+\-@\t\r]"
# The first columns of the report files crmsync writes (errors.csv, merged.csv, warnings.csv).
REPORT_HEADERS = (
    ("source", "row", "stage", "field", "error"),
    ("source", "row", "merged_into_row", "key", "note"),
    ("source", "row", "field", "warning"),
)


_FORMULA_START = re.compile(FORMULA_START)
_STARTS = frozenset("'=+-@\t\r")  # the first characters FORMULA_START can match


def escape_cell(text: str) -> str:
    """One cell (or header) as it is written. Most cells start with none of the characters a
    formula can: they are passed without a regex (millions of cells in a big plan.csv)."""
    if not text or text[0] not in _STARTS:
        return text
    return ESCAPE + text if _FORMULA_START.match(text) else text


def unescape_cell(text: str) -> str:
    """One cell of a report file fed back, as it was before escaping."""
    return text[1:] if re.match(ESCAPED_FORMULA, text) else text


def escape_row(values: Iterable[object]) -> list[object]:
    """A row for csv.writer, its text cells escaped."""
    return [escape_cell(value) if isinstance(value, str) else value for value in values]


def escape_frame(frame: pl.DataFrame, *, safe: Collection[str] = ()) -> pl.DataFrame:
    """Every text cell and every column name of `frame`, escaped. Column by column, and only
    where a cell needs it: a report of a 10,000-column file must not cost seconds. The
    columns named in `safe` hold text that cannot start a formula (JSON objects): not
    searched."""
    columns = []
    for series in frame.get_columns():
        searched = series.name not in safe and not series.is_empty()
        if series.dtype == pl.String and searched:
            formula = series.str.contains(FORMULA_START).fill_null(False)
            if formula.any():
                series = series.zip_with(~formula, ESCAPE + series)
        columns.append(series.rename(escape_cell(series.name)))
    return pl.DataFrame(columns, schema=None) if columns else frame


def is_report(columns: Sequence[str]) -> bool:
    """True for the columns of a report file crmsync wrote (its own header first)."""
    return any(tuple(columns[: len(header)]) == header for header in REPORT_HEADERS)


def unescape_frame(frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """`columns` of `frame` (text) with the report's escape taken off again."""
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(ESCAPED_FORMULA))
        .then(pl.col(name).str.slice(1))
        .otherwise(pl.col(name))
        .alias(name)
        for name in columns
    )
