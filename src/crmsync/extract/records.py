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

from crmsync.extract.result import (
    REJECT_SCHEMA,
    ROW_COL,
    SOURCE_COL,
    Extracted,
    column_names,
)

ERROR_FIELD_COUNT = "expected {} fields, found {}"


def assemble(
    *,
    source: str,
    header: Sequence[str | None],
    body: pl.DataFrame,
    meta: pl.DataFrame,
    raw_of: Callable[[pl.Series], pl.Series],
    encoding: str,
    delimiter: str,
) -> Extracted:
    """Build the result from the header, the records' first N values and their shape.

    ``body``: one row per record after the header, ``len(header)`` String columns (positional).
    ``meta``: same rows, ``line`` (start line), ``fields`` (count), ``trailing`` (empty fields
    at the end), ``blank`` (no content: every field whitespace or empty).
    ``raw_of`` maps record positions in ``body`` to their raw text.
    """
    names = column_names(header)
    width = len(names)
    unnamed_tail = 0
    for value in reversed(header):
        if (value or "").strip():
            break
        unnamed_tail += 1
    fields = pl.col("fields")
    extras_empty = pl.col("trailing") >= fields - width
    fits = fields.is_between(width - unnamed_tail, width) | ((fields > width) & extras_empty)
    blank = pl.col("blank")
    positional = body.columns
    table = (
        pl.concat([body, meta.select("line", "fields", "trailing", "blank")], how="horizontal")
        .lazy()
        .with_row_index("position")
        .with_columns(keep=fits & ~blank, reject=~fits & ~blank)
    )
    frame = (
        table.filter(pl.col("keep"))
        .select(
            *[
                pl.when(pl.col(old).str.len_bytes() > 0).then(pl.col(old)).alias(new)
                for old, new in zip(positional, names, strict=True)
            ],
            pl.lit(source, pl.String).alias(SOURCE_COL),
            pl.col("line").cast(pl.Int64).alias(ROW_COL),
        )
        .collect()
    )
    bad = table.filter(pl.col("reject")).select("position", "line", "fields").collect()
    raw = raw_of(bad["position"])
    rejects = bad.with_columns(raw=raw, fields=_exact_fields(bad["fields"], raw, width, delimiter))
    rejects = rejects.select(
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
    )


def _exact_fields(fields: pl.Series, raw: pl.Series, width: int, delimiter: str) -> pl.Series:
    """Field counts of long records, parsed from their raw text (polars truncated them)."""
    exact = fields.to_list()
    for index, (count, text) in enumerate(zip(exact, raw.to_list(), strict=True)):
        if count > width and text is not None:
            reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
            exact[index] = len(next(reader, []))
    return pl.Series(exact, dtype=pl.Int64)
