"""A pipeline `crmsync init` knows cannot run (a required field no column maps) is still
written, for the user to edit, but init exits 2 and says what to fill in; one that can run
exits 0."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.starter.csv_rows import write_rows

from crmsync.cli import cli
from crmsync.config import load_pipeline
from crmsync.errors import EXIT_CANNOT_START, EXIT_OK, ConfigError
from crmsync.starter import write_starter

SF_EXPORT = Path(__file__).resolve().parent.parent / "data" / "exports" / "salesforce_data_export"
ENV = {"RALLY_BASE_URL": "http://127.0.0.1:1", "RALLY_API_KEY": "k"}


def _people(tmp_path: Path, *, email: bool) -> Path:
    """Two people; with `email`, the address Rally's contacts need, else only a phone."""
    rows = [{"First Name": "Ann", "Last Name": "Lee"}, {"First Name": "Bo", "Last Name": "Kim"}]
    for n, row in enumerate(rows):
        row["Email" if email else "Phone"] = f"p{n}@acme.com" if email else f"+1 617 555 010{n}"
    return write_rows(tmp_path / "people.csv", rows)


def _nameless_accounts(tmp_path: Path) -> Path:
    """Salesforce's Contact.csv beside accounts that have ids and websites but no name."""
    shutil.copy(SF_EXPORT / "Contact.csv", tmp_path / "Contact.csv")
    ids = {r["AccountId"] for r in csv.DictReader((tmp_path / "Contact.csv").open())} - {""}
    rows = [{"Id": i, "Website": f"www.a{n}.com"} for n, i in enumerate(sorted(ids))]
    write_rows(tmp_path / "Account.csv", rows)
    return tmp_path / "Contact.csv"


def test_a_file_with_every_required_column_can_run(tmp_path: Path) -> None:
    output = tmp_path / "p.yaml"
    starter = write_starter(_people(tmp_path, email=True), object_name="contacts", output=output)
    assert starter.unmapped_required == {}
    assert load_pipeline(output, env=ENV)


def test_a_required_field_no_column_maps_is_said_for_its_step(tmp_path: Path) -> None:
    output = tmp_path / "p.yaml"
    starter = write_starter(_people(tmp_path, email=False), object_name="contacts", output=output)
    assert starter.unmapped_required == {"contacts": ("email",)}
    assert "  # email: ???   required, and no column looked like it" in starter.text
    with pytest.raises(ConfigError, match="required Rally contacts field"):
        load_pipeline(output, env=ENV)


def test_a_linked_companies_file_without_a_name_is_the_companies_steps(tmp_path: Path) -> None:
    output = tmp_path / "p.yaml"
    starter = write_starter(_nameless_accounts(tmp_path), object_name="contacts", output=output)
    assert starter.link is not None  # linked by its ids all the same
    assert starter.unmapped_required == {"companies": ("name",)}
    with pytest.raises(ConfigError, match="required Rally companies field"):
        load_pipeline(output, env=ENV)


@pytest.mark.parametrize(
    ("source", "code", "said"),
    [
        (lambda tmp: _people(tmp, email=True), EXIT_OK, ""),
        (
            lambda tmp: _people(tmp, email=False),
            EXIT_CANNOT_START,
            "required, and no column maps them: email (contacts)",
        ),
        (
            _nameless_accounts,
            EXIT_CANNOT_START,
            "required, and no column maps them: name (companies)",
        ),
    ],
    ids=["runnable", "no-email", "companies-without-name"],
)
def test_init_writes_the_file_and_exits_2_when_it_cannot_run(
    tmp_path: Path, source: Callable[[Path], Path], code: int, said: str
) -> None:
    output = tmp_path / "p.yaml"
    result = CliRunner().invoke(cli, ["init", str(source(tmp_path)), "-o", str(output)])
    assert result.exit_code == code, result.output
    assert output.exists()  # written either way: the user edits it
    if code == EXIT_OK:
        assert f"next: crmsync run {output} --dry-run" in result.stdout
        assert result.stderr == ""
        return
    assert "next:" not in result.stdout
    assert f"{output} cannot run yet: {said}" in result.stderr
    assert 'replace each "# <field>: ???" line by "<field>: <column>"' in result.stderr
    assert f"then: crmsync run {output} --dry-run" in result.stderr
    assert isinstance(result.exception, SystemExit)  # an exit code, not an error raised
