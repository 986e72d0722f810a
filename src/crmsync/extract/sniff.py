"""Finding a CSV file's delimiter from its first records.

A semicolon file from a European Excel must just work, so the delimiter is not assumed: each
candidate parses the first records (quotes respected, by Python's csv module), and the one that
splits the header into the most fields, consistently across the records after it, wins.
Excel's ``sep=;`` first line, when present, decides it outright. Lines above the table (a
report title, LinkedIn's notes) are skipped for each candidate as the reader skips them, so
they do not hide the table's delimiter.
"""

from __future__ import annotations

import csv
import io
import re

from crmsync.extract.preamble import Record, table_start

CANDIDATES = (",", ";", "\t", "|")
DEFAULT_DELIMITER = ","
SNIFF_BYTES = 64 * 1024
SNIFF_RECORDS = 50
SEP_LINE = re.compile(rb"\Asep=(.)\r?(?:\n|\Z)", re.IGNORECASE)


def sep_line(data: bytes) -> tuple[str | None, int]:
    """Excel's ``sep=X`` hint: (X, number of lines it takes), or (None, 0)."""
    match = SEP_LINE.match(data)
    if match is None:
        return None, 0
    return match.group(1).decode("utf-8", errors="replace"), 1


def sniff_delimiter(data: bytes, *, detect: bool = True) -> str:
    """The most plausible of ``, ; TAB |`` for this UTF-8 content (``,`` when none splits).

    With ``detect``, each candidate is judged on the table below any preamble it recognises.
    """
    truncated = len(data) > SNIFF_BYTES
    sample = data[:SNIFF_BYTES].decode("utf-8", errors="ignore")
    best: tuple[float, int, int] | None = None
    chosen = DEFAULT_DELIMITER
    for rank, candidate in enumerate(CANDIDATES):
        records = _records(sample, candidate, truncated)
        if detect:
            records = records[table_start([Record(0, r) for r in records]) :]
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        body = records[1:]
        consistency = sum(len(r) == width for r in body) / len(body) if body else 1.0
        score = (consistency, width, -rank)
        if best is None or score > best:
            best, chosen = score, candidate
    return chosen


def _records(sample: str, delimiter: str, truncated: bool) -> list[list[str]]:
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter, strict=False)
    records: list[list[str]] = []
    try:
        for record in reader:
            if any(field.strip() for field in record):
                records.append(record)
            if len(records) > SNIFF_RECORDS:
                break
    except csv.Error:
        pass  # a malformed sample just scores on what parsed; the reader reports the error
    if truncated and len(records) > 1:
        records.pop()  # may have been cut in the middle
    return records
