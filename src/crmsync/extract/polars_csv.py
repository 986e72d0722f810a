"""The two ways polars reads a CSV file's bytes here: as lines, and as values.

Both readers of the fast path (the one-line-records case and the layout's) read the same
bytes the same way; kept in one place so they never drift apart.
"""

from __future__ import annotations

import polars as pl

LINE_COLUMN = "text"
# Absent from the data (the decoder rejects NUL bytes), so each physical line is one field.
NO_SEPARATOR = "\x00"
QUOTE = '"'


def read_lines(data: bytes) -> pl.DataFrame:
    """One row per ``\\n``-line of ``data`` (its ``\\r\\n``'s carriage return taken off), in
    LINE_COLUMN; an empty line is "", not null."""
    return pl.read_csv(
        data,
        has_header=False,
        separator=NO_SEPARATOR,
        quote_char=None,
        schema={LINE_COLUMN: pl.String},
        empty_string_is_null=False,
    )


def lone_carriage_return(data: bytes, lines: pl.DataFrame) -> bool:
    """Whether a line (`read_lines` of `data`) holds a carriage return: polars takes the \r
    of a \r\n off, but one left inside a line is a line break to an editor and to the csv
    module, not to polars, which would read the two lines as one."""
    if b"\r" not in data:
        return False
    return bool(lines.select(pl.col(LINE_COLUMN).str.contains("\r", literal=True).any()).item())


def parse_values(
    data: bytes, delimiter: str, *, skip_lines: int = 0, truncate_ragged: bool
) -> pl.DataFrame | None:
    """Every record's values from line `skip_lines` on, all String (an empty cell null), in
    one buffer per column; None when polars refuses the data (with `truncate_ragged` false, a
    record longer than the first is refused too, where it would be cut)."""
    try:
        parsed = pl.read_csv(
            data,
            has_header=False,
            skip_lines=skip_lines,
            separator=delimiter,
            quote_char=QUOTE,
            infer_schema=False,
            truncate_ragged_lines=truncate_ragged,
            raise_if_empty=False,
            null_values=[""],  # an empty cell, quoted or not, is no value
        )
    except pl.exceptions.PolarsError:
        return None
    # polars' parser leaves dozens of pieces, and every string operation after it pays per
    # piece (normalize took 10% more CPU on 59 of them)
    return parsed.rechunk()
