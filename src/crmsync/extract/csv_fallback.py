"""The exact, slower CSV path: Python's csv module, record by record.

Used only for files the vectorized path cannot model: quotes inside unquoted fields
(``5'10"``, ``ab"c``), text after a closing quote (``"ab"c``), or an unterminated quote. It
applies the same rules (``records.assemble``) and gives the same ``_row``: the physical line a
record starts on, counting ``\\r\\n``, ``\\r`` and ``\\n`` as one break each.
"""

from __future__ import annotations

import csv
import re

import polars as pl

from crmsync.errors import SourceError
from crmsync.extract.records import assemble
from crmsync.extract.result import Extracted, empty_frame, empty_rejects

PHYSICAL_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
LINE_END = re.compile(r"(?:\r\n|\r|\n)\Z")
FIELD_SIZE_LIMIT = 2**31 - 1  # a long notes cell is data, not an attack
EOF_IN_QUOTES = "unexpected end of data"
SNIPPET_CHARS = 60
BLANK_CHARS = " \t\f\v"  # as the fast path's blank-line pattern: one line, no content


def read_with_python_csv(
    text: str, *, source: str, skip_lines: int, encoding: str, delimiter: str
) -> Extracted:
    """Parse ``text`` with the csv module; SourceError at the line an unterminated quote opens."""
    csv.field_size_limit(FIELD_SIZE_LIMIT)
    lines = PHYSICAL_LINE.findall(text)
    reader = csv.reader(iter(lines[skip_lines:]), delimiter=delimiter, strict=False)
    header: list[str] | None = None
    starts: list[int] = []
    ends: list[int] = []
    values: list[list[str]] = []
    consumed = skip_lines
    for record in reader:
        start, consumed = consumed + 1, skip_lines + reader.line_num
        if header is None:
            if len(record) > 1 or any(field.strip(BLANK_CHARS) for field in record):
                header = record  # as in the fast path: only whitespace lines precede it
            continue
        starts.append(start)
        ends.append(consumed)
        values.append(record)
    if header is None:
        return Extracted(empty_frame(()), empty_rejects(), (), encoding, delimiter)
    if starts and ends[-1] == len(lines):
        _check_terminated(lines[starts[-1] - 1 :], starts[-1], delimiter, source)

    width = len(header)
    body = pl.DataFrame(
        [[(r[i] if i < len(r) else None) for r in values] for i in range(width)],
        schema=[(f"column_{i}", pl.String) for i in range(width)],
        orient="col",
    )
    meta = pl.DataFrame(
        {
            "line": starts,
            "fields": [len(r) for r in values],
            "trailing": [_trailing_empty(r) for r in values],
            "blank": [
                start == end and not any(field.strip(BLANK_CHARS) for field in record)
                for start, end, record in zip(starts, ends, values, strict=True)
            ],
        },
        schema={"line": pl.Int64, "fields": pl.Int64, "trailing": pl.Int64, "blank": pl.Boolean},
    )

    def raw_of(positions: pl.Series) -> pl.Series:
        raws = [
            "\n".join(LINE_END.sub("", line) for line in lines[starts[p] - 1 : ends[p]])
            for p in positions.to_list()
        ]
        return pl.Series(raws, dtype=pl.String)

    return assemble(
        source=source,
        header=header,
        body=body,
        meta=meta,
        raw_of=raw_of,
        encoding=encoding,
        delimiter=delimiter,
    )


def _trailing_empty(record: list[str]) -> int:
    count = 0
    for field in reversed(record):
        if field:
            break
        count += 1
    return count


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
