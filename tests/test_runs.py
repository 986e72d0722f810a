"""`crmsync runs` and `crmsync report` over a state database filled by real runs against the
sandbox, and the pipeline lock as run_pipeline takes it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from crmsync.cli import cli
from crmsync.cli.console import format_duration, run_report, runs_table
from crmsync.config import load_pipeline
from crmsync.errors import EXIT_LOCKED, LockedError
from crmsync.report import RunSummary
from crmsync.run import lock_path, run_pipeline
from crmsync.sandbox.testing import running_sandbox
from crmsync.state import StateDB
from crmsync.state.lock import PipelineLock

KEY = "runs-test-secret-7731"
CLEAN_ROWS = 8
PIPELINE_YAML = """\
name: ops-contacts
object: contacts
source: {kind: csv, path: contacts.csv}
mapping: {firstName: First Name, lastName: Last Name, email: Email}
destination: {base_url: "${RALLY_BASE_URL}", api_key: "${RALLY_API_KEY}"}
load: {mode: upsert, batch_size: 5}
report: {dir: reports}
"""


def write_pipeline(folder: Path, *, clean_rows: int = CLEAN_ROWS, bad_rows: int = 1) -> Path:
    """A pipeline file and its CSV: clean rows first, then rows with an invalid email."""
    lines = ["First Name,Last Name,Email"]
    lines += [f"Ana,Ops{n},ana{n}@example.com" for n in range(clean_rows)]
    lines += [f"Bad,Row{n},not-an-email-{n}" for n in range(bad_rows)]
    (folder / "contacts.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    pipeline = folder / "pipeline.yaml"
    pipeline.write_text(PIPELINE_YAML, encoding="utf-8")
    return pipeline


@dataclass
class History:
    pipeline: Path
    summaries: dict[int, dict[str, Any]]  # run id -> that run's summary.json
    outputs: dict[int, str]  # run id -> what `crmsync run` printed


def invoke(*args: str, env: dict[str, str | None] | None = None) -> Any:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """Three runs: a clean one (--limit), one with a failed row (partial), and a dry run."""
    folder = tmp_path_factory.mktemp("runs")
    pipeline = write_pipeline(folder)
    plan = [
        ("clean", ["--limit", str(CLEAN_ROWS)], 0),
        ("failed", [], 1),
        ("dry", ["--dry-run"], 1),
    ]
    summaries: dict[int, dict[str, Any]] = {}
    outputs: dict[int, str] = {}
    with running_sandbox(api_keys=(KEY,)) as sandbox:
        env: dict[str, str | None] = {"RALLY_BASE_URL": sandbox.base_url, "RALLY_API_KEY": KEY}
        for run_id, (name, options, code) in enumerate(plan, start=1):
            report_dir = folder / "reports" / name
            done = invoke("run", str(pipeline), "--report-dir", str(report_dir), *options, env=env)
            assert done.exit_code == code, done.output
            summaries[run_id] = json.loads((report_dir / "summary.json").read_text())
            outputs[run_id] = done.output
    yield History(pipeline, summaries, outputs)


def test_runs_lists_every_run_newest_first(history: History) -> None:
    done = invoke("runs", str(history.pipeline))
    assert done.exit_code == 0
    header, rule, *lines = done.output.splitlines()
    assert header.split()[:3] == ["run", "started", "(UTC)"]
    columns = ["read", "created", "updated", "unchanged", "skipped", "merged", "failed"]
    shown = header.split()[4 : header.split().index("status")]
    assert shown[:7] == columns and set(shown[7:]) <= {"planned"}  # a dry run is listed
    assert set(rule) <= {"-", " "}
    assert [int(line.split()[0]) for line in lines] == [3, 2, 1]
    for line in lines:  # each run's counts add up to its rows read
        read, *outcomes = _counts(header, line, shown)
        assert read == sum(outcomes)
    assert "succeeded" in lines[2] and "partial" in lines[1] and "(dry run)" in lines[0]
    assert str(history.pipeline.parent / "reports" / "clean") in lines[2]


def test_runs_json_counts_match_each_runs_summary(history: History) -> None:
    done = invoke("runs", str(history.pipeline), "--json")
    rows = json.loads(done.output)
    assert [row["run_id"] for row in rows] == [3, 2, 1]
    for row in rows:
        summary = history.summaries[row["run_id"]]
        assert row["pipeline"] == "ops-contacts"
        assert row["read"] == summary["rows_read"]
        for outcome in (
            "created",
            "updated",
            "unchanged",
            "skipped",
            "merged",
            "failed",
            "planned",
        ):
            assert row[outcome] == summary[outcome], outcome
        assert row["report_dir"] == summary["report_dir"]
        assert row["duration_s"] >= 0
    assert [row["status"] for row in rows] == ["partial", "partial", "succeeded"]
    assert [row["dry_run"] for row in rows] == [True, False, False]
    assert rows[2]["created"] == CLEAN_ROWS and rows[1]["failed"] == 1


def test_runs_limit_keeps_the_newest(history: History) -> None:
    rows = json.loads(invoke("runs", str(history.pipeline), "--limit", "1", "--json").output)
    assert [row["run_id"] for row in rows] == [3]


def test_history_needs_no_destination_variables(history: History) -> None:
    env: dict[str, str | None] = {"RALLY_API_KEY": None, "RALLY_BASE_URL": None}
    assert invoke("runs", str(history.pipeline), env=env).exit_code == 0
    assert invoke("report", str(history.pipeline), "1", env=env).exit_code == 0


@pytest.mark.parametrize("run_id", [1, 2, 3], ids=["clean", "partial", "dry-run"])
def test_report_prints_the_closing_table_again(history: History, run_id: int) -> None:
    done = invoke("report", str(history.pipeline), str(run_id))
    assert done.exit_code == 0
    summary = history.summaries[run_id]
    table = summary_table_of(summary)
    assert table in done.output
    assert table in history.outputs[run_id]  # what `crmsync run` printed at the end
    status = "succeeded" if run_id == 1 else "partial"
    assert done.output.startswith(f"run {run_id} of ops-contacts: {status}")
    assert f"report: {summary['report_dir']}" in done.output


def test_report_json_has_the_step_summaries(history: History) -> None:
    record = json.loads(invoke("report", str(history.pipeline), "2", "--json").output)
    assert record["run_id"] == 2 and record["status"] == "partial"
    (step,) = record["steps"]
    assert step["step"] == "ops-contacts"
    assert step["failed_by_stage"]["validate"] == 1


@pytest.mark.parametrize(
    ("name", "run_id", "message"),
    [
        ("ops-contacts", "99", "no run 99 in"),
        ("other", "1", "run 1 is a run of pipeline 'ops-contacts', not of 'other'"),
    ],
    ids=["unknown-id", "another-pipelines-run"],
)
def test_report_of_a_run_it_cannot_show_exits_2(
    history: History, tmp_path: Path, name: str, run_id: str, message: str
) -> None:
    pipeline = tmp_path / "p.yaml"
    state = history.pipeline.parent / ".crmsync" / "state.db"
    text = PIPELINE_YAML.replace("name: ops-contacts", f"name: {name}")
    pipeline.write_text(text + f"state: {{path: {state}}}\n")
    done = CliRunner().invoke(cli, ["report", str(pipeline), run_id])
    assert done.exit_code == 2
    assert message in done.output


def test_a_pipeline_that_never_ran_has_no_history_and_gets_no_state_file(tmp_path: Path) -> None:
    pipeline = write_pipeline(tmp_path)
    done = invoke("runs", str(pipeline))
    assert done.exit_code == 0
    assert "no runs of ops-contacts yet" in done.output
    assert json.loads(invoke("runs", str(pipeline), "--json").output) == []
    assert CliRunner().invoke(cli, ["report", str(pipeline), "1"]).exit_code == 2
    assert not (tmp_path / ".crmsync").exists()


def test_a_held_lock_refuses_the_run_before_it_records_anything(tmp_path: Path) -> None:
    pipeline = load_pipeline(
        write_pipeline(tmp_path), env={"RALLY_BASE_URL": "http://127.0.0.1:9", "RALLY_API_KEY": KEY}
    )
    with (
        PipelineLock(lock_path(pipeline), pipeline=pipeline.name),
        pytest.raises(LockedError) as refused,
    ):
        run_pipeline(pipeline)
    assert refused.value.exit_code == EXIT_LOCKED
    assert f"pipeline 'ops-contacts' is already running (pid {os.getpid()} since" in str(
        refused.value
    )
    with StateDB.open(pipeline.resolve(pipeline.state.path)) as state:
        assert state.runs.latest() == []


def test_lock_files_are_per_pipeline_beside_the_state_database(tmp_path: Path) -> None:
    env = {"RALLY_BASE_URL": "http://127.0.0.1:9", "RALLY_API_KEY": KEY}
    first = load_pipeline(write_pipeline(tmp_path), env=env)
    other = tmp_path / "other.yaml"
    other.write_text(PIPELINE_YAML.replace("name: ops-contacts", "name: ops contacts/2"))
    second = load_pipeline(other, env=env)
    state = tmp_path / ".crmsync" / "state.db"
    assert lock_path(first) == state.with_name("state.db.ops-contacts.lock")
    assert lock_path(second).parent == state.parent
    assert lock_path(second).name.startswith("state.db.ops_contacts_2-")
    assert lock_path(first) != lock_path(second)


def summary_table_of(summary: dict[str, Any]) -> str:
    from crmsync.cli.console import summary_table

    return summary_table(RunSummary(**summary))


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "-"), (0.04, "0.0 s"), (59.94, "59.9 s"), (65, "1m05s"), (7380, "2h03m")],
    ids=["running", "instant", "seconds", "minutes", "hours"],
)
def test_durations_read_at_a_glance(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text


def test_report_of_several_steps_shows_the_steps_table_and_each_folder() -> None:
    summaries = [
        RunSummary(name=name, object=obj, source="x.csv", dry_run=False, started_at="", created=n)
        for name, obj, n in (("companies", "companies", 3), ("people", "contacts", 5))
    ]
    for summary in summaries:
        summary.report_dir = f"/reports/{summary.name}"
    row = {
        "run_id": 7,
        "pipeline": "migration",
        "started_at": "2025-06-01T02:15:00.000+00:00",
        "finished_at": None,
        "duration_s": None,
        "status": "crashed",
        "dry_run": False,
        "report_dir": "/reports",
        "error": None,
    }
    text = run_report(row, summaries, single=False)
    assert text.splitlines()[0] == "run 7 of migration: crashed"
    assert "started 2025-06-01 02:15:00 UTC, finished - UTC, took -" in text
    assert "report companies: /reports/companies" in text
    assert "report people: /reports/people" in text
    assert "companies  companies" in text and "people     contacts" in text


def test_runs_table_aligns_columns_and_marks_unfinished_runs() -> None:
    base = dict.fromkeys(
        ("read", "created", "updated", "unchanged", "skipped", "merged", "failed"), 0
    )
    rows = [
        base | {"run_id": 10, "started_at": "2025-06-01T02:15:00.123+00:00", "duration_s": None,
                "status": "running", "dry_run": False, "report_dir": None, "read": 100000},
        base | {"run_id": 9, "started_at": "2025-05-31T02:15:00.000+00:00", "duration_s": 2.5,
                "status": "succeeded", "dry_run": False, "report_dir": "/r", "read": 7},
    ]  # fmt: skip
    lines = runs_table(rows).splitlines()
    assert lines[2].split()[:4] == ["10", "2025-06-01", "02:15:00", "-"]
    assert lines[3].split()[-2:] == ["succeeded", "/r"]
    read_end = lines[0].index("read") + len("read")
    assert lines[2][:read_end].endswith("100000") and lines[3][:read_end].endswith("7")


def test_broken_expectations_show_in_the_runs_table_and_the_report() -> None:
    row = dict.fromkeys(
        ("read", "created", "updated", "unchanged", "skipped", "merged", "failed"), 0
    ) | {
        "run_id": 3, "pipeline": "nightly", "started_at": "2025-06-01T02:15:00+00:00",
        "finished_at": "2025-06-01T02:16:00+00:00", "duration_s": 60.0, "status": "succeeded",
        "dry_run": False, "report_dir": "/r", "error": None,
        "broken": ["min_rows_read: 12 rows read, expected at least 1000"],
    }  # fmt: skip
    assert runs_table([row]).splitlines()[2].split()[-4:] == ["1", "expectation", "broken", "/r"]
    text = run_report(row, [], single=True)
    assert text.splitlines()[0] == "run 3 of nightly: succeeded, 1 expectation broken"
    assert "expectation broken: min_rows_read: 12 rows read, expected at least 1000" in text


def test_a_dry_runs_table_shows_every_outcome_and_counts_read_as_words() -> None:
    summary = RunSummary(
        name="people", object="contacts", source="x.csv", dry_run=True, started_at="",
        rows_read=9, planned=4, would_update=1, unchanged=3, merged=1, failed=1,
    )  # fmt: skip
    lines = summary_table_of(asdict(summary)).splitlines()
    labels = [line.split("  ")[0].strip() for line in lines[2:]]
    assert labels[:7] == [
        "rows read",
        "would create",
        "would update",
        "unchanged",
        "skipped",
        "merged (duplicates)",
        "failed",
    ]
    assert lines[3].split()[-1] == "3" and lines[4].split()[-1] == "1"


def test_counts_agree_with_their_nouns() -> None:
    from crmsync.report.wording import counted

    assert [counted(n, "row") for n in (0, 1, 2)] == ["0 rows", "1 row", "2 rows"]
    assert counted(1, "batch") == "1 batch" and counted(3, "batch") == "3 batches"
    assert counted(2, "company") == "2 companies"


def test_runs_of_a_dry_run_and_an_undo_show_the_counts_that_add_up() -> None:
    """A dry run's rows are planned and an undo's records deleted: the table shows those
    columns when a run listed has some, so every line adds up to its rows read."""
    base = {"started_at": "2026-01-02T03:04:05+00:00", "duration_s": 1.0, "report_dir": "/r"}
    zero = dict.fromkeys(["created", "updated", "unchanged", "skipped", "merged", "failed"], 0)
    rows = [
        {**base, **zero, "run_id": 2, "status": "succeeded", "dry_run": False, "undo_of": 1,
         "read": 24, "updated": 1, "unchanged": 1, "planned": 0, "deleted": 22},
        {**base, **zero, "run_id": 1, "status": "succeeded", "dry_run": True,
         "read": 34, "failed": 2, "planned": 32, "deleted": 0},
    ]  # fmt: skip
    header, _, *lines = runs_table(rows).splitlines()
    names = header.split()
    shown = names[names.index("read") : names.index("status")]
    assert shown[-2:] == ["planned", "deleted"]
    for line in lines:
        read, *outcomes = _counts(header, line, shown)
        assert read == sum(outcomes)


def _counts(header: str, line: str, columns: list[str]) -> list[int]:
    """The numbers of a runs table's line under `columns` (right-aligned under their names)."""
    ends = [header.index(f" {name} ") + 1 + len(name) for name in columns]
    return [int(line[:end].split()[-1]) for end in ends]
