"""A CSV file read in part, as `crmsync run` reads it whole: its first rows, or some columns.

`crmsync init` looks into the files beside a contacts export for the one holding its companies
(`starter.siblings`): their first rows show their header, then one or two columns of the right
one are needed in full. Read naively, a report's title lines above the header, a UTF-16 file
(Excel's "Unicode text") or a cp1252 one hid the file; read here, each is what the pipeline
will read: encoding detected, header found below any preamble, delimiter sniffed, columns named
as `read_csv` names them (a second `Phone` is `Phone_2`).

The head is cut where a line ends in the file's own encoding, decoded, and cut again after its
last whole record (quotes balanced), so a value of several lines cut in half is no unterminated
quote. Columns are read from the whole file, a big UTF-8 one a piece at a time, so only those
columns of it are ever held.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from crmsync.errors import SourceError
from crmsync.extract.csv_reader import read_csv, read_decoded
from crmsync.extract.csv_stream import NotStreamable, read_in_pieces, record_end, stream_csv
from crmsync.extract.encoding import Decoded, decode, read_bytes, whole_lines
from crmsync.extract.result import Extracted

HEAD_BYTES = 256 * 1024  # what the first rows are read from: some hundreds of rows


def read_csv_head(path: Path, *, rows: int, head_bytes: int = HEAD_BYTES) -> Extracted:
    """The file's first ``rows`` rows at most, read from its first ``head_bytes`` as the whole
    file would be (a file no bigger is read whole). Raises SourceError as `read_csv` does."""
    source = str(path)
    raw = read_bytes(path, source, limit=head_bytes + 1)
    if len(raw) <= head_bytes:
        decoded = decode(raw, None, source)
    else:
        decoded = decode(whole_lines(raw[:head_bytes]), None, source)
        end = record_end(decoded.data, 0, len(decoded.data))
        if end:  # else one record fills the head: read as it is, and said if unreadable
            decoded = Decoded(decoded.data[:end], decoded.encoding)
    read = read_decoded(decoded, source)
    return dataclasses.replace(read, frame=read.frame.head(rows))


def read_csv_columns(path: Path, columns: Sequence[str]) -> pl.DataFrame:
    """Those of ``columns`` the file has, on every row, read as `crmsync run` reads the file.
    Raises SourceError for a file that cannot be read as a whole, naming the line."""
    try:
        in_pieces = read_in_pieces(path)
    except OSError as exc:
        raise SourceError(f"cannot read file: {exc.strerror or exc}", source=str(path)) from None
    if in_pieces:
        try:
            pieces = [_selected(piece, columns) for piece in stream_csv(path)]
        except NotStreamable:
            pieces = []  # read whole below, as `run` does
        if pieces:
            return pl.concat(pieces)
    return _selected(read_csv(path), columns)


def _selected(read: Extracted, columns: Sequence[str]) -> pl.DataFrame:
    return read.frame.select(column for column in columns if column in read.columns)
