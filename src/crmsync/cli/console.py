"""Terminal rendering of a run: rich's progress display on a TTY (live.py), plain lines
otherwise.

Kept apart from cli.py so the rendering can be tested without invoking commands.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

import click

from crmsync.api.rally import RETRY_WAIT_FIELD
from crmsync.api.timeline import LoadTimeline
from crmsync.cli.log_routing import routed_to
from crmsync.config.tenants import TENANT_SEPARATOR
from crmsync.report import RunSummary
from crmsync.report.wording import counted
from crmsync.run import RunObserver, RunResult

if TYPE_CHECKING:  # rich is imported only where a terminal shows it (a quick start)
    from crmsync.cli.live import LoadProgress

PLAIN_PROGRESS_EVERY_S = 5.0
LONG_RETRY_WAIT_S = 1.0  # retries waiting less are the client's routine (a 429's second)
LIVE_RETRY_WAIT_S = 10.0  # ... and while a progress display counts the 429s and retries


class ConsoleObserver(RunObserver):
    """Prints stages as they end; load progress as a bar (TTY) or a line every few seconds."""

    def __init__(self, *, tty: bool, stream: TextIO | None = None) -> None:
        self.tty = tty
        self.stream = stream
        self._bar: LoadProgress | None = None
        self._live: LoadTimeline | None = None
        self._total = 0
        self._batches = 0
        self._last_line = 0.0
        self._done = 0

    def _echo(self, text: str) -> None:
        click.echo(text, file=self.stream)

    def recovered(self, stale_pid: int | None, crashed_runs: int) -> None:
        self._echo(recovered_line(stale_pid, crashed_runs))

    def step_started(self, name: str, index: int, total: int) -> None:
        self._echo(f"\n[{index + 1}/{total}] {name}")

    def stage(self, name: str, detail: str) -> None:
        self._echo(f"{name:>9}: {detail}")

    def warning(self, message: str) -> None:
        self._echo(f"  warning: {message}")

    def load_started(self, records: int, batches: int) -> None:
        self._total, self._batches = records, batches
        self._echo(f"     load: {counted(records, 'record')} in {counted(batches, 'batch')}")
        self._last_line = time.monotonic()
        if self.tty and records:
            from crmsync.cli.live import LoadProgress

            self._bar = LoadProgress(self.stream, self._live)
            self._bar.start(records)

    @property
    def showing_progress(self) -> bool:
        return self._bar is not None

    def load_watch(self, live: LoadTimeline) -> None:
        self._live = live

    def load_progress(self, records_done: int, batches_done: int) -> None:
        if self._bar is not None:
            self._bar.update(records_done)
        elif time.monotonic() - self._last_line >= PLAIN_PROGRESS_EVERY_S:
            self._last_line = time.monotonic()
            self._echo(
                f"     load: {records_done}/{self._total} records, "
                f"{batches_done}/{self._batches} batches"
            )
        self._done = records_done

    def load_finished(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        self._live = None


class _LogEcho(logging.Handler):
    """crmsync's log records as the console shows them: warnings on stderr as before, and a
    retry that waits long on stdout, saying what it waits for."""

    def __init__(self, stream: TextIO | None, observer: ConsoleObserver | None = None) -> None:
        super().__init__()
        self.stream = stream
        self.observer = observer

    def _threshold(self) -> float:
        """While the progress display counts 429s and retries, only a wait it cannot show
        (a server that has stopped answering) is said too."""
        showing = self.observer is not None and self.observer.showing_progress
        return LIVE_RETRY_WAIT_S if showing else LONG_RETRY_WAIT_S

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a malformed log call must not break the run
            message = str(record.msg)
        if record.levelno >= logging.WARNING:
            click.echo(message, err=True)
        elif getattr(record, RETRY_WAIT_FIELD, 0.0) >= self._threshold():
            click.echo(f"  waiting: {message}", file=self.stream)


@contextmanager
def echoing_logs(
    stream: TextIO | None = None, observer: ConsoleObserver | None = None
) -> Iterator[None]:
    """For as long as the block runs, retries that wait LONG_RETRY_WAIT_S or more are said
    (a destination that stops answering is not silence; LIVE_RETRY_WAIT_S while `observer`
    shows a progress display that counts them), and warnings still reach stderr."""
    with routed_to(_LogEcho(stream, observer)):
        yield


def summary_table(summary: RunSummary) -> str:
    """The closing table: one line per outcome, then the requests and where the report is."""
    rows: list[tuple[str, str]] = [("rows read", str(summary.rows_read))]
    if summary.dry_run:
        rows.append(("would create", str(summary.planned - summary.would_update)))
        rows.append(("would update", str(summary.would_update)))
    else:
        rows += [("created", str(summary.created)), ("updated", str(summary.updated))]
    rows.append(("unchanged", str(summary.unchanged)))
    rows.append(("skipped", str(summary.skipped)))
    rows.append(("merged (duplicates)", str(summary.merged)))
    failed = str(summary.failed)
    stages = [f"{stage} {n}" for stage, n in summary.failed_by_stage.items() if n]
    if stages:
        failed += f"  ({', '.join(stages)})"
    rows.append(("failed", failed))
    if summary.conflicts:
        rows.append(("conflicts (fields)", f"{summary.conflicts}: see conflicts.csv"))
    if summary.warnings:
        fields = ", ".join(f"{name} {n}" for name, n in summary.warnings_by_field.items())
        rows.append(
            (
                "rows with warnings",
                f"{summary.warnings}  ({fields})" if fields else str(summary.warnings),
            )
        )
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


def closing_tables(
    summaries: list[RunSummary], *, single: bool, tty: bool, stream: TextIO | None = None
) -> None:
    """What a run prints at its end: rich tables on a terminal, the plain ones otherwise."""
    if not summaries:
        return
    if tty:
        from crmsync.cli import live

        table = live.summary_table(summaries[0]) if single else live.steps_table(summaries)
        live.print_table(table, stream)
    else:
        click.echo(summary_table(summaries[0]) if single else steps_table(summaries), file=stream)


def run_closing(result: RunResult, *, single: bool, tty: bool) -> None:
    """What `crmsync run` prints once a run ended: its tables, where its report is, and
    (on stderr) what broke or stopped it."""
    click.echo()
    closing_tables([step.summary for step in result.steps], single=single, tty=tty)
    if single:
        click.echo(f"report: {_report_folder(result.files)}")
    else:
        for step in result.steps:
            click.echo(f"report {step.summary.name}: {_report_folder(step.files)}")
    if result.page is not None:
        click.echo(f"page: {result.page}")
    for broken in result.broken:
        click.echo(f"Expectation broken: {broken.message}", err=True)
    if result.stopped:
        click.echo(f"Stopped after sending records: {result.stopped}", err=True)
    elif result.interrupted:
        click.echo("Interrupted: rows whose outcome is unknown are in errors.csv.", err=True)


def _report_folder(files: dict[str, Any]) -> str:
    return str(files["errors"].parent) if "errors" in files else "not written"


STEP_COLUMNS = ("read", "created", "updated", "unchanged", "skipped", "merged", "failed")


def steps_table(summaries: list[RunSummary]) -> str:
    """One row per step of a multi-step run, then the totals."""
    header = ["step", "object", *STEP_COLUMNS, "requests", "seconds"]
    rows = []
    for s in summaries:
        counts = [s.rows_read, s.created, s.updated, s.unchanged, s.skipped, s.merged, s.failed]
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


def undo_lines(summaries: list[RunSummary], *, dry_run: bool) -> str:
    """What an undo did (or would do), one line per object."""
    lines = []
    for s in summaries:
        if dry_run:
            done = f"{s.planned} would be undone"
        else:
            done = f"{s.deleted} deleted, {s.updated} restored"
        lines.append(
            f"{s.object}: {s.rows_read} writes of {s.source}: {done}, "
            f"{s.unchanged} left alone, {s.failed} failed"
        )
    return "\n".join(lines)


def recovered_line(stale_pid: int | None, crashed_runs: int) -> str:
    """What a run says when it starts after a dead one."""
    parts = []
    if stale_pid is not None:
        parts.append(f"took over the lock of pid {stale_pid}, which is no longer running")
    if crashed_runs:
        plural = "s" if crashed_runs > 1 else ""
        parts.append(f"marked {crashed_runs} unfinished run{plural} of a dead process as crashed")
    return "recovered: " + "; ".join(parts or ["a stale lock"])


SECONDS_PER_MINUTE = 60
SECONDS_PER_HOUR = 3600


def format_duration(seconds: float | None) -> str:
    """12.3 s, 4m05s, 2h03m; '-' for a run that has not ended."""
    if seconds is None:
        return "-"
    if seconds < SECONDS_PER_MINUTE:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < SECONDS_PER_HOUR:
        return f"{whole // SECONDS_PER_MINUTE}m{whole % SECONDS_PER_MINUTE:02d}s"
    return f"{whole // SECONDS_PER_HOUR}h{whole % SECONDS_PER_HOUR // SECONDS_PER_MINUTE:02d}m"


def format_time(iso: str | None) -> str:
    """A stored UTC timestamp as 'YYYY-MM-DD HH:MM:SS' (the columns say UTC)."""
    if not iso:
        return "-"
    return iso.replace("T", " ")[:19]


def _status_text(row: dict[str, Any]) -> str:
    text = str(row["status"]) + (" (dry run)" if row["dry_run"] else "")
    text += f" (undo of {row['undo_of']})" if row.get("undo_of") else ""
    broken = len(row.get("broken") or [])
    return text + (f", {counted(broken, 'expectation')} broken" if broken else "")


def aligned(header: list[str], rows: list[list[str]], left: set[int]) -> list[str]:
    """Columns padded to their widest cell; the columns in ``left`` flush left, others right."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        padded = (
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )
        return "  ".join(padded).rstrip()

    return [line(header), line(["-" * w for w in widths]), *map(line, rows)]


RUNS_COLUMNS = ("read", "created", "updated", "unchanged", "skipped", "merged", "failed")
# shown when a run listed has some: a dry run's rows add up with `planned`, an undo's records
# with `deleted`
SOMETIMES_COLUMNS = ("planned", "deleted")


def runs_table(rows: list[dict[str, Any]], *, tenants: bool = False) -> str:
    """``crmsync runs``: one line per run (rows from history.run_row), newest first; with
    `tenants`, the runs of several tenants, each saying whose."""
    shown = RUNS_COLUMNS + tuple(c for c in SOMETIMES_COLUMNS if any(r.get(c) for r in rows))
    header = ["run", "started (UTC)", "duration", *shown, "status", "report"]
    header[1:1] = ["tenant"] if tenants else []
    cells = [
        [
            str(row["run_id"]),
            *([str(row["pipeline"]).rpartition(TENANT_SEPARATOR)[2]] if tenants else []),
            format_time(row["started_at"]),
            format_duration(row["duration_s"]),
            *(str(row.get(c) or 0) for c in shown),
            _status_text(row),
            row["report_dir"] or "-",
        ]
        for row in rows
    ]
    last = len(header) - 1
    return "\n".join(aligned(header, cells, left={1, 2 if tenants else 1, last - 1, last}))


def run_report(row: dict[str, Any], summaries: list[RunSummary], *, single: bool) -> str:
    """``crmsync report``: the run's status, the closing table(s) ``crmsync run`` printed, and
    where the report files are."""
    lines = [
        f"run {row['run_id']} of {row['pipeline']}: {_status_text(row)}",
        f"started {format_time(row['started_at'])} UTC, "
        f"finished {format_time(row['finished_at'])} UTC, "
        f"took {format_duration(row['duration_s'])}",
    ]
    if row["error"]:
        lines.append(f"error: {row['error']}")
    lines += [f"expectation broken: {message}" for message in row.get("broken") or []]
    lines.append("")
    if not summaries:
        lines.append("no step recorded a summary")
    elif single and len(summaries) == 1:
        lines.append(summary_table(summaries[0]))
    else:
        lines.append(steps_table(summaries))
    for summary in summaries:
        where = summary.report_dir or "-"
        lines.append(f"report: {where}" if single else f"report {summary.name}: {where}")
    if not summaries and row["report_dir"]:
        lines.append(f"report: {row['report_dir']}")
    return "\n".join(lines)
