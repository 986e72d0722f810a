"""What an undo reports: each journal entry as it was settled, a summary per object, and
undo.csv beside summary.json."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from crmsync.report.summary import RunSummary
from crmsync.spreadsheet import escape_row
from crmsync.state.journal import Entry

UNDO_ORDER = ("activities", "contacts", "companies")  # what points at others goes first
UNDO_FILE = "undo.csv"
UNDO_HEADER = ("object", "rally_id", "action", "result", "fields", "note")


@dataclass
class Settled:
    """One journal entry as the undo settled it."""

    entry: Entry
    result: str  # deleted, restored, left alone, failed, would delete, would restore
    fields: list[str] = field(default_factory=list)
    note: str | None = None


def undo_summaries(
    settled: list[Settled], run_id: int, dry_run: bool, started: datetime, interrupted: bool
) -> list[RunSummary]:
    out = []
    for name in UNDO_ORDER:
        mine = [s for s in settled if s.entry.object == name]
        if not mine:
            continue
        count = {r: sum(1 for s in mine if s.result == r) for r in {s.result for s in mine}}
        out.append(
            RunSummary(
                name=f"undo {name}",
                object=name,
                source=f"run {run_id}",
                dry_run=dry_run,
                started_at=started.isoformat(timespec="seconds"),
                finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
                rows_read=len(mine),
                deleted=count.get("deleted", 0),
                updated=count.get("restored", 0),
                planned=count.get("would delete", 0) + count.get("would restore", 0),
                unchanged=count.get("left alone", 0),
                failed=count.get("failed", 0),
                interrupted=interrupted,
            )
        )
    return out


def write_report(
    folder: Path, settled: list[Settled], summaries: list[RunSummary], duration: float
) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = {"undo": folder / UNDO_FILE, "summary": folder / "summary.json"}
    with files["undo"].open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(UNDO_HEADER)
        for s in settled:
            writer.writerow(
                escape_row(
                    (
                        s.entry.object,
                        s.entry.rally_id,
                        s.entry.action,
                        s.result,
                        " ".join(s.fields),
                        s.note or "",
                    )
                )
            )
    for summary in summaries:
        summary.duration_s = duration
        summary.report_dir = str(folder)
        summary.files = {name: str(path) for name, path in files.items()}
    files["summary"].write_text(
        json.dumps([asdict(s) for s in summaries], indent=2) + "\n", encoding="utf-8"
    )
    return files
