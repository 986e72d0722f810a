"""Writing the small CSV files init's tests read."""

from __future__ import annotations

import csv
from pathlib import Path


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    """`rows` as a CSV file at `path` (the first row's keys are the header); `path`."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path
