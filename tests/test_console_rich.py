"""The terminal with rich: the load's progress shows records/s, ETA, requests in flight and
429s, and the closing tables stay within 80 columns."""

from __future__ import annotations

import io

from rich.console import Console

from crmsync.api.timeline import LoadTimeline
from crmsync.cli import live
from crmsync.cli.console import ConsoleObserver, closing_tables
from crmsync.report import RunSummary


def summary(name: str, **counts: int) -> RunSummary:
    found = RunSummary(name=name, object="activities", source="x.csv", dry_run=False,
                       started_at="", duration_s=1234.5, **counts)  # fmt: skip
    found.failed_by_stage = {"validate": counts.get("failed", 0)}
    return found


def rendered(table: object) -> list[str]:
    out = io.StringIO()
    Console(file=out, width=80, color_system=None).print(table)
    return out.getvalue().splitlines()


def test_the_steps_table_fits_80_columns_with_every_count() -> None:
    steps = [
        summary("notes-on-companies-from-the-old-crm", rows_read=1_234_567, created=1_200_000,
                updated=12_345, unchanged=20_000, merged=2_000, failed=222, requests=12_500),
        summary("contacts", rows_read=987_654, created=987_000, failed=654, requests=9_900),
    ]  # fmt: skip
    lines = rendered(live.steps_table(steps))
    assert max(map(len, lines)) <= 80
    text = "\n".join(lines)
    for number in ("1,234,567", "1,200,000", "12,345", "987,654", "2,222,221", "876"):
        assert number in text
    assert "notes-on" in text and "run" in text


def test_a_steps_summary_table_fits_80_columns() -> None:
    lines = rendered(live.summary_table(summary("contacts", rows_read=10, created=7, failed=3)))
    assert max(map(len, lines)) <= 80
    assert any(line.split()[:2] == ["failed", "3"] and "validate 3" in line for line in lines)


def test_the_progress_shows_records_per_second_eta_in_flight_and_429s() -> None:
    out = io.StringIO()
    observer = ConsoleObserver(tty=True, stream=out)
    timeline = LoadTimeline(lambda: 0.0)
    observer.load_watch(timeline)
    observer.load_started(200, 2)
    timeline.sent()
    timeline.answered(timeline.sent(), ok=False, rate_limited=True)
    timeline.retried()
    assert observer.showing_progress
    observer.load_progress(100, 1)
    observer.load_finished()
    assert not observer.showing_progress
    text = out.getvalue()
    for shown in ("100/200", "rec/s", "ETA", "1 in flight", "1 429s", "1 retry"):
        assert shown in text


def test_without_a_terminal_the_closing_table_is_the_plain_one() -> None:
    out = io.StringIO()
    closing_tables([summary("contacts", rows_read=3, created=3)], single=True, tty=False,
                   stream=out)  # fmt: skip
    assert out.getvalue().splitlines()[0] == "contacts: activities"
    assert "rows read            3" in out.getvalue()
