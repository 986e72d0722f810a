"""File destinations: any source mapped, normalized, validated and deduped into a file, every
row with one outcome, written atomically, references kept as the source's keys."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import polars as pl
import pytest

from crmsync.config import load_pipeline
from crmsync.errors import ConfigError
from crmsync.load.files import write_atomically
from crmsync.run import RunOptions, run_pipeline
from crmsync.run.undo import undo_run

from .conftest import write_csv

HEADER = "Id,First,Last,Email,Company,Tags,Score"
ROWS = (
    "c1,Ada,Lovelace,ada@acme.example,Acme,vip;eu,40",
    "c2,Bob,Stone,not-an-email,Acme,,",
    "c3,Ada,Lovelace,ADA@acme.example,Acme,,",
    "c4,Grace,Hopper,grace@navy.example,,,",
)


def export_pipeline(folder: Path, path: str, *, steps: str | None = None) -> Path:
    write_csv(folder, "people.csv", HEADER, *ROWS)
    body = (
        steps
        or """\
        object: contacts
        source_id: Id
        source: {kind: csv, path: people.csv}
        mapping:
          firstName: First
          lastName: Last
          email: Email
          tags: Tags
          leadScore: Score
        """
    )
    text = textwrap.dedent(
        f"""\
        name: export
        destination: {{kind: file, path: "{path}"}}
        state: {{path: state.db}}
        report: {{dir: reports}}
        """
    ) + textwrap.dedent(body)
    pipeline_file = folder / "pipeline.yaml"
    pipeline_file.write_text(text, encoding="utf-8")
    return pipeline_file


@pytest.mark.parametrize("suffix", ["ndjson", "csv", "parquet"], ids=str)
def test_rows_that_pass_are_written_and_every_row_has_one_outcome(
    tmp_path: Path, suffix: str
) -> None:
    pipeline = load_pipeline(export_pipeline(tmp_path, f"out/contacts.{suffix}"))
    result = run_pipeline(pipeline)
    summary = result.summary
    assert (summary.rows_read, summary.created, summary.failed, summary.merged) == (4, 2, 1, 1)
    assert result.exit_code == 1
    read = {"ndjson": pl.read_ndjson, "csv": pl.read_csv, "parquet": pl.read_parquet}[suffix]
    written = read(tmp_path / "out" / f"contacts.{suffix}")
    assert written.columns[:2] == ["Id", "firstName"]
    assert written["email"].to_list() == ["ada@acme.example", "grace@navy.example"]
    assert not list((tmp_path / "out").glob(".*.tmp"))  # no temporary file left behind
    assert (tmp_path / "reports" / "errors.csv").exists()


def test_a_dry_run_writes_no_file(tmp_path: Path) -> None:
    pipeline = load_pipeline(export_pipeline(tmp_path, "out/contacts.ndjson"))
    result = run_pipeline(pipeline, RunOptions(dry_run=True))
    assert (result.summary.planned, result.summary.created) == (2, 0)
    assert not (tmp_path / "out" / "contacts.ndjson").exists()


def test_references_keep_the_source_keys_instead_of_rally_ids(tmp_path: Path) -> None:
    steps = """\
        steps:
          - name: companies
            object: companies
            where_filled: [Company]
            source: {kind: csv, path: people.csv}
            mapping: {name: Company}
            dedupe: {missing_key: load}
          - name: contacts
            object: contacts
            source: {kind: csv, path: people.csv}
            mapping:
              firstName: First
              lastName: Last
              email: Email
              companyId: {lookup: {object: companies, by: [name: Company]}}
        """
    pipeline = load_pipeline(export_pipeline(tmp_path, "out/{step}.ndjson", steps=steps))
    run_pipeline(pipeline)
    contacts = [
        json.loads(line) for line in (tmp_path / "out" / "contacts.ndjson").read_text().splitlines()
    ]
    assert {c["email"]: c["companyId"] for c in contacts} == {
        "ada@acme.example": "Acme",
        "grace@navy.example": None,
    }


def test_a_path_with_run_id_gets_only_what_changed_and_a_fixed_path_everything(
    tmp_path: Path,
) -> None:
    first = run_pipeline(load_pipeline(export_pipeline(tmp_path, "out/{run_id}.ndjson")))
    second = run_pipeline(load_pipeline(export_pipeline(tmp_path, "out/{run_id}.ndjson")))
    assert (tmp_path / "out" / f"{first.run_id}.ndjson").exists()
    assert (tmp_path / "out" / f"{second.run_id}.ndjson").exists()
    pipeline = load_pipeline(export_pipeline(tmp_path, "out/{date}-contacts.csv"))
    assert pipeline.destination.kind == "file" and not pipeline.destination.incremental


def test_several_steps_need_a_step_placeholder(tmp_path: Path) -> None:
    steps = """\
        steps:
          - {name: a, object: companies, source: {kind: csv, path: people.csv}, mapping: {name: Id}}
          - {name: b, object: companies, source: {kind: csv, path: people.csv}, mapping: {name: Id}}
        """
    with pytest.raises(ConfigError, match=r"destination.path: .*\{step\}"):
        load_pipeline(export_pipeline(tmp_path, "out/all.ndjson", steps=steps))


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("out/x.txt", "suffix decides its format"),
        ("out/{when}.csv", r"unknown placeholder \{when\}"),
        ("out/{run_id.csv", "brace"),
    ],
    ids=["suffix", "placeholder", "brace"],
)
def test_a_bad_path_is_refused_naming_the_key(tmp_path: Path, path: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        load_pipeline(export_pipeline(tmp_path, path))
    assert "destination.path" in str(raised.value)


def test_an_unwritable_folder_stops_the_run_before_reading(tmp_path: Path) -> None:
    (tmp_path / "blocked").write_text("a file where the folder should be")
    pipeline = load_pipeline(export_pipeline(tmp_path, "blocked/sub/contacts.csv"))
    with pytest.raises(ConfigError, match="cannot create the export folder"):
        run_pipeline(pipeline)


def test_an_export_has_nothing_to_undo(tmp_path: Path) -> None:
    pipeline = load_pipeline(export_pipeline(tmp_path, "out/contacts.csv"))
    result = run_pipeline(pipeline)
    with pytest.raises(ConfigError, match="nothing to Rally to undo"):
        undo_run(pipeline, result.run_id)


def test_a_failed_write_leaves_the_previous_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("kept\n")

    class Broken(pl.DataFrame):
        def write_csv(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        write_atomically(Broken({"a": [1]}), target, "csv")
    assert target.read_text() == "kept\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_an_interrupted_export_leaves_no_file_and_says_to_run_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def ctrl_c(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("crmsync.run.stages.export.write_atomically", ctrl_c)
    result = run_pipeline(load_pipeline(export_pipeline(tmp_path, "out/contacts.csv")))
    assert result.exit_code == 3 and result.summary.failed == 3  # 2 unsettled, 1 invalid
    errors = (tmp_path / "reports" / "errors.csv").read_text()
    assert "interrupted before the export's file was written" in errors
    assert not (tmp_path / "out" / "contacts.csv").exists()


def test_an_unknown_destination_kind_is_refused_with_the_kinds(tmp_path: Path) -> None:
    path = export_pipeline(tmp_path, "out/contacts.csv")
    path.write_text(path.read_text().replace("kind: file", "kind: s3"))
    with pytest.raises(ConfigError, match=r"destination\.kind: 's3' is not one of rally, file"):
        load_pipeline(path)
