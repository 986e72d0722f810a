"""A CSV file read in part reads as the whole file does: its first rows are the whole read's
first rows, whatever its encoding, preamble or values of several lines, wherever the head is
cut; its columns are the whole read's columns."""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from crmsync.errors import SourceError
from crmsync.extract import csv_stream
from crmsync.extract.csv_partial import read_csv_columns, read_csv_head
from crmsync.extract.csv_reader import read_csv
from crmsync.extract.encoding import whole_lines

# mostly ASCII, as exports are: UTF-16 without a BOM is told by its NUL bytes
TEXT = "Id,Name,Website\n1,Société,www.societe.example\n2,Zoë,zoe.example\r\n3,Łódź 日本,x.pl\n"
# (codec, BOM): the encodings decode() detects, and how each writes a line feed
ENCODINGS = [
    ("utf-8", b""),
    ("cp1252", b""),
    ("utf-16-le", codecs.BOM_UTF16_LE),
    ("utf-16-be", codecs.BOM_UTF16_BE),
    ("utf-16-le", b""),  # Outlook's UTF-16 without its BOM: every other byte NUL
    ("utf-32-le", codecs.BOM_UTF32_LE),
    ("utf-32-be", codecs.BOM_UTF32_BE),
]
ENCODING_IDS = ["utf8", "cp1252", "utf16le", "utf16be", "utf16-no-bom", "utf32le", "utf32be"]


@pytest.mark.parametrize(("codec", "bom"), ENCODINGS, ids=ENCODING_IDS)
def test_a_head_is_cut_after_its_last_whole_line_in_the_files_encoding(
    codec: str, bom: bytes
) -> None:
    text = TEXT if codec != "cp1252" else TEXT.replace("Łódź 日本", "Ærø")
    data = bom + text.encode(codec)
    lines = text.splitlines(keepends=True)
    prefixes = [bom + "".join(lines[:n]).encode(codec) for n in range(1, len(lines) + 1)]
    for cut in range(len(bom) + 1, len(data) + 1):
        head = whole_lines(data[:cut])
        fitting = [prefix for prefix in prefixes if len(prefix) <= cut]
        if fitting:  # the longest run of whole lines that fits, decodable as it is
            assert head == fitting[-1], cut
            assert head[len(bom) :].decode(codec).endswith("\n")
        else:  # no line feed in it: nothing to cut at
            assert head == data[:cut]


def _report(rows: int) -> str:
    """A report's title lines above the header, and a value of several lines in every row."""
    out = io.StringIO(newline="")
    out.write("Accounts by owner\nFiltered By: Type equals Customer\n\n")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Id", "Account Name", "Description"])
    for n in range(rows):
        writer.writerow([f"001A{n:03}", f"Société {n}", f'Renewal in Q{n % 4 + 1}.\nCall "ops".'])
    return out.getvalue()


@pytest.mark.parametrize(
    ("codec", "delimiter"),
    [("utf-8", ","), ("cp1252", ","), ("utf-16", "\t")],
    ids=["utf8", "cp1252", "utf16-tab"],
)
def test_the_first_rows_are_the_whole_reads_wherever_the_head_is_cut(
    tmp_path: Path, codec: str, delimiter: str
) -> None:
    path = tmp_path / "Account.csv"
    path.write_bytes(_report(12).replace(",", delimiter).encode(codec))
    whole = read_csv(path)
    assert (whole.header_line, whole.frame.height) == (4, 12)
    size = path.stat().st_size
    for head_bytes in range(size // 3, size + 2, 37):  # cuts inside values, lines, characters
        head = read_csv_head(path, rows=50, head_bytes=head_bytes)
        assert head.columns == whole.columns
        assert (head.encoding, head.delimiter, head.header_line) == (
            whole.encoding,
            whole.delimiter,
            whole.header_line,
        )
        assert head.frame.height >= 1, head_bytes
        assert_frame_equal(head.frame, whole.frame.head(head.frame.height))
        assert head.rejects.is_empty()


def test_a_head_holds_at_most_the_rows_asked_for(tmp_path: Path) -> None:
    path = tmp_path / "Account.csv"
    path.write_text(_report(12), encoding="utf-8")
    assert read_csv_head(path, rows=3).frame["Id"].to_list() == ["001A000", "001A001", "001A002"]


def test_a_head_that_cannot_be_read_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "Account.csv"
    path.write_bytes(b"PK\x03\x04 a workbook")
    with pytest.raises(SourceError, match=r"Account\.csv: this is an Excel \.xlsx workbook"):
        read_csv_head(path, rows=5)


def test_columns_are_the_whole_reads_and_a_missing_one_is_left_out(tmp_path: Path) -> None:
    path = tmp_path / "Account.csv"
    path.write_bytes(_report(12).encode("cp1252"))
    columns = read_csv_columns(path, ["Id", "Description", "Nowhere"])
    assert columns.columns == ["Id", "Description"]
    assert_frame_equal(columns, read_csv(path).frame.select("Id", "Description"))


def test_columns_of_a_big_file_are_read_a_piece_at_a_time_as_the_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_stream, "STREAM_LINES", 20)
    monkeypatch.setattr(csv_stream, "PIECE_LINES", 7)
    path = tmp_path / "Account.csv"
    path.write_text(_report(30), encoding="utf-8")
    assert csv_stream.read_in_pieces(path)
    assert len(list(csv_stream.stream_csv(path))) > 1
    assert_frame_equal(read_csv_columns(path, ["Id"]), read_csv(path).frame.select("Id"))
