"""The one-line-records fast case: taken only where it reads exactly what the layout reads."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmsync.extract import csv_reader
from crmsync.extract.csv_reader import read_csv
from crmsync.extract.one_line import read_one_line_records
from crmsync.extract.result import Extracted


def _one_line(text: str) -> Extracted | None:
    return read_one_line_records(text.encode(), 0, "t.csv", "utf-8", ",")


@pytest.mark.parametrize(
    "text",
    [
        "a,b,c\n1,2,3\n4,5,6\n",
        "a,b,c\r\n1,2,3\r\n4,5,\r\n",  # Windows line ends, an empty last value
        'a,b,c\n1,"2,5",3\n',  # a quoted delimiter
        'a,b\n"say ""hi""",x\n',  # escaped quotes: an even count on the line
        "a\nx\ny\n",  # one column
    ],
)
def test_a_table_of_full_one_line_records_takes_the_fast_case(text: str) -> None:
    fast = _one_line(text)
    assert fast is not None
    assert fast.frame.drop("_source").rows() == _layout_read(text).frame.drop("_source").rows()


@pytest.mark.parametrize(
    "text",
    [
        'a,b\n1,"two\nlines"\n',  # a record of two lines
        "a,b,c\n1,2\n",  # a short record
        "a,b,c\n1,\n",  # a short record ending with an empty field
        'a,b,c\n1,"2,5",""\n',  # a quote beside a null last value: counted by the layout
        "a,b\n1,2,3\n",  # a long one
        "a,b\n1,2\n\n3,4\n",  # a blank line
        "a,b\n1,2\n,\n",  # a record of empty fields
        "a,b\n1,2\rx,y\n",  # a lone carriage return
        "a\nx\n\ny\n",  # one column, a blank line
    ],
)
def test_anything_else_is_left_to_the_layout(text: str) -> None:
    assert _one_line(text) is None


def _layout_read(text: str) -> Extracted:
    """read_csv without the fast case (the layout's reading)."""
    with pytest.MonkeyPatch.context() as patch, tempfile.TemporaryDirectory() as tmp:
        patch.setattr(csv_reader, "read_one_line_records", lambda *args, **kwargs: None)
        path = Path(tmp) / "t.csv"
        path.write_bytes(text.encode())
        return read_csv(path, delimiter=",")


PIECES = ["a", "é", "7", " ", ",", '"', "\n", "x.com"]
cell = st.lists(st.sampled_from(PIECES), max_size=4).map("".join)


@st.composite
def files(draw: st.DrawFn) -> str:
    """Tables mostly of one-line records, some short, long, blank or of several lines."""
    width = draw(st.integers(min_value=1, max_value=4))
    lengths = st.integers(min_value=max(0, width - 1), max_value=width + 1)
    records = draw(st.lists(lengths.flatmap(lambda n: st.lists(cell, min_size=n, max_size=n))))
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=draw(st.sampled_from(["\r\n", "\n"])))
    writer.writerow([f"h{i}" for i in range(width)])
    writer.writerows(records)
    return out.getvalue()


@pytest.mark.slow  # a sweep of 150 files, 4 s: the whole suite runs it
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files())
def test_the_fast_case_reads_what_the_layout_reads(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        path.write_bytes(text.encode())
        fast = read_csv(path, delimiter=",")
    exact = _layout_read(text)
    assert fast.frame.drop("_source").rows() == exact.frame.drop("_source").rows()
    assert fast.rejects.drop("_source").rows() == exact.rejects.drop("_source").rows()
    assert (fast.columns, fast.header_line) == (exact.columns, exact.header_line)


@pytest.mark.parametrize(
    "text",
    [
        "a,b\nJosé,1\nZoë,2\n",  # one-line records: the fast case
        'a,b\nJosé,"1\n2"\n',  # a record of two lines: the layout
    ],
)
def test_a_files_lines_are_read_once(text: str, tmp_path: Path) -> None:
    """The UTF-8 check reads a file's lines; the reader (fast case or layout) takes them as
    they are instead of reading them again."""
    from crmsync.extract import encoding, layout, one_line, polars_csv

    calls: list[int] = []

    def counted(data: bytes) -> pl.DataFrame:
        calls.append(len(data))
        return polars_csv.read_lines(data)

    path = tmp_path / "t.csv"
    path.write_bytes(text.encode())
    with pytest.MonkeyPatch.context() as patch:
        for module in (encoding, layout, one_line):
            patch.setattr(module, "read_lines", counted)
        read = read_csv(path, delimiter=",")
    assert read.frame.height == (2 if "Zoë" in text else 1)
    assert calls == [len(text.encode())]
