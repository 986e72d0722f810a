"""Terminal rendering of a run: a progress bar on a TTY, plain lines otherwise.

Kept apart from cli.py so the rendering can be tested without invoking commands.
"""

from __future__ import annotations

import time
from typing import Any, TextIO

import click

from crmsync.pipeline import RunObserver
from crmsync.report import RunSummary

PLAIN_PROGRESS_EVERY_S = 5.0


class ConsoleObserver(RunObserver):
    """Prints stages as they end; load progress as a bar (TTY) or a line every few seconds."""

    def __init__(self, *, tty: bool, stream: TextIO | None = None) -> None:
        self.tty = tty
        self.stream = stream
        self._bar: Any = None
        self._total = 0
        self._batches = 0
        self._last_line = 0.0
        self._done = 0

    def _echo(self, text: str) -> None:
        click.echo(text, file=self.stream)

    def step_started(self, name: str, index: int, total: int) -> None:
        self._echo(f"\n[{index + 1}/{total}] {name}")

    def stage(self, name: str, detail: str) -> None:
        self._echo(f"{name:>9}: {detail}")

    def load_started(self, records: int, batches: int) -> None:
        self._total, self._batches = records, batches
        self._echo(f"     load: {records} records in {batches} batches")
        self._last_line = time.monotonic()
        if self.tty and records:
            self._bar = click.progressbar(
                length=records, label="  loading", show_pos=True, show_eta=True, file=self.stream
            )
            self._bar.__enter__()

    def load_progress(self, records_done: int, batches_done: int) -> None:
        if self._bar is not None:
            self._bar.update(records_done - self._done)
        elif time.monotonic() - self._last_line >= PLAIN_PROGRESS_EVERY_S:
            self._last_line = time.monotonic()
            self._echo(
                f"     load: {records_done}/{self._total} records, "
                f"{batches_done}/{self._batches} batches"
            )
        self._done = records_done

    def load_finished(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


def summary_table(summary: RunSummary) -> str:
    """The closing table: one line per outcome, then the requests and where the report is."""
    rows: list[tuple[str, str]] = [("rows read", str(summary.rows_read))]
    if summary.dry_run:
        rows.append(("would send", str(summary.planned)))
    else:
        rows += [("created", str(summary.created)), ("updated", str(summary.updated))]
        rows.append(("unchanged", str(summary.unchanged)))
    rows.append(("merged (duplicates)", str(summary.merged)))
    failed = str(summary.failed)
    stages = [f"{stage} {n}" for stage, n in summary.failed_by_stage.items() if n]
    if stages:
        failed += f"  ({', '.join(stages)})"
    rows.append(("failed", failed))
    if summary.warnings:
        rows.append(("rows with warnings", str(summary.warnings)))
    if not summary.dry_run:
        rows.append(
            (
                "requests",
                f"{summary.requests} ({summary.retries} retries, "
                f"{summary.rate_limited} rate-limited)",
            )
        )
    rows.append(("duration", f"{summary.duration_s:.1f} s"))
    width = max(len(label) for label, _ in rows)
    title = f"{summary.name}: {summary.object}" + (" (dry run)" if summary.dry_run else "")
    lines = [title, "-" * max(len(title), width + 12)]
    lines += [f"{label:<{width}}  {value}" for label, value in rows]
    return "\n".join(lines)


STEP_COLUMNS = ("read", "created", "updated", "unchanged", "merged", "failed")


def steps_table(summaries: list[RunSummary]) -> str:
    """One row per step of a multi-step run, then the totals."""
    header = ["step", "object", *STEP_COLUMNS, "requests", "seconds"]
    rows = []
    for s in summaries:
        counts = [s.rows_read, s.created, s.updated, s.unchanged, s.merged, s.failed]
        if s.dry_run:
            counts[1] = s.planned
        rows.append([s.name, s.object, *map(str, counts), str(s.requests), f"{s.duration_s:.1f}"])
    if summaries and summaries[0].dry_run:
        header[3] = "would send"
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join
    out = [
        line(
            h.ljust(w) if i < 2 else h.rjust(w)
            for i, (h, w) in enumerate(zip(header, widths, strict=True))
        )
    ]
    out.append(line("-" * w for w in widths))
    for row in rows:
        out.append(
            line(
                c.ljust(w) if i < 2 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    return "\n".join(out)
