"""plan.csv and conflicts.csv, written as records settle (a big first load has millions of
field changes: they go to the file, not to memory).

    plan.csv       source,row,rally_id,field,from,to,why: one line per field a run writes in a
                   record Rally had, and per conflict it kept; a dry run also lists each record
                   it would create, on one line (no field; `to` holds its fields as JSON).
                   why: new, source changed, filled blank, conflict kept, conflict overwritten.
    conflicts.csv  source,row,rally_id,field,base,crm,source,kept: fields both the source and a
                   person changed since crmsync last wrote them, and which value was kept.

Values are written as JSON text (a list of tags stays a list), empty for none; a cell a
spreadsheet would run as a formula is escaped (`crmsync.spreadsheet`).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any, Protocol, TextIO

import polars as pl

from crmsync.closing import Closing
from crmsync.spreadsheet import escape_frame, escape_row

PLAN_FILE = "plan.csv"
CONFLICTS_FILE = "conflicts.csv"
PAYLOADS_FILE = "payloads.ndjson"
PLAN_HEADER = ("source", "row", "rally_id", "field", "from", "to", "why")
NEW = "new"  # the why of a record to create
CSV_LINE_END = "\r\n"  # csv.writer's, so lines written by polars match the others
CONFLICTS_HEADER = ("source", "row", "rally_id", "field", "base", "crm", "source", "kept")


class FieldChange(Protocol):
    """What the log needs of a field's change (run/merge.py's Change)."""

    @property
    def field(self) -> str: ...
    @property
    def before(self) -> Any: ...
    @property
    def after(self) -> Any: ...
    @property
    def why(self) -> str: ...
    @property
    def base(self) -> Any: ...
    @property
    def source(self) -> Any: ...


def cell(value: Any) -> str:
    """A value as one CSV cell: text as it is, anything else as JSON, nothing as empty."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


class _Escaping:
    """A csv writer whose text cells are escaped against formula injection."""

    def __init__(self, writer: Any) -> None:
        self._writer = writer

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow(escape_row(row))


class ChangeLog(Closing):
    """The files of one step's report folder written while its records settle: plan.csv,
    conflicts.csv, and a dry run's payloads.ndjson (what it would send, a record a line,
    written a part at a time: ten million of them held for the report took 1.5 GB)."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.plan_path = folder / PLAN_FILE
        self.conflicts_path = folder / CONFLICTS_FILE
        self._payloads_path = folder / PAYLOADS_FILE
        self._payloads: IO[bytes] | None = None
        # an earlier dry run's payloads left here would pass for what this run sent
        self._payloads_path.unlink(missing_ok=True)
        self._plan: TextIO = self.plan_path.open("w", newline="", encoding="utf-8")
        self._conflicts: IO[str] = self.conflicts_path.open("w", newline="", encoding="utf-8")
        self._plan_rows = _Escaping(csv.writer(self._plan))
        self._conflict_rows = _Escaping(csv.writer(self._conflicts))
        self._plan_rows.writerow(PLAN_HEADER)
        self._conflict_rows.writerow(CONFLICTS_HEADER)
        self.fields = 0
        self.conflicts = 0

    def add(
        self, source: str, row: int, rally_id: str | None, changes: Iterable[FieldChange]
    ) -> None:
        for change in changes:
            self.fields += 1
            self._plan_rows.writerow(
                (
                    source,
                    row,
                    rally_id or "",
                    change.field,
                    cell(change.before),
                    cell(change.after),
                    change.why,
                )
            )
            if change.why.startswith("conflict"):
                self.conflicts += 1
                kept = "crm" if change.why == "conflict kept" else "source"
                self._conflict_rows.writerow(
                    (
                        source,
                        row,
                        rally_id or "",
                        change.field,
                        cell(change.base),
                        cell(change.before),
                        cell(change.source),
                        kept,
                    )
                )

    def add_created(self, created: pl.DataFrame) -> None:
        """Records a dry run would create, whole: one line each, not one per field (a
        million-row first load would otherwise write ten million). `created` has `_source`,
        `_row`, `to` (the fields as a JSON object) and `fields` (how many), and is written by
        polars, as csv.writer would write it."""
        self.fields += int(created["fields"].sum())
        blank = pl.lit(None, pl.String)
        lines = created.select(
            pl.col("_source").alias("source"),
            pl.col("_row").alias("row"),
            blank.alias("rally_id"),
            blank.alias("field"),
            blank.alias("from"),
            "to",
            pl.lit(NEW).alias("why"),
        )
        self._plan.flush()  # polars writes to the file beneath, after what csv.writer wrote
        escape_frame(lines, safe={"to"}).write_csv(  # `to` is a JSON object: "{" first
            self._plan.buffer, include_header=False, line_terminator=CSV_LINE_END
        )

    def add_payloads(self, lines: pl.Series) -> None:
        """Records as a dry run would send them: JSON text, one a line."""
        if self._payloads is None:
            self._payloads = self._payloads_path.open("wb")
        if lines.len():  # JSON text has no raw line break in it: written as it is
            lines.to_frame().write_csv(self._payloads, include_header=False, quote_style="never")

    @property
    def written(self) -> dict[str, Path]:
        """The report's files this log wrote, by name."""
        files = {"plan": self.plan_path, "conflicts": self.conflicts_path}
        if self._payloads is not None:
            files["payloads"] = self._payloads_path
        return files

    def close(self) -> None:
        self._plan.close()
        self._conflicts.close()
        if self._payloads is not None:
            self._payloads.close()
