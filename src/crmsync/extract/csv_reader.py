"""CSV reading on polars, for the messy files people really have.

The fast path: polars parses the values (all String), ``layout.scan_layout`` finds where each
record starts and how many fields it has, both vectorized. When the two disagree, or polars
refuses the file (stray quotes inside unquoted fields, ``"ab"c``), the file is read again with
Python's csv module (``csv_fallback``), which is slower but lenient the way Excel is, and which
locates an unterminated quote precisely.
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from crmsync.errors import SourceError
from crmsync.extract.csv_fallback import FIELD_SIZE_LIMIT, read_with_python_csv
from crmsync.extract.encoding import Decoded, decode, read_bytes
from crmsync.extract.footer import without_footer
from crmsync.extract.layout import Layout, count_of, last_lines, raw_records, scan_layout
from crmsync.extract.one_line import read_one_line_records
from crmsync.extract.polars_csv import parse_values
from crmsync.extract.preamble import HeaderStart, find_header
from crmsync.extract.records import assemble, check_width, fields_of, own_or_given
from crmsync.extract.result import Extracted, empty_frame, empty_rejects
from crmsync.extract.sniff import sep_line, sniff_delimiter

CR, LF = b"\r", b"\n"


def read_csv(
    path: str | Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    skip_rows: int | None = None,
) -> Extracted:
    """Read a CSV file: every column as String, ``_row`` the physical line a record starts on.

    ``encoding``/``delimiter`` None mean detect. ``skip_rows`` None finds the header after any
    preamble (a report title, LinkedIn's notes, blank lines: ``preamble``); a number skips that
    many physical lines instead and takes the first non-blank record after them. Either way
    ``_row`` counts every line of the file and ``Extracted.header_line`` says where the header
    was. Raises SourceError for a file that cannot be read as a whole (missing, undecodable, an
    unterminated quote), naming the line.
    """
    source = str(path)
    if delimiter is not None and len(delimiter) != 1:
        raise SourceError(f"delimiter must be one character, got {delimiter!r}", source=source)
    if skip_rows is not None and skip_rows < 0:
        raise SourceError(f"skip_rows must be 0 or more, got {skip_rows}", source=source)
    # passed on, not kept here: the lines the UTF-8 check read go once the reader is done
    return read_decoded(
        decode(read_bytes(path, source), encoding, source),
        source,
        delimiter=delimiter,
        skip_rows=skip_rows,
    )


def read_decoded(
    decoded: Decoded,
    source: str,
    *,
    delimiter: str | None = None,
    skip_rows: int | None = None,
) -> Extracted:
    """`read_csv` of text already decoded to UTF-8 (``source`` names it in errors): the same
    header, delimiter and record handling, for a part of a file as for a whole one."""
    # process-wide, 128 KiB until raised: the header's and preamble's csv readers below meet
    # it too, not only the fallback (a 1 MB column name crashed a fresh run)
    csv.field_size_limit(FIELD_SIZE_LIMIT)
    data = decoded.data
    if LF not in data and CR in data:
        data = data.replace(CR, LF)  # classic Mac line ends (old Excel for Mac): same lines
    hinted, skip_lines = sep_line(data)
    detect = skip_rows is None
    if skip_rows is not None:
        skip_lines = max(skip_lines, skip_rows)  # the sep= line is never a header
    if delimiter is None:
        after = data[offset_after_lines(data, skip_lines) :]
        delimiter = hinted or sniff_delimiter(after, detect=detect)
    if not data or data.isspace():  # isspace stops at the first content byte; strip would copy
        return Extracted(empty_frame(()), empty_rejects(), (), decoded.encoding, delimiter)
    start = find_header(data, delimiter, skip_lines, detect=detect)
    table = data[start.offset :] if start.offset else data
    lines = decoded.lines if table is decoded.data else None  # its lines, when already read
    encoding = decoded.encoding
    del decoded  # the lines are let go of with the reader's, not held to the end
    fast = read_fast(table, start.lines_before, source, encoding, delimiter, start.names, lines)
    del lines
    result = None if fast is None else fast[0]
    if result is None:
        result = read_with_python_csv(
            data.decode("utf-8"),
            source=source,
            skip_lines=start.lines_before,
            encoding=encoding,
            delimiter=delimiter,
            names=start.names,
        )
    return without_footer(with_header_rows(result, start))


def with_header_rows(read: Extracted, start: HeaderStart) -> Extracted:
    """`read`, whose header record was the second row of a two-row header (`start.names`),
    with `header_line` the first row's and `subheader_line` the second's."""
    if start.names is None:
        return read
    return dataclasses.replace(read, header_line=start.first_line, subheader_line=read.header_line)


def offset_after_lines(data: bytes, count: int) -> int:
    """Where `data` goes on after its first `count` lines (its end when it has fewer)."""
    start = 0
    for _ in range(count):
        start = data.find(LF, start) + 1 or len(data)  # find -1 (no LF): nothing after
    return start


def read_fast(
    data: bytes,
    lines_before: int,
    source: str,
    encoding: str,
    delimiter: str,
    names: Sequence[str] | None = None,
    lines: pl.DataFrame | None = None,
) -> tuple[Extracted, int] | None:
    """The fast path over ``data`` (the table from its header on; ``lines``, its
    `read_lines` if read already): the read, and how many lines the table has up to and with
    its header record (0: it has none); None when only the exact path can read it. A table
    of one-line records is read without its layout."""
    read = read_one_line_records(data, lines_before, source, encoding, delimiter, names, lines)
    if read is not None:
        return read, 1
    layout = scan_layout(data, delimiter, lines)
    if layout is None:
        return None
    read = read_with_polars(data, layout, lines_before, source, encoding, delimiter, names)
    if read is None:
        return None
    records = layout.records.filter(~pl.col("blank_line"))
    return read, 0 if records.is_empty() else int(records["last"][0]) + 1


def read_with_polars(
    data: bytes,
    layout: Layout,
    lines_before: int,
    source: str,
    encoding: str,
    delimiter: str,
    names: Sequence[str] | None = None,
) -> Extracted | None:
    """The fast path over ``data``, the file from its header on (``lines_before`` lines cut
    above it); None when polars and the layout disagree (the caller falls back). ``names``,
    when given, name the header record's columns (a two-row header's, read from both)."""
    records = layout.records.with_columns(pl.col("line") + lines_before)
    candidates = records.with_row_index("rec").filter(~pl.col("blank_line"))
    if candidates.height == 0:
        return Extracted(empty_frame(()), empty_rejects(), (), encoding, delimiter)
    header_rec = int(candidates["rec"][0])
    header_first = int(candidates["first"][0])
    # the header's width before polars parses every column of it
    header_raw = str(raw_records(layout, pl.Series([header_rec]))[0])
    width = len(fields_of(header_raw, delimiter))
    check_width(width, source, int(candidates["line"][0]))
    parsed = parse_values(data, delimiter, skip_lines=header_first, truncate_ragged=True)
    if parsed is None:
        return None
    meta = records.slice(header_rec)
    if parsed.height != meta.height:
        return None
    # a record's fields = its delimiters outside quotes + 1; the ones inside quotes are exactly
    # those in polars' values (a long record's truncated tail is recounted for its reject)
    inside = _delimiters_inside(parsed, meta["quoted"], delimiter)
    meta = meta.with_columns(
        fields=pl.col("delims") - inside + 1,
        blank=pl.col("blank_line"),
    )
    if int(meta["fields"][0]) != parsed.width:
        return None
    header = own_or_given(parsed.row(0), names)

    def raw_of(positions: pl.Series) -> pl.Series:
        return raw_records(layout, positions + header_rec + 1)

    def last_line_of(positions: pl.Series) -> pl.Series:
        return last_lines(layout, positions + header_rec + 1)

    return assemble(
        source=source,
        header=header,
        body=parsed.slice(1),
        meta=meta.slice(1),
        raw_of=raw_of,
        last_line_of=last_line_of,
        encoding=encoding,
        delimiter=delimiter,
        header_line=int(meta["line"][0]),
    )


def _delimiters_inside(parsed: pl.DataFrame, quoted: pl.Series, delimiter: str) -> pl.Series:
    """Per record, the delimiters polars found inside its values. Only a record with a quote
    in its text can hold one: the others are not searched (a clean export quotes nothing,
    and many quote a value in only some records)."""
    inside = pl.repeat(0, parsed.height, dtype=pl.UInt32, eager=True)
    positions = quoted.arg_true()
    if positions.len():
        # counted column by column and summed: joining each record's values first took
        # 76 ms where this takes 58 on a million records, a fifth of them quoted
        counts = (count_of(pl.col(name), delimiter) for name in parsed.columns)
        found = parsed.filter(quoted).select(pl.sum_horizontal(counts)).to_series()
        inside = inside.scatter(positions, found)
    return inside
