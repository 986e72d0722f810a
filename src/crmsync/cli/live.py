"""What a terminal shows with rich: the load's progress (records/s, ETA, requests in flight,
429s and retries) and the closing tables, fitted to the terminal's width (80 columns and up).

Only used when stdout is a terminal: without one the console prints plain lines
(console.py), and the JSON log prints events (json_log.py).
"""

from __future__ import annotations

from typing import Any, TextIO

from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from crmsync.api.timeline import LoadTimeline
from crmsync.report import RunSummary
from crmsync.report.wording import counted

REFRESH_PER_S = 4
BAR_WIDTH = 12  # leaves the figures room on one line of 80 columns


class _Speed(ProgressColumn):
    """Records settled per second, as rich measures them over its last samples."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        if speed is None and task.finished and task.elapsed:
            speed = task.completed / task.elapsed
        return Text("- rec/s" if speed is None else f"{speed:,.0f} rec/s", style="cyan")


class _Requests(ProgressColumn):
    """Requests in flight, 429s and retries so far, read from the client's timeline."""

    def __init__(self, live: LoadTimeline | None) -> None:
        super().__init__()
        self.live = live

    def render(self, task: Task) -> Text:
        if self.live is None:
            return Text("")
        live = self.live
        text = Text(f"{live.in_flight} in flight")
        text.append(f", {live.rate_limited} 429s", style="red" if live.rate_limited else "")
        if live.retries:
            text.append(f", {counted(live.retries, 'retry')}", style="yellow")
        return text


class LoadProgress:
    """A rich progress display for one load, started by `start` and ended by `stop`."""

    def __init__(self, stream: TextIO | None, live: LoadTimeline | None) -> None:
        self._progress = Progress(
            TextColumn(" "),
            BarColumn(bar_width=BAR_WIDTH),
            MofNCompleteColumn(),
            _Speed(),
            TextColumn("ETA"),
            TimeRemainingColumn(compact=True),
            _Requests(live),
            console=Console(file=stream) if stream is not None else None,
            refresh_per_second=REFRESH_PER_S,
            transient=False,
        )
        self._task: Any = None

    def start(self, records: int) -> None:
        self._task = self._progress.add_task("load", total=records)
        self._progress.start()

    def update(self, records_done: int) -> None:
        self._progress.update(self._task, completed=records_done)

    def stop(self) -> None:
        self._progress.refresh()
        self._progress.stop()


def _num(value: int) -> str:
    return f"{value:,}"


def summary_table(summary: RunSummary) -> Table:
    """The closing table of one step, as console.summary_table's lines, in two columns."""
    title = f"{summary.name}: {summary.object}" + (" (dry run)" if summary.dry_run else "")
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_header=False)
    table.add_column("what", style="bold")
    table.add_column("count", justify="right")
    table.add_column("detail", overflow="fold")
    table.add_row("rows read", _num(summary.rows_read), "")
    if summary.dry_run:
        table.add_row("would create", _num(summary.planned - summary.would_update), "")
        table.add_row("would update", _num(summary.would_update), "")
    else:
        table.add_row("created", _num(summary.created), "", style="green")
        table.add_row("updated", _num(summary.updated), "", style="blue")
    table.add_row("unchanged", _num(summary.unchanged), "")
    table.add_row("skipped", _num(summary.skipped), "")
    table.add_row("merged (duplicates)", _num(summary.merged), "")
    stages = ", ".join(f"{stage} {n}" for stage, n in summary.failed_by_stage.items() if n)
    table.add_row("failed", _num(summary.failed), stages, style="red" if summary.failed else "")
    if summary.conflicts:
        table.add_row("conflicts (fields)", _num(summary.conflicts), "see conflicts.csv")
    if summary.warnings:
        fields = ", ".join(f"{name} {n}" for name, n in summary.warnings_by_field.items())
        table.add_row("rows with warnings", _num(summary.warnings), fields, style="yellow")
    if not summary.dry_run:
        requests = f"{summary.retries} retries, {summary.rate_limited} rate-limited"
        table.add_row("requests", _num(summary.requests), requests)
    table.add_row("duration", f"{summary.duration_s:.1f} s", "")
    return table


STEP_COLUMNS = ("read", "created", "updated", "unchanged", "skipped", "merged", "failed")


def steps_table(summaries: list[RunSummary]) -> Table:
    """One column per step (its object under its name) and one for the run, one row per
    outcome: numbers of seven digits for four steps and the total fit 80 columns, where a
    row per step with its ten figures would not."""
    dry = bool(summaries) and summaries[0].dry_run
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("", style="bold", no_wrap=True)
    for s in summaries:
        table.add_column(f"{s.name}\n[dim]{s.object}[/dim]", justify="right", overflow="fold")
    if len(summaries) > 1:
        table.add_column("run", justify="right", no_wrap=True)
    rows: list[tuple[str, list[int]]] = [
        ("read", [s.rows_read for s in summaries]),
        ("would send" if dry else "created", [s.planned if dry else s.created for s in summaries]),
        *((name, [getattr(s, name) for s in summaries]) for name in STEP_COLUMNS[2:]),
        ("requests", [s.requests for s in summaries]),
    ]
    for label, values in rows:
        cells = [_num(v) for v in values] + ([_num(sum(values))] if len(summaries) > 1 else [])
        style = "red" if label == "failed" and any(values) else ""
        table.add_row(label, *cells, style=style)
    seconds = [f"{s.duration_s:.1f}" for s in summaries]
    total = sum(s.duration_s for s in summaries)
    table.add_row("seconds", *seconds, *([f"{total:.1f}"] if len(summaries) > 1 else []))
    return table


def print_table(table: Table, stream: TextIO | None = None) -> None:
    """Print a table to the terminal at its width."""
    Console(file=stream).print(table)
