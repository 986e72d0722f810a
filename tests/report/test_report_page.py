"""report.html without a browser: what a run's page holds, every source cell escaped, no
script and nothing fetched, and the same page written again from the state database."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from crmsync.api.timeline import LoadSecond
from crmsync.cli import cli
from crmsync.report.page.charts import Series, time_series
from crmsync.report.page.model import MAX_POINTS, figures, filled

from .conftest import HOSTILE, IMG, KEY, Runs
from .dom import Tables


def parsed(page: Path) -> Tables:
    return Tables.of(page.read_text(encoding="utf-8"))


def test_the_page_is_written_beside_the_csvs_and_holds_the_counts(runs: Runs) -> None:
    assert runs.page == runs.folder / "reports" / "report.html"
    assert (runs.page.parent / "errors.csv").exists()
    tables = parsed(runs.page)
    header, *rows = tables.tables["outcomes-table"]
    row = dict(zip(header, rows[0], strict=True))
    assert row["step"] == "page-people"
    assert (row["read"], row["created"], row["unchanged"], row["merged"]) == ("48", "10", "30", "1")
    assert (row["failed"], row["failed by stage"]) == ("7", "validate 7")


def test_failures_are_grouped_with_their_first_rows_and_original_cells(runs: Runs) -> None:
    tables = parsed(runs.page)
    (header, *groups) = tables.tables["groups failures"]
    reason = "… is not a valid email address: The part after the @-sign contains invalid "
    assert groups == [["validate", "email", reason + "characters: '@'.", "7"]]
    header, *samples = tables.tables["sample failures-sample"]
    assert header == ["line", "message", "First", "Last", "Email", "Title"]
    assert len(samples) == 5
    assert samples[0][0] == "42" and samples[0][4] == "bad0@@x.org"
    assert samples[0][5] == HOSTILE and samples[1][5] == IMG  # shown as text


def test_source_cells_cannot_become_markup_and_nothing_is_fetched_or_run(runs: Runs) -> None:
    text = runs.page.read_text(encoding="utf-8")
    tables = parsed(runs.page)
    assert "<script" not in text.lower() and "&lt;script&gt;" in text
    assert not [tag for tag, attrs in tables.tags if tag in ("img", "script", "iframe", "link")]
    assert not [a for _, attrs in tables.tags for a in attrs if a in ("src", "href")]
    assert not re.findall(r"https?://(?!www\.w3\.org/2000/svg)", text)
    assert KEY not in text and KEY[:12] not in text


def test_the_last_runs_show_each_run_so_a_drop_shows(runs: Runs) -> None:
    header, *rows = parsed(runs.page).tables["history-table"]
    by_run = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    first, second = (str(run_id) for run_id in runs.run_ids)
    assert list(by_run) == [second, first]  # newest first
    assert by_run[first]["failed"] == "1" and by_run[second]["failed"] == "7"
    assert by_run[first]["failed %"] == "3.2" and by_run[second]["failed %"] == "14.6"
    assert float(by_run[second]["records/s"]) > 0


def test_the_load_is_drawn_and_tabled_second_by_second(runs: Runs) -> None:
    tables = parsed(runs.page)
    header, *seconds = tables.tables["seconds-table"]
    assert header[:4] == ["second", "records", "requests", "in flight"]
    assert sum(int(row[1]) for row in seconds) == 10  # the records sent
    assert sum(int(row[2]) for row in seconds) >= 2
    text = runs.page.read_text(encoding="utf-8")
    for title in ("records settled per second", "requests in flight", "latency (ms)"):
        assert f"<title>{title}</title>" in text


def test_report_html_writes_the_same_page_again_from_the_state_database(
    runs: Runs, tmp_path: Path
) -> None:
    run_id = str(runs.run_ids[-1])
    done = CliRunner().invoke(
        cli, ["report", str(runs.pipeline), run_id, "--html", "-o", str(tmp_path)]
    )
    assert done.exit_code == 0, done.output
    again = tmp_path / "report.html"
    assert done.output.strip() == f"wrote {again}"
    assert again.read_text(encoding="utf-8") == runs.page.read_text(encoding="utf-8")
    done = CliRunner().invoke(cli, ["report", str(runs.pipeline), "99", "--html"])
    assert done.exit_code == 2 and "no run 99" in done.output


def test_a_long_load_is_drawn_in_wider_buckets_with_its_totals_kept() -> None:
    seconds = [LoadSecond(second=s, requests=2, records=100, in_flight=3, limit=4, p95_ms=50.0)
               for s in range(0, 1000, 2)]  # fmt: skip
    drawn = filled(seconds)
    assert len(drawn) <= MAX_POINTS
    assert sum(s.records for s in drawn) == 50_000 and max(s.in_flight for s in drawn) == 3
    total = figures(seconds)
    assert (total.seconds, total.records, total.records_per_s, total.p95_ms) == (
        999,
        50_000,
        50.1,
        50.0,
    )


def test_chart_labels_are_escaped() -> None:
    svg = str(time_series("<b>t</b>", [Series("<i>s</i>", "x", [1.0, None, 2.0])]))
    assert "<b>" not in svg and "<i>" not in svg and "&lt;b&gt;t&lt;/b&gt;" in svg
