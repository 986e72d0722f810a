"""Extract: read CSV, JSON and NDJSON sources into polars frames that remember where each
record came from (``_source``, ``_row``), with unparseable records kept aside as rejects.

Every record of a file ends up in exactly one of ``Extracted.frame`` or ``Extracted.rejects``;
a file that cannot be read as a whole raises ``crmsync.errors.SourceError`` naming the line.
"""

from __future__ import annotations

from pathlib import Path

from crmsync.extract.csv_reader import read_csv
from crmsync.extract.json_reader import read_json, read_ndjson
from crmsync.extract.result import REJECT_SCHEMA, ROW_COL, SOURCE_COL, Extracted, SourceKind

__all__ = [
    "REJECT_SCHEMA",
    "ROW_COL",
    "SOURCE_COL",
    "Extracted",
    "SourceKind",
    "read_source",
]


def read_source(
    kind: SourceKind,
    path: str | Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    skip_rows: int | None = None,
    records: str | None = None,
) -> Extracted:
    """Read one source file of the given kind.

    ``encoding=None`` detects it (BOM, then UTF-8, then cp1252, then latin-1; never lossy);
    ``delimiter=None`` sniffs it among ``, ; TAB |``; ``skip_rows=None`` finds the header
    below any preamble, a number skips that many lines first (CSV only; both ignored for
    JSON kinds). ``records`` (JSON kinds only) reads the objects nested in that member of each
    record, a row each.
    """
    if kind == "csv":
        return read_csv(path, encoding=encoding, delimiter=delimiter, skip_rows=skip_rows)
    if kind == "json":
        return read_json(path, encoding=encoding, records=records)
    if kind == "ndjson":
        return read_ndjson(path, encoding=encoding, records=records)
    raise ValueError(f"unknown source kind {kind!r}: expected csv, json or ndjson")
