"""Turning parsed CSV records into ``Extracted``: which are rows, which are rejects, which blank.

Shared by the polars reader and the Python csv fallback, so both apply the same rules:

* a record with as many fields as the header is a row;
* a record may end early only where the header's trailing columns have no name (nothing
  shifts), and may run long only with empty fields (``1,2,`` under ``a,b``): nothing is lost;
* any other field count is a reject (``expected 8 fields, found 9``) with the raw text: its
  values cannot be placed in columns without guessing, and the rest of the file still loads;
* a record with no content at all (a blank line, ``;;;;`` from Excel, only whitespace) is not
  a record: it is skipped, and the line numbers of the others stay right.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence

import polars as pl

from crmsync.errors import SourceError
from crmsync.extract.result import (
    REJECT_SCHEMA,
    ROW_COL,
    SOURCE_COL,
    Extracted,
    column_names,
    renamed_columns,
)

ERROR_FIELD_COUNT = "expected {} fields, found {}"
# The widest table read. Real exports stay far below (Salesforce caps an object near 1,000
# fields); a 100,000-column file is an attack or an accident, and every column costs time
# and memory in every step before mapping picks the few it needs.
MAX_COLUMNS = 10_000


def fields_of(raw: str, delimiter: str) -> list[str]:
    """The fields of one raw record (its text, line breaks and all), as the csv module reads
    them."""
    return next(csv.reader(io.StringIO(raw, newline=""), delimiter=delimiter), [])


def check_width(width: int, source: str, header_line: int) -> None:
    """SourceError for a header wider than MAX_COLUMNS."""
    if width > MAX_COLUMNS:
        raise SourceError(
            f"the header has {width:,} columns, more than the {MAX_COLUMNS:,} crmsync reads: "
            "export only the columns the pipeline maps",
            source=source,
            line=header_line,
        )


def own_or_given(row: Sequence[object], names: Sequence[str] | None) -> list[str | None]:
    """The header record's own values, or the `names` given for its columns (a two-row
    header's) when there is one per column."""
    if names is not None and len(names) == len(row):
        return list(names)
    return [value if isinstance(value, str) else None for value in row]


def assemble(
    *,
    source: str,
    header: Sequence[str | None],
    body: pl.DataFrame,
    meta: pl.DataFrame,
    raw_of: Callable[[pl.Series], pl.Series],
    last_line_of: Callable[[pl.Series], pl.Series],
    encoding: str,
    delimiter: str,
    header_line: int,
) -> Extracted:
    """Build the result from the header, the records' first N values and their shape.

    ``body``: one row per record after the header, ``len(header)`` String columns (positional),
    empty cells already null.
    ``meta``: same rows, ``line`` (start line), ``fields`` (count; for a record longer than
    the header it may also count delimiters quoted in its truncated tail: a reject's count is
    redone from its raw text), ``blank`` (no content: every field blank, on one line).
    ``raw_of`` / ``last_line_of`` map record positions in ``body`` to their raw text / the
    text of their last physical line. ``header_line``: where the header was read.
    """
    names = column_names(header)
    width = len(names)
    unnamed_tail = 0
    for value in reversed(header):
        if (value or "").strip():
            break
        unnamed_tail += 1
    meta = _extras_empty(meta.select("line", "fields", "blank"), width, last_line_of, delimiter)
    fields = pl.col("fields")
    fits = fields.is_between(width - unnamed_tail, width) | pl.col("extras_empty")
    blank = pl.col("blank")
    table = (
        meta.lazy()
        .with_row_index("position")
        .with_columns(keep=fits & ~blank, reject=~fits & ~blank)
    )
    kept = table.filter(pl.col("keep")).select("line").collect()
    # whole-frame operations only: one expression per column costs seconds on a wide file
    frame = (
        body.filter(table.select("keep").collect().to_series())
        .rename(dict(zip(body.columns, names, strict=True)))
        .with_columns(
            pl.lit(source, pl.String).alias(SOURCE_COL),
            kept.to_series().cast(pl.Int64).alias(ROW_COL),
        )
    )
    bad = table.filter(pl.col("reject")).select("position", "line", "fields").collect()
    bad = bad.with_columns(raw=raw_of(bad["position"]))
    bad = bad.with_columns(fields=_exact_fields(bad, width, delimiter))
    rejects = bad.select(
        pl.lit(source, pl.String).alias(SOURCE_COL),
        pl.col("line").cast(pl.Int64).alias(ROW_COL),
        pl.format(ERROR_FIELD_COUNT, pl.lit(width), pl.col("fields")).alias("error"),
        pl.col("raw"),
    )
    return Extracted(
        frame=frame,
        rejects=rejects.cast(REJECT_SCHEMA),  # type: ignore[arg-type]
        columns=tuple(names),
        encoding=encoding,
        delimiter=delimiter,
        header_line=header_line,
        renamed=renamed_columns(header, names),
    )


def _extras_empty(
    meta: pl.DataFrame, width: int, last_line_of: Callable[[pl.Series], pl.Series], delimiter: str
) -> pl.DataFrame:
    """Add ``extras_empty``: a record longer than the header whose extra fields are all empty
    (``1,2,`` under ``a,b``). They are the delimiters ending its last line, none quoted (the
    record's quotes are closed there), so counting that run is exact. An overcounted
    ``fields`` only makes the test stricter."""
    extras_empty = pl.repeat(False, meta.height, dtype=pl.Boolean, eager=True)
    extras_empty = extras_empty.alias("extras_empty")
    long = meta.with_row_index("position").filter((pl.col("fields") > width) & ~pl.col("blank"))
    if long.height == 0:
        return meta.with_columns(extras_empty)
    tail = last_line_of(long["position"])
    trailing = tail.str.len_bytes() - tail.str.strip_chars_end(delimiter).str.len_bytes()
    empty = trailing.cast(pl.Int64) >= long["fields"] - width
    return meta.with_columns(extras_empty.scatter(long["position"], empty))


def _exact_fields(bad: pl.DataFrame, width: int, delimiter: str) -> pl.Series:
    """Rejects' field counts, redone with the csv module where a long record's truncated
    tail may have held quoted delimiters (it holds a quote)."""
    fields = bad["fields"].clone()
    suspect = bad.with_row_index("index").filter(
        (pl.col("fields") > width) & pl.col("raw").str.contains('"', literal=True)
    )
    if suspect.height == 0:
        return fields
    counts = [len(fields_of(text, delimiter)) for text in suspect["raw"].to_list()]
    return fields.scatter(suspect["index"], pl.Series(counts, dtype=pl.Int64))
