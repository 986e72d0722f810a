"""A file read a piece at a time gives exactly what the whole-file reader gives: the same rows
on the same lines, the same rejects, header line, encoding and delimiter. Tiny pieces make
every record boundary (quoted line breaks, blank lines, a preamble) fall between pieces; what
the pieces cannot read is said with NotStreamable, never read differently."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from crmsync.errors import SourceError
from crmsync.extract import csv_reader, csv_stream
from crmsync.extract.csv_reader import read_csv
from crmsync.extract.csv_stream import NotStreamable, read_csv_pieces, read_in_pieces, stream_csv
from crmsync.extract.result import Extracted

CELL_PARTS = ["a", "Z", "é", "7", " ", ",", ";", '"', "\n", "\r\n", "@", "x.com", "日本"]
cell = st.lists(st.sampled_from(CELL_PARTS), max_size=5).map("".join)


def _pieces(path: Path, piece_bytes: int, **options: str | int) -> list[Extracted]:
    return list(stream_csv(path, piece_bytes=piece_bytes, **options))  # type: ignore[arg-type]


def assert_same_as_whole(path: Path, piece_bytes: int = 48, **options: str | int) -> int:
    """The pieces of `path` read together equal its whole read; how many pieces there were."""
    whole = read_csv(path, **options)  # type: ignore[arg-type]
    pieces = _pieces(path, piece_bytes, **options)
    assert_frame_equal(pl.concat([p.frame for p in pieces]), whole.frame)
    assert_frame_equal(pl.concat([p.rejects for p in pieces]), whole.rejects)
    for piece in pieces:
        assert piece.columns == whole.columns
        assert piece.header_line == whole.header_line
        assert piece.subheader_line == whole.subheader_line
        assert (piece.encoding, piece.delimiter) == (whole.encoding, whole.delimiter)
        assert piece.renamed == whole.renamed
    return len(pieces)


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "people.csv"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(
            b"name,email,phone\n"
            + b"".join(b'"Smith, J%d",j%d@x.com,"555 %d"\n' % (i, i, i) for i in range(60)),
            id="quoted-delimiters",
        ),
        pytest.param(
            b"Notes:\nExported for you, with care\n\nFirst Name,Last Name,Email\n"
            + b"".join(b'A%d,"two\nlines",e%d@x.com\n' % (i, i) for i in range(40)),
            id="preamble-and-quoted-line-breaks",
        ),
        pytest.param(
            b"sep=;\na;b;c\n"
            + b"".join(b"%d;%d;%d\n" % (i, i, i) for i in range(60))
            + b"1;2\n1;2;3;4\n\n\n",
            id="sep-line-rejects-and-blank-tail",
        ),
        pytest.param(
            b"\xef\xbb\xbfa,b\r\n" + b"".join(b'x%d,"y\r\nz"\r\n' % i for i in range(40)),
            id="bom-and-crlf",
        ),
        pytest.param(b"a,b\n" + "ü,é日本\n".encode() * 40 + b"last,row", id="unicode-no-end"),
        pytest.param(
            b"Email,Email,\n" + b"".join(b"x%d@a.org,y%d@b.org,\n" % (i, i) for i in range(30)),
            id="renamed-columns",
        ),
        pytest.param(
            b"a,b\n" + b'1,"' + b"long " * 40 + b'"\n' + b"2,3\n" * 20,
            id="a-record-longer-than-a-piece",
        ),
        pytest.param(b"a,b\n" + b'1,x"y"z\n' * 30, id="balanced-stray-quotes"),
        pytest.param(
            b"Survey results\n\nRespondent ID,Your details,,,Comments\n"
            b",Name,Company,Email Address,Open-Ended Response\n"
            + b"".join(b'%d,A %d,"B, %d",a%d@x.org,"one\ntwo"\n' % (i, i, i, i) for i in range(30)),
            id="two-header-rows-below-a-title",
        ),
    ],
)
def test_pieces_read_as_the_whole_file(tmp_path: Path, data: bytes) -> None:
    assert assert_same_as_whole(_write(tmp_path, data)) > 1


def test_pieces_hold_at_most_piece_lines_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bytes alone do not bound a piece of short lines: every line costs the reader some 200
    bytes, so 16 MiB of blank lines took 3.5 GB."""
    monkeypatch.setattr(csv_stream, "PIECE_LINES", 7)
    data = (
        b"a,b\n"
        + b"\n" * 30
        + b'1,"x\ny"\n'
        + b"\n" * 20
        + b"".join(b"%d,%d\n" % (i, i) for i in range(9))
    )
    path = _write(tmp_path, data)
    assert assert_same_as_whole(path, piece_bytes=1 << 20) >= len(data.splitlines()) // 7
    lines = [p.frame.height + p.rejects.height for p in _pieces(path, 1 << 20)]
    assert sum(lines) == 10


def test_a_file_of_many_lines_is_read_in_pieces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_stream, "STREAM_LINES", 50)
    many = _write(tmp_path, b"a,b\n" + b"\n" * 60 + b"1,2\n")
    assert read_in_pieces(many)
    few = tmp_path / "few.csv"
    few.write_bytes(b"a,b\n" + b"\n" * 40 + b"1,2\n")
    assert not read_in_pieces(few)
    together = read_csv_pieces(many)
    assert together.frame.select("a", "b", "_row").rows() == [("1", "2", 62)]
    assert together.rejects.height == 0


def test_given_options_read_as_the_whole_file(tmp_path: Path) -> None:
    data = b"title line\nskip me too\nx|y\n" + b"".join(b"%d|v%d\n" % (i, i) for i in range(50))
    path = _write(tmp_path, data)
    assert assert_same_as_whole(path, skip_rows=2, delimiter="|", encoding="utf-8") > 1


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"a,b\n" + b"1,\xe9t\xe9\n" * 40, "not UTF-8"),
        (b"a,b\n" + b"1,2\r3\n" * 40, "carriage return"),
        (b"a,b\n" + b"1,2\n" * 30 + b'3,"open\n4,5\n', "fast path"),
        (b"\xff\xfea\x00,\x00b\x00\n\x00", "UTF-16"),
    ],
)
def test_what_pieces_cannot_read_is_said(tmp_path: Path, data: bytes, why: str) -> None:
    """Another encoding, a lone carriage return, an unterminated or stray quote: the caller
    reads the file whole, where the exact path reads it or names the line."""
    with pytest.raises(NotStreamable, match=why):
        _pieces(_write(tmp_path, data), 48)


def test_another_encoding_given_is_read_whole(tmp_path: Path) -> None:
    path = _write(tmp_path, b"a,b\n1,2\n")
    with pytest.raises(NotStreamable, match="cp1252"):
        _pieces(path, 48, encoding="cp1252")


@st.composite
def files(draw: st.DrawFn) -> bytes:
    width = draw(st.integers(min_value=1, max_value=4))
    records = draw(
        st.lists(
            st.lists(cell, min_size=width, max_size=draw(st.sampled_from([width, width + 1]))),
            max_size=25,
        )
    )
    out = io.StringIO(newline="")
    terminator = draw(st.sampled_from(["\n", "\r\n"]))
    writer = csv.writer(out, lineterminator=terminator, quoting=csv.QUOTE_MINIMAL)
    writer.writerow([f"col {i}" for i in range(width)])
    for record in records:
        if draw(st.booleans()) and not record[0]:
            out.write(terminator)  # a blank line
        writer.writerow(record)
    return out.getvalue().encode("utf-8")


@pytest.mark.slow  # 150 generated files, each read whole and in pieces: some 5 s
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=files(), piece_bytes=st.integers(min_value=1, max_value=200))
def test_any_file_reads_the_same_in_pieces(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, piece_bytes: int
) -> None:
    """Pieces read what the whole read's fast path reads, as it reads it; only a file the
    whole read too takes the exact path for may be refused (the caller reads it whole)."""
    path = _write(tmp_path_factory.mktemp("csv"), data)
    exact: list[bool] = []
    real = csv_reader.read_with_python_csv

    def spied(*args: Any, **kwargs: Any) -> Extracted:
        exact.append(True)
        return real(*args, **kwargs)

    try:
        csv_reader.read_with_python_csv = spied  # type: ignore[assignment]
        try:
            read_csv(path)
        except SourceError:  # the whole read names what is wrong: the pieces leave it to it
            with pytest.raises(NotStreamable):
                _pieces(path, piece_bytes)
            return
        try:
            assert_same_as_whole(path, piece_bytes)
        except NotStreamable:
            assert exact, "a file the whole read's fast path reads must read in pieces"
    finally:
        csv_reader.read_with_python_csv = real  # type: ignore[assignment]
