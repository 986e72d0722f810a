"""The CSV fast path's fast case: a table whose every record is one full line.

Most exports are such a table: no value holds a line break, and no record is short or long.
Then a record's line is its index, its field count the header's, and the layout's per-line
delimiter counts (and the recount of the delimiters quoted inside values) are not needed:
polars itself refuses a record longer than the header, and only a record with a null last
value can be short (those few lines are counted). That saves some 140 ms of the 0.78 s a
million-row file took to read.

Any other table (a quoted line break, a short, long or blank record) is left to the layout
(None), which reads it exactly as before.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from crmsync.extract.layout import blank_pattern, count_of
from crmsync.extract.polars_csv import (
    LINE_COLUMN,
    QUOTE,
    parse_values,
    read_lines,
)
from crmsync.extract.records import assemble, check_width, fields_of, own_or_given
from crmsync.extract.result import Extracted


def read_one_line_records(
    data: bytes,
    lines_before: int,
    source: str,
    encoding: str,
    delimiter: str,
    names: Sequence[str] | None = None,
    lines: pl.DataFrame | None = None,
) -> Extracted | None:
    """`read_with_polars`'s result for ``data`` (the table from its header line on, the
    ``lines_before`` lines above it cut; ``lines``, its `read_lines` if read already) when
    every record is one full line; None when one is not, or polars refuses the table (the
    caller then reads it with its layout)."""
    if lines is None:
        lines = read_lines(data)
    if lines.height < 1:
        return None
    text = lines[LINE_COLUMN]
    carriage_return, odd_quotes, blank = _line_flags(data, lines, delimiter)
    if carriage_return:
        return None
    header_fields = fields_of(text[0], delimiter)
    check_width(len(header_fields), source, lines_before + 1)
    if odd_quotes:
        return None  # a value holds a line break (or a quote is left open)
    # a long record is refused, not cut: the layout counts its fields
    parsed = parse_values(data, delimiter, truncate_ragged=False)
    if parsed is None:
        return None
    if parsed.height != lines.height or parsed.width != len(header_fields):
        return None
    if blank or _short(parsed, lines, delimiter):
        return None
    first = lines_before + 1
    meta = pl.DataFrame(
        {
            "line": pl.int_range(first + 1, first + lines.height, dtype=pl.Int64, eager=True),
            "fields": pl.repeat(parsed.width, lines.height - 1, dtype=pl.Int64, eager=True),
            "blank": pl.repeat(False, lines.height - 1, dtype=pl.Boolean, eager=True),
        }
    )

    def body_lines(positions: pl.Series) -> pl.Series:
        return text.gather(positions + 1)

    return assemble(
        source=source,
        header=own_or_given(parsed.row(0), names),
        body=parsed.slice(1),
        meta=meta,
        raw_of=body_lines,
        last_line_of=body_lines,
        encoding=encoding,
        delimiter=delimiter,
        header_line=first,
    )


def _line_flags(data: bytes, lines: pl.DataFrame, delimiter: str) -> tuple[bool, bool, bool]:
    """Whether a line holds a carriage return (`lone_carriage_return`), an odd number of
    quotes (its record goes on past it), or only blank fields: one pass over the lines, the
    three tests side by side."""
    line = pl.col(LINE_COLUMN)
    flags = lines.select(
        (line.str.contains("\r", literal=True) if b"\r" in data else pl.lit(False)).any(),
        (count_of(line, QUOTE) % 2 == 1 if QUOTE.encode() in data else pl.lit(False))
        .any()
        .alias("odd"),
        line.str.contains(blank_pattern(delimiter)).any().alias("blank"),
    )
    carriage_return, odd, blank = flags.row(0)
    return bool(carriage_return), bool(odd), bool(blank)


def _short(parsed: pl.DataFrame, lines: pl.DataFrame, delimiter: str) -> bool:
    """Whether a record has fewer fields than the header. polars fills a short record's last
    fields with nulls, so only a record whose last value is null can be short: it is not when
    its line holds no quote and as many delimiters as a full record (a quote in it leaves the
    count to the layout)."""
    line = pl.col(LINE_COLUMN)
    suspects = lines.lazy().filter(parsed.to_series(parsed.width - 1).is_null())
    partial = line.str.contains(QUOTE, literal=True) | (
        count_of(line, delimiter) != parsed.width - 1
    )
    return bool(suspects.select(partial.any()).collect().item())
