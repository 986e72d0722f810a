"""The exact, slower CSV path: Python's csv module, record by record.

Used only for files the vectorized path cannot model: quotes inside unquoted fields
(``5'10"``, ``ab"c``), text after a closing quote (``"ab"c``), or an unterminated quote. It
applies the same rules (``records.assemble``) and gives the same ``_row``: the physical line a
record starts on, counting ``\\r\\n``, ``\\r`` and ``\\n`` as one break each.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence

import polars as pl

from crmsync.errors import SourceError
from crmsync.extract.records import assemble, check_width, own_or_given
from crmsync.extract.result import Extracted, empty_frame, empty_rejects, gc_paused

PHYSICAL_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
OTHER_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
LINE_END = re.compile(r"(?:\r\n|\r|\n)\Z")
FIELD_SIZE_LIMIT = 2**31 - 1  # a long notes cell (or column name) is data, not an attack
EOF_IN_QUOTES = "unexpected end of data"
SNIPPET_CHARS = 60
BLANK_CHARS = " \t\f\v"  # as the fast path's blank-line pattern: one line, no content


def read_with_python_csv(
    text: str,
    *,
    source: str,
    skip_lines: int,
    encoding: str,
    delimiter: str,
    names: Sequence[str] | None = None,
) -> Extracted:
    """Parse ``text`` with the csv module; SourceError at the line an unterminated quote opens.
    ``names``, when given, name the header record's columns (a two-row header's)."""
    with gc_paused():
        return _read(
            text,
            source=source,
            skip_lines=skip_lines,
            encoding=encoding,
            delimiter=delimiter,
            names=names,
        )


def _read(
    text: str,
    *,
    source: str,
    skip_lines: int,
    encoding: str,
    delimiter: str,
    names: Sequence[str] | None,
) -> Extracted:
    csv.field_size_limit(FIELD_SIZE_LIMIT)
    lines = _physical_lines(text)
    reader = csv.reader(iter(lines[skip_lines:]), delimiter=delimiter, strict=False)
    starts: list[int] = []
    ends: list[int] = []
    values: list[list[str]] = []
    consumed = skip_lines
    for record in reader:
        starts.append(consumed + 1)
        consumed = skip_lines + reader.line_num
        ends.append(consumed)
        values.append(record)
    blank = [
        start == end and not "".join(record).strip(BLANK_CHARS)
        for start, end, record in zip(starts, ends, values, strict=True)
    ]
    header_at = next((i for i, is_blank in enumerate(blank) if not is_blank), None)
    if header_at is None:
        return Extracted(empty_frame(()), empty_rejects(), (), encoding, delimiter)
    if ends[-1] == len(lines):  # the header included: an open quote there swallows the file
        _check_terminated(lines[starts[-1] - 1 :], starts[-1], delimiter, source)
    header = own_or_given(values[header_at], names)
    header_line = starts[header_at]
    del starts[: header_at + 1], ends[: header_at + 1], values[: header_at + 1]
    del blank[: header_at + 1]

    width = len(header)
    check_width(width, source, header_line)
    pad: list[str | None] = [None] * width
    rows = [r if len(r) == width else (r + pad)[:width] for r in values]
    columns = list(zip(*rows, strict=True)) if rows else [()] * width
    body = pl.DataFrame(
        {
            f"column_{i}": pl.Series([value or None for value in column], dtype=pl.String)
            for i, column in enumerate(columns)
        }
    )
    meta = pl.DataFrame(
        {
            "line": starts,
            "fields": [len(r) for r in values],
            "blank": blank,
        },
        schema={"line": pl.Int64, "fields": pl.Int64, "blank": pl.Boolean},
    )

    def raw_of(positions: pl.Series) -> pl.Series:
        raws = [
            "\n".join(LINE_END.sub("", line) for line in lines[starts[p] - 1 : ends[p]])
            for p in positions.to_list()
        ]
        return pl.Series(raws, dtype=pl.String)

    def last_line_of(positions: pl.Series) -> pl.Series:
        tails = [LINE_END.sub("", lines[ends[p] - 1]) for p in positions.to_list()]
        return pl.Series(tails, dtype=pl.String)

    return assemble(
        source=source,
        header=header,
        body=body,
        meta=meta,
        raw_of=raw_of,
        last_line_of=last_line_of,
        encoding=encoding,
        delimiter=delimiter,
        header_line=header_line,
    )


def _physical_lines(text: str) -> list[str]:
    """Lines with their ends, broken at \\r\\n, \\r and \\n only (str.splitlines, fast, also
    breaks at form feeds and Unicode separators, so it is used only when none occur)."""
    if OTHER_BREAKS.search(text) is None:
        return text.splitlines(keepends=True)
    return PHYSICAL_LINE.findall(text)


def _check_terminated(tail: list[str], start: int, delimiter: str, source: str) -> None:
    """The last record ran to the end of the file: was that an open quote swallowing it?"""
    try:
        for _ in csv.reader(iter(tail), delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        if EOF_IN_QUOTES in str(exc):
            snippet = tail[0].rstrip("\r\n")[:SNIPPET_CHARS]
            raise SourceError(
                f"a quoted field opened on this line is never closed: {snippet!r}",
                source=source,
                line=start,
            ) from None
