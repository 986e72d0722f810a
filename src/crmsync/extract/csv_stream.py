"""A big CSV file read a piece at a time, so its rows never sit in memory all at once.

The file is cut where a record ends: after a line feed with the quotes before it balanced,
counted from the header on, which is the model the whole-file reader's layout check uses. Each
piece is parsed on the same fast path as a whole file (``csv_reader``), behind a copy of the
header, with its lines numbered as the file numbers them. A header of two rows (SurveyMonkey's)
is found in the head as a whole read finds it: every piece then starts with its second row,
named from both as the whole read names it. Together the pieces give exactly
the rows and rejects a whole read gives.

Only a plain UTF-8 file goes piece by piece. One that is not (another encoding, a BOM of
UTF-16, NUL bytes), or whose piece the fast path cannot read (stray quotes, lone carriage
returns), raises `NotStreamable`, and the caller reads the file whole: the exact path then
reads it, or names what is wrong with it, as it always did.
"""

from __future__ import annotations

import codecs
import dataclasses
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import polars as pl

from crmsync.extract.csv_reader import offset_after_lines, read_fast, with_header_rows
from crmsync.extract.encoding import BOM_UTF8, NUL, WORKBOOK_MAGIC, utf8_lines
from crmsync.extract.footer import without_footer
from crmsync.extract.preamble import SAMPLE_BYTES, find_header
from crmsync.extract.result import Extracted
from crmsync.extract.sniff import SNIFF_BYTES, sep_line, sniff_delimiter

STREAM_BYTES = 64 * 1024 * 1024  # a file this big is read a piece at a time
PIECE_BYTES = 16 * 1024 * 1024  # about this much of it at a time
# and at most this many lines: every line costs some 200 bytes in the reader whatever its
# length, so 16 MiB of blank lines took 3.5 GB (a row of a real export is 100 bytes or more)
PIECE_LINES = 250_000
STREAM_LINES = 8 * PIECE_LINES  # a smaller file of more lines is read in pieces too: its
# lines would cost more than a 64 MiB file of ordinary rows (a million rows of 30 bytes read
# whole took 3.0 s and 664 MiB, in pieces 3.7 s and 477 MiB)
HEAD_BYTES = 4 * 1024 * 1024  # what the header, delimiter and preamble are found in
QUOTE, LF, CR = b'"', b"\n", b"\r"
_LONE_CR = re.compile(rb"\r(?!\n)")
UTF8_NAMES = ("utf-8", "utf-8-sig")


class NotStreamable(Exception):
    """The file has to be read whole (see the module's docstring)."""


def stream_csv(
    path: Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    skip_rows: int | None = None,
    source: str | None = None,
    piece_bytes: int | None = None,
) -> Iterator[Extracted]:
    """The file's records, a piece at a time, each piece an `Extracted` of its rows and
    rejects (columns, encoding, delimiter and header line those of the file; the last says
    the report's footer left out below the table, if any). Raises NotStreamable, before or
    between pieces, when the file must be read whole."""
    pending: Extracted | None = None
    for read in _stream(path, encoding, delimiter, skip_rows, source, piece_bytes):
        if pending is not None:
            yield pending
        pending = read
    if pending is not None:
        yield without_footer(pending)


def _stream(
    path: Path,
    encoding: str | None,
    delimiter: str | None,
    skip_rows: int | None,
    source: str | None,
    piece_bytes: int | None,
) -> Iterator[Extracted]:
    name = str(path) if source is None else source
    with path.open("rb") as file:
        head = file.read(HEAD_BYTES)
        reported, skip = _utf8(head, encoding)
        data = head[skip:]
        whole = len(head) < HEAD_BYTES  # the head is the whole file
        if LF not in data:
            raise NotStreamable("no line feed in the file's head")
        hinted, skip_lines = sep_line(data)
        if skip_rows is not None:
            skip_lines = max(skip_lines, skip_rows)
        detect = skip_rows is None
        if delimiter is None:
            after = offset_after_lines(data, skip_lines)
            if after + SNIFF_BYTES > len(data) and not whole:
                raise NotStreamable("the table starts too far in")
            delimiter = hinted or sniff_delimiter(data[after:], detect=detect)
        start = find_header(data, delimiter, skip_lines, detect=detect)
        if start.offset + 2 * SAMPLE_BYTES > len(data) and not whole:
            raise NotStreamable("the table starts too far in")
        file.seek(skip + start.offset)
        header: bytes | None = None
        lines_seen = 0  # line feeds in the table before the piece
        first: Extracted | None = None
        for piece in _pieces(file, piece_bytes or PIECE_BYTES):
            if header is None:  # the first piece holds the header: read as the whole file is
                text, lines_before = piece, start.lines_before
            else:
                text = header + piece
                lines_before = start.lines_before + lines_seen - header.count(LF)
            lines = _checked_lines(text)
            read, header_lines = _parse(
                text, lines_before, name, reported, delimiter, start.names, lines
            )
            del lines  # not held while the piece is checked
            if first is None:
                first = with_header_rows(read, start)
                header = _header_bytes(piece, header_lines)
            elif read.columns != first.columns:
                raise NotStreamable("a piece's header reads differently")
            lines_seen += piece.count(LF)
            yield dataclasses.replace(
                read,
                header_line=first.header_line,
                subheader_line=first.subheader_line,
                renamed=first.renamed,
            )


def read_csv_pieces(path: Path, **options: Any) -> Extracted:
    """The whole file read piece by piece (`stream_csv`'s options) into one `Extracted`: the
    rows of a file of many short or blank lines in memory bounded by its rows, not its lines.
    Raises NotStreamable as `stream_csv` does."""
    pieces = list(stream_csv(path, **options))
    if not pieces:
        raise NotStreamable("no piece")
    return dataclasses.replace(
        pieces[0],
        frame=pl.concat([piece.frame for piece in pieces], how="vertical"),
        rejects=pl.concat([piece.rejects for piece in pieces], how="vertical"),
        footer=pieces[-1].footer,
        footer_first=pieces[-1].footer_first,
    )


def read_in_pieces(path: Path) -> bool:
    """Whether a CSV file is big enough, in bytes or in lines, to be read a piece at a time
    (OSError for a file that cannot be looked at)."""
    size = path.stat().st_size
    return size >= STREAM_BYTES or (size > STREAM_LINES and _many_lines(path))


def _many_lines(path: Path) -> bool:
    """Whether the file has more than STREAM_LINES lines (counted a block at a time)."""
    count = 0
    with path.open("rb") as file:
        while block := file.read(PIECE_BYTES):
            count += block.count(LF)
            if count > STREAM_LINES:
                return True
    return False


def _utf8(head: bytes, encoding: str | None) -> tuple[str, int]:
    """(the encoding a whole read reports, the bytes of BOM to skip) for a UTF-8 file;
    NotStreamable for anything else."""
    if any(head.startswith(magic) for magic in WORKBOOK_MAGIC):
        raise NotStreamable("not a text file")
    bom = head.startswith(BOM_UTF8)
    if encoding is None:
        if NUL in head or (not bom and head[:2] in (b"\xff\xfe", b"\xfe\xff")):
            raise NotStreamable("UTF-16 or UTF-32")
        return ("utf-8-sig" if bom else "utf-8"), (len(BOM_UTF8) if bom else 0)
    try:
        given = codecs.lookup(encoding).name
    except LookupError:
        raise NotStreamable("an unknown encoding") from None
    if given not in UTF8_NAMES:
        raise NotStreamable(f"encoding {given}")
    return given, (len(BOM_UTF8) if bom else 0)


def _checked_lines(text: bytes) -> pl.DataFrame | None:
    """NotStreamable unless `text` is UTF-8 without NUL bytes or lone carriage returns; its
    lines when the UTF-8 check read them (`utf8_lines`: the reader takes them as they are).
    Checked in one pass each (a regex, and the lines): some 10 ms for a 16 MiB piece, where
    counting and decoding took 45."""
    if NUL in text:
        raise NotStreamable("NUL bytes")
    if CR in text and _LONE_CR.search(text) is not None:
        raise NotStreamable("a carriage return that ends no line")
    valid, lines = utf8_lines(text)
    if not valid:
        raise NotStreamable("not UTF-8")
    return lines


def _parse(
    text: bytes,
    lines_before: int,
    source: str,
    encoding: str,
    delimiter: str,
    names: Sequence[str] | None,
    lines: pl.DataFrame | None,
) -> tuple[Extracted, int]:
    """A piece read on the fast path, and how many of its lines are the table's up to and
    with its header record (`names`: a two-row header's, for the header record every piece
    starts with; `lines`: its lines, if read already)."""
    read = read_fast(text, lines_before, source, encoding, delimiter, names, lines)
    if read is None:
        raise NotStreamable("the fast path cannot read a piece")
    return read


def _header_bytes(piece: bytes, header_lines: int) -> bytes:
    """The table's first `header_lines` lines (up to and with its header record: the first
    piece's), set before every later piece."""
    if header_lines == 0:
        raise NotStreamable("no header")
    end = -1
    for _ in range(header_lines):
        end = piece.find(LF, end + 1)
        if end < 0:
            raise NotStreamable("the header has no line end")
    return piece[: end + 1]


def _pieces(file: BinaryIO, piece_bytes: int) -> Iterator[bytes]:
    """The rest of `file` in pieces of about `piece_bytes` and at most PIECE_LINES lines, each
    ending where a record ends (the last of them wherever the file ends)."""
    rest = b""
    while block := file.read(piece_bytes):
        data = rest + block if rest else block
        start = 0
        while (cut := _cut(data, start)) > start:
            yield data[start:cut]
            start = cut
        rest = data[start:]
    if rest:
        yield rest


def _cut(data: bytes, start: int) -> int:
    """Where the piece of `data` from `start` ends: past its last whole record within
    PIECE_LINES lines (`start` when no record ends in it)."""
    limit = len(data)
    if data.count(LF, start) > PIECE_LINES:  # short lines: bytes alone would not bound it
        limit = start
        for _ in range(PIECE_LINES):
            limit = data.index(LF, limit) + 1
    return record_end(data, start, limit)


def record_end(data: bytes, start: int, limit: int) -> int:
    """Where the last whole record of `data[start:limit]` ends: just past the last line feed
    with an even number of quotes between `start` and it (`start`: none)."""
    end = data.rfind(LF, start, limit)
    if end < 0:
        return start
    odd = data.count(QUOTE, start, end) % 2 == 1
    while odd:
        before = data.rfind(LF, start, end)
        if before < 0:
            return start
        odd ^= data.count(QUOTE, before, end) % 2 == 1
        end = before
    return end + 1
