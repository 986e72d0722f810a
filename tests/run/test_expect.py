"""Expectations (`expect:`): parsed strictly, measured against a finished run's counts, and a
run that breaks one exits 6 with the figures said and recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from crmsync.alerts.expect import Broken, broken_expectations
from crmsync.config import load_pipeline
from crmsync.config.alerts import Expectations
from crmsync.errors import EXIT_EXPECTATIONS, ConfigError
from crmsync.report import RunSummary
from crmsync.run import RunObserver, RunOptions, run_pipeline
from crmsync.state import StateDB

from .test_export import export_pipeline


def summary(read: int, failed: int = 0, unchanged: int = 0) -> RunSummary:
    return RunSummary(
        name="s",
        object="contacts",
        source="x.csv",
        dry_run=False,
        started_at="",
        rows_read=read,
        failed=failed,
        unchanged=unchanged,
    )


@pytest.mark.parametrize(
    ("expect", "steps", "duration_s", "broken"),
    [
        ({"max_failed": "2%"}, [summary(1000, failed=20)], 1, []),
        ({"max_failed": "2%"}, [summary(1000, failed=21)], 1, ["max_failed"]),
        ({"max_failed": 5}, [summary(10, failed=3), summary(10, failed=3)], 1, ["max_failed"]),
        ({"max_failed": "0%"}, [summary(0)], 1, []),
        ({"min_rows_read": 1000}, [summary(600), summary(400)], 1, []),
        ({"min_rows_read": 1000}, [summary(999)], 1, ["min_rows_read"]),
        ({"max_duration": "30m"}, [summary(1)], 1800, []),
        ({"max_duration": "1h30m"}, [summary(1)], 5401, ["max_duration"]),
        ({"max_unchanged": "99.9%"}, [summary(1000, unchanged=999)], 1, []),
        ({"max_unchanged": "99.9%"}, [summary(1000, unchanged=1000)], 1, ["max_unchanged"]),
        (
            {"max_failed": "1%", "min_rows_read": 5, "max_duration": 60},
            [summary(2, failed=1)],
            61,
            ["max_failed", "min_rows_read", "max_duration"],
        ),
    ],
    ids=[
        "failed-at-limit",
        "failed-over-share",
        "failed-over-count-summed",
        "nothing-read-is-no-share",
        "read-summed",
        "read-too-few",
        "duration-at-limit",
        "duration-over",
        "unchanged-under",
        "unchanged-all",
        "several-in-file-order",
    ],
)
def test_a_run_breaks_what_its_counts_exceed(
    expect: dict[str, Any], steps: list[RunSummary], duration_s: float, broken: list[str]
) -> None:
    found = broken_expectations(Expectations.model_validate(expect), steps, duration_s)
    assert [b.expectation for b in found] == broken


def test_the_message_gives_the_limit_and_the_figures() -> None:
    expect = Expectations.model_validate({"max_failed": "2%", "max_duration": "30m"})
    found = broken_expectations(expect, [summary(1000, failed=35)], 2700)
    assert [b.message for b in found] == [
        "max_failed 2%: 35 of 1000 rows read failed (3.5%)",
        "max_duration 30m00s: the run took 45m00s",
    ]


@pytest.mark.parametrize(
    ("expect", "message"),
    [
        ({"max_failed": "2 percent"}, "a count .* or a share of the rows read"),
        ({"max_failed": "120%"}, "at most 100%"),
        ({"max_failed": True}, "a count"),
        ({"min_rows_read": -1}, "greater than or equal to 0"),
        ({"max_duration": "soon"}, "a duration like 30m"),
        ({"max_duration": 0}, "longer than no time"),
        ({"max_rows": 3}, "Extra inputs"),
    ],
    ids=["percent-word", "over-100", "bool", "negative", "duration-word", "zero", "unknown"],
)
def test_a_bad_expectation_is_refused(expect: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Expectations.model_validate(expect)


def test_a_bad_expectation_names_the_file_and_the_key(tmp_path: Path) -> None:
    path = export_pipeline(tmp_path, "out/contacts.csv")
    path.write_text(path.read_text() + "expect: {max_failed: lots}\n")
    with pytest.raises(ConfigError) as raised:
        load_pipeline(path)
    assert str(path) in str(raised.value) and "expect.max_failed: must be" in str(raised.value)


class Recorder(RunObserver):
    def __init__(self) -> None:
        self.broken: list[Broken] = []
        self.finished: list[tuple[str, int]] = []

    def expectation_broken(self, broken: Broken) -> None:
        self.broken.append(broken)

    def run_finished(self, run_id: int, status: str, exit_code: int) -> None:
        self.finished.append((status, exit_code))


def test_a_run_that_breaks_an_expectation_exits_6_and_the_history_keeps_why(
    tmp_path: Path,
) -> None:
    path = export_pipeline(tmp_path, "out/contacts.csv")
    path.write_text(path.read_text() + "expect: {max_failed: 10%, min_rows_read: 3}\n")
    observer = Recorder()
    result = run_pipeline(load_pipeline(path), observer=observer)
    assert result.exit_code == EXIT_EXPECTATIONS
    assert [b.expectation for b in result.broken] == ["max_failed"]  # 1 of 4 rows: 25%
    assert observer.broken == result.broken
    assert observer.finished == [("partial", EXIT_EXPECTATIONS)]
    with StateDB.open(tmp_path / "state.db") as db:
        record = db.runs.get(result.run_id)
    assert record is not None and record.status == "partial"
    assert record.broken == [
        {
            "expectation": "max_failed",
            "limit": "10%",
            "actual": "1 of 4 rows read failed (25.0%)",
            "message": "max_failed 10%: 1 of 4 rows read failed (25.0%)",
        }
    ]


def test_a_dry_run_is_not_measured(tmp_path: Path) -> None:
    path = export_pipeline(tmp_path, "out/contacts.csv")
    path.write_text(path.read_text() + "expect: {min_rows_read: 1000}\n")
    result = run_pipeline(load_pipeline(path), RunOptions(dry_run=True))
    assert result.broken == [] and result.exit_code == 1


def test_the_json_log_says_which_expectation_and_the_figures(tmp_path: Path) -> None:
    import io
    import json

    from crmsync.cli.json_log import JsonLogObserver

    path = export_pipeline(tmp_path, "out/contacts.csv")
    path.write_text(path.read_text() + "expect: {min_rows_read: 1000}\n")
    stream = io.StringIO()
    run_pipeline(load_pipeline(path), observer=JsonLogObserver(stream=stream))
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    broken = next(e for e in events if e["event"] == "expectation_broken")
    assert (broken["expectation"], broken["limit"], broken["actual"]) == (
        "min_rows_read",
        "1000",
        "4 rows read",
    )
    assert events[-1]["event"] == "run_finished" and events[-1]["exit_code"] == 6
