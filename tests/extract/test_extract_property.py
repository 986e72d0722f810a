"""Property: whatever Python's csv module writes, read_source reads back, on the right lines."""

from __future__ import annotations

import csv
import io
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from crmsync.extract import read_source

LINE_BREAK = re.compile(r"\r\n|\r|\n")
PIECES = ["a", "Z", "é", "7", " ", ",", ";", '"', '""', "\n", "\r\n", "\r", "@", "x.com"]

cell = st.lists(st.sampled_from(PIECES), max_size=6).map("".join)


@st.composite
def tables(draw: st.DrawFn) -> tuple[int, list[list[str]], str, int]:
    width = draw(st.integers(min_value=1, max_value=5))
    records = draw(st.lists(st.lists(cell, min_size=width, max_size=width), max_size=12))
    terminator = draw(st.sampled_from(["\r\n", "\n"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    return width, records, terminator, quoting


def _breaks(text: str) -> int:
    return len(LINE_BREAK.findall(text))


def _is_blank(record: list[str]) -> bool:
    """No content: the reader skips it (a blank line, only delimiters, only spaces)."""
    return not any(value.strip(" ") for value in record) and not any(
        _breaks(value) for value in record
    )


@pytest.mark.slow  # a sweep: the whole suite runs it
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_round_trip_values_and_start_lines(table: tuple[int, list[list[str]], str, int]) -> None:
    width, records, terminator, quoting = table
    header = [f"col {i}" for i in range(width)]
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=terminator, quoting=quoting)
    writer.writerow(header)
    expected = []
    for record in records:
        start = _breaks(out.getvalue()) + 1
        writer.writerow(record)
        if not _is_blank(record):
            expected.append((*[value or None for value in record], start))

    # the writer leaves a lone \r unquoted under a \n terminator: ambiguous even to csv itself
    back = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assume(back == [header, *records])

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "table.csv"
        path.write_bytes(out.getvalue().encode("utf-8"))
        result = read_source("csv", path, delimiter=",")

    assert result.columns == tuple(header)
    assert result.rejects.height == 0
    assert result.frame.drop("_source").rows() == expected


@st.composite
def ragged_tables(draw: st.DrawFn) -> tuple[int, list[list[str]], str, int]:
    width = draw(st.integers(min_value=1, max_value=4))
    lengths = st.integers(min_value=max(1, width - 1), max_value=width + 2)
    records = draw(st.lists(lengths.flatmap(lambda n: st.lists(cell, min_size=n, max_size=n))))
    terminator = draw(st.sampled_from(["\r\n", "\n"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    return width, records, terminator, quoting


@pytest.mark.slow  # a sweep: the whole suite runs it
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ragged_tables())
def test_every_record_is_a_row_or_a_reject_on_its_line(
    table: tuple[int, list[list[str]], str, int],
) -> None:
    width, records, terminator, quoting = table
    header = [f"h{i}" for i in range(width)]
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=terminator, quoting=quoting)
    writer.writerow(header)
    rows, rejects = [], []
    for record in records:
        start = _breaks(out.getvalue()) + 1
        writer.writerow(record)
        if _is_blank(record):
            continue
        # long records load when the extra fields are empty and unquoted (nothing is lost)
        extras_empty = not any(record[width:]) and quoting == csv.QUOTE_MINIMAL
        if len(record) == width or (len(record) > width and extras_empty):
            rows.append((*[value or None for value in record[:width]], start))
        else:
            rejects.append((start, f"expected {width} fields, found {len(record)}"))
    back = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assume(back == [header, *records])

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ragged.csv"
        path.write_bytes(out.getvalue().encode("utf-8"))
        result = read_source("csv", path, delimiter=",")

    assert result.frame.drop("_source").rows() == rows
    assert result.rejects.select("_row", "error").rows() == rejects
    assert result.rows_read == len(rows) + len(rejects)
