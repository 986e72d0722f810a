"""Where a CSV file's table starts: its header, after any lines written for people.

Exports put lines above the table: LinkedIn's ``Notes:`` and a paragraph, a report's title and
its ``Filtered By:`` line, a blank line. Taking the first line as the header then turns the whole
file into rejects. The header is therefore the first record that

* holds names, not data: at least ``MIN_HEADER_NAMES`` cells with letters, none of them an
  email, a URL, a number or a date;
* has the field count most records after it have (the body's dominant width);

and it is taken over the first record only when every record above it reads as text for
people (``preamble_like``): a cell or two, the first with a space, a colon or a ``#`` in it, or
a long sentence. A one-word first line (``Email``) is a one-column header, never a preamble, so
a file whose first record is its header reads exactly as it always did. When detection cannot
decide, the caller passes the number of lines to skip instead. A second header row right below
the header (SurveyMonkey's sub-fields) is recognised by ``subheader``.

Everything here works on physical lines (``\\r\\n``, ``\\r`` or ``\\n`` ends one), as the readers
count them, so ``_row`` stays the line an editor shows.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from crmsync.extract.cells import data_like, name_like
from crmsync.extract.subheader import header_names, second_header

SAMPLE_BYTES = 64 * 1024
SAMPLE_RECORDS = 60
MAX_PREAMBLE_RECORDS = 15
MIN_HEADER_NAMES = 3
LONG_SENTENCE_CHARS = 40
BLANK_CHARS = " \t\f\v\r\n"

PHYSICAL_LINE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


@dataclass(frozen=True)
class Record:
    """One parsed record of the sample: the physical line it starts on (1-based), its fields."""

    line: int
    fields: list[str]

    @property
    def filled(self) -> list[str]:
        return [field.strip() for field in self.fields if field.strip(BLANK_CHARS)]


@dataclass(frozen=True)
class HeaderStart:
    """Where the table starts: ``lines_before`` physical lines precede the header record the
    readers parse, which begins at byte ``offset``. ``detected`` says lines other than blank
    ones were skipped.

    A header of two rows (``subheader``) has ``names``, its columns' names read from both,
    and ``first_line``, the first row's line; the record at ``offset`` is then the second
    row, which the readers parse as the header (so the body follows it, numbered as ever) and
    name with ``names``."""

    lines_before: int
    offset: int
    detected: bool
    names: tuple[str, ...] | None = None
    first_line: int | None = None

    @property
    def line(self) -> int:
        """The 1-based physical line of the record parsed as the header."""
        return self.lines_before + 1


def physical_lines(data: bytes) -> Iterator[bytes]:
    """The lines of UTF-8 ``data`` with their ends (no multi-byte character holds CR or LF)."""
    return (match.group(0) for match in PHYSICAL_LINE.finditer(data))


def sample_records(lines: Sequence[bytes], delimiter: str) -> list[Record]:
    """The non-blank records that start in ``lines`` (the last dropped when cut short)."""
    text = [line.decode("utf-8", errors="replace") for line in lines]
    reader = csv.reader(iter(text), delimiter=delimiter, strict=False)
    records: list[Record] = []
    consumed = 0
    try:
        for fields in reader:
            start, consumed = consumed + 1, reader.line_num
            if start == consumed and not "".join(fields).strip(BLANK_CHARS):
                continue  # a blank line: not a record, as the readers say
            records.append(Record(start, fields))
            if len(records) >= SAMPLE_RECORDS:
                break
    except csv.Error:
        pass  # a malformed sample is judged on what parsed; the reader reports the error
    return records


def table_start(records: Sequence[Record]) -> int:
    """Index in ``records`` of the header: 0 unless a preamble is recognised above it."""
    for index in range(1, min(len(records), MAX_PREAMBLE_RECORDS + 1)):
        candidate = records[index]
        if not looks_like_header(candidate, records[index + 1 :]):
            continue
        limit = max(1, (len(candidate.filled) - 1) // 2)  # under half the header
        if all(preamble_like(record, limit) for record in records[:index]):
            return index
        return 0
    return 0


def looks_like_header(record: Record, body: Sequence[Record]) -> bool:
    """Names, not data, and the width of the records that follow it."""
    filled = record.filled
    if any(data_like(cell) for cell in filled):
        return False
    names = sum(1 for cell in filled if name_like(cell))
    if names < MIN_HEADER_NAMES:
        return False
    if not body:
        return True
    widths = Counter(len(other.fields) for other in body)
    dominant, _ = max(widths.items(), key=lambda item: (item[1], item[0]))
    return dominant == len(record.fields)


def preamble_like(record: Record, limit: int) -> bool:
    """Text for people: at most ``limit`` cells, the first a title, a label or a sentence."""
    filled = record.filled
    if not filled or len(filled) > limit:
        return False
    first = filled[0]
    return (
        any(ch.isspace() for ch in first)
        or ":" in first
        or first.startswith("#")
        or len(first) >= LONG_SENTENCE_CHARS
    )


def find_header(data: bytes, delimiter: str, skip_lines: int, *, detect: bool) -> HeaderStart:
    """Where the header of UTF-8 CSV ``data`` starts, after ``skip_lines`` lines that are
    never the header (Excel's ``sep=`` line, or lines the caller said to skip).

    Without ``detect`` the header is the first non-blank record after them; with it, a
    preamble above the table is skipped too (``table_start``), and a second header row below
    the header is read into it (``subheader``: SurveyMonkey's).
    """
    lines: list[bytes] = []
    sampled = 0
    truncated = False
    for line in physical_lines(data):
        lines.append(line)
        if len(lines) > skip_lines:
            sampled += len(line)
            if sampled > SAMPLE_BYTES:
                truncated = True
                break
    records = sample_records(lines[skip_lines:], delimiter)
    if truncated and len(records) > 1:
        records.pop()  # may have been cut in the middle
    if not records:
        return HeaderStart(skip_lines, sum(len(x) for x in lines[:skip_lines]), detected=False)
    index = table_start(records) if detect else 0
    header = records[index]
    if detect and index + 1 < len(records):
        second = records[index + 1]
        if second_header(header.fields, second.fields):
            before = skip_lines + second.line - 1
            return HeaderStart(
                before,
                sum(len(x) for x in lines[:before]),
                detected=True,
                names=tuple(header_names(header.fields, second.fields)),
                first_line=skip_lines + header.line,
            )
    before = skip_lines + header.line - 1
    return HeaderStart(before, sum(len(x) for x in lines[:before]), detected=index > 0)
