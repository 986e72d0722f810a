"""Rows an export flags as no records to load are left out by the pipeline `crmsync init`
writes, and said: rows deleted in the source (Salesforce's IsDeleted), loaded, would bring
back what people deleted; leads converted there (IsConverted) are the contacts export's
people already."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.starter.csv_rows import write_rows

from crmsync.cli import cli
from crmsync.config import load_pipeline
from crmsync.run import RunOptions, run_pipeline
from crmsync.sandbox.testing import in_process_sandbox
from crmsync.starter import write_starter

KEY = "k-deleted"
SF_EXPORT = Path(__file__).resolve().parent.parent / "data" / "exports" / "salesforce_data_export"


def _contacts(tmp_path: Path, flags: list[str], column: str = "IsDeleted") -> Path:
    rows = [
        {
            "Id": f"003{n:015d}",
            column: flag,
            "FirstName": f"P{n}",
            "LastName": "Lee",
            "Email": f"p{n}@acme.com",
        }
        for n, flag in enumerate(flags)
    ]
    return write_rows(tmp_path / "Contact.csv", rows)


@pytest.mark.slow  # init and a run into the in-process sandbox: about half a second
def test_rows_deleted_in_the_source_are_left_out_and_said(tmp_path: Path) -> None:
    source = _contacts(tmp_path, ["false", "true", "false", "true"])
    output = tmp_path / "p.yaml"
    result = CliRunner().invoke(cli, ["init", str(source), "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert 'note: Rows deleted in the source ("IsDeleted" is true) are left out, 2 rows' in (
        result.output
    )
    text = output.read_text(encoding="utf-8")
    assert "where: {IsDeleted: 'false'}" in text
    assert 'Take "IsDeleted" out of where: to load them too.' in " ".join(
        line.lstrip("# ") for line in text.splitlines()
    )
    with in_process_sandbox(api_keys=(KEY,)) as rally:
        env = {"RALLY_BASE_URL": rally.base_url, "RALLY_API_KEY": KEY}
        run = run_pipeline(load_pipeline(output, env=env), RunOptions(), transport=rally.transport)
        assert [(s.summary.rows_read, s.summary.created) for s in run.steps] == [(2, 2)]
        assert sorted(c["email"] for c in rally.records("contacts")) == [
            "p0@acme.com",
            "p2@acme.com",
        ]


def test_snake_case_and_numbers_are_read_as_the_flag(tmp_path: Path) -> None:
    source = _contacts(tmp_path, ["0", "1", "0"], column="is_deleted")
    starter = write_starter(source, object_name="contacts", output=tmp_path / "p.yaml")
    assert starter.info.where == {"is_deleted": "0"}
    assert [(x.kind, x.column, x.rows) for x in starter.info.left_out] == [
        ("deleted", "is_deleted", 1)
    ]


def test_a_flag_left_blank_on_some_rows_is_only_suggested(tmp_path: Path) -> None:
    """A blank flag is no "not deleted": `where:` would drop the row, so it stays a hint."""
    source = _contacts(tmp_path, ["false", "true", ""])
    starter = write_starter(source, object_name="contacts", output=tmp_path / "p.yaml")
    assert starter.info.where is None
    assert starter.info.left_out == ()
    assert any("deleted in the source" in hint for hint in starter.suggestion.hints)


def test_no_row_deleted_writes_no_where(tmp_path: Path) -> None:
    source = _contacts(tmp_path, ["false", "false"])
    starter = write_starter(source, object_name="contacts", output=tmp_path / "p.yaml")
    assert starter.info.where is None
    assert "where:" not in starter.text


def test_a_file_of_people_and_companies_keeps_both_filters(tmp_path: Path) -> None:
    rows = [
        {"name": "Acme", "is_organization": "true", "is_deleted": "false", "email": ""},
        {"name": "Ann Lee", "is_organization": "false", "is_deleted": "false", "email": "a@x.io"},
        {"name": "Bo Kim", "is_organization": "false", "is_deleted": "true", "email": "b@x.io"},
    ]
    source = write_rows(tmp_path / "people.csv", rows)
    starter = write_starter(source, object_name="contacts", output=tmp_path / "p.yaml")
    assert starter.info.where == {"is_organization": "false", "is_deleted": "false"}
    assert starter.info.flags_companies
    said = " ".join(line.lstrip("# ") for line in starter.text.splitlines())
    assert "the export flags its companies" in said
    assert 'Rows deleted in the source ("is_deleted" is true) are left out, 1 row' in said


def test_converted_leads_are_left_out_of_both_steps(tmp_path: Path) -> None:
    """Salesforce's Lead.csv: the converted lead is a contact (and its company an account)
    in Contact.csv and Account.csv; its row is left out of the contacts step and of the
    companies step read from the same file."""
    source = tmp_path / "Lead.csv"
    source.write_bytes((SF_EXPORT / "Lead.csv").read_bytes())
    starter = write_starter(source, object_name="contacts", output=tmp_path / "p.yaml")
    assert [(x.kind, x.column, x.rows) for x in starter.info.left_out] == [
        ("converted", "IsConverted", 1)
    ]
    assert starter.text.count("where: {IsConverted: 'false'}") == 2
    said = " ".join(line.strip().lstrip("# ") for line in starter.text.splitlines())
    assert 'Leads converted in the source ("IsConverted" is true) are left out, 1 row' in said
    pipeline = load_pipeline(
        tmp_path / "p.yaml", env={"RALLY_BASE_URL": "https://rally.example", "RALLY_API_KEY": "k"}
    )
    assert all(step.where == {"IsConverted": "false"} for step in pipeline.steps)


def test_a_company_flag_some_records_omit_keeps_every_row(tmp_path: Path) -> None:
    """A JSON record that leaves `is_organization` out is no company and no person by the
    flag: `where:` would drop it from both steps, so the flag is not used."""
    people = [("003A", False, "Ann"), ("003B", True, "Bo"), ("003C", False, "Cy")]
    records: list[dict[str, object]] = [
        {"Id": id_, "IsDeleted": deleted, "FirstName": first, "LastName": "Lee",
         "Email": f"{first.lower()}@x.io"}
        for id_, deleted, first in people
    ]  # fmt: skip
    records[2]["is_organization"] = False
    source = tmp_path / "people.json"
    source.write_text(json.dumps({"records": records}), encoding="utf-8")
    starter = write_starter(source, object_name="contacts", output=tmp_path / "p.yaml")
    assert starter.info.where == {"IsDeleted": "false"}
    assert starter.info.rows == 2
