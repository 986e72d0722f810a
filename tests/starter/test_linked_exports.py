"""A contacts export that points at its companies by id, beside the companies export: `crmsync
init` finds the file whose ids the rows hold (Salesforce's Contact.csv and Account.csv), writes
one pipeline of two steps, and the run links every contact to the right company."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from tests.starter.csv_rows import write_rows

from crmsync.cli import cli
from crmsync.config import load_pipeline
from crmsync.errors import ConfigError
from crmsync.run import RunOptions, run_pipeline
from crmsync.sandbox.testing import in_process_sandbox
from crmsync.starter import inspect_source, write_starter
from crmsync.starter.model import Table
from crmsync.starter.siblings import find_companies_file, link_to, reference_columns

SF_EXPORT = Path(__file__).resolve().parent.parent / "data" / "exports" / "salesforce_data_export"
KEY = "linked-key"
SAID = "contacts are linked to their accounts in Account.csv by AccountId -> Id"


def _export(tmp_path: Path, *files: str) -> Path:
    """The Data Export's files copied to a folder of their own."""
    for file in files:
        shutil.copy(SF_EXPORT / file, tmp_path / file)
    return tmp_path


def _table(path: Path) -> Table:
    return inspect_source(path, "contacts", path.name).table


@pytest.mark.parametrize(
    ("header", "values", "is_reference"),
    [
        ("AccountId", ["001A", "001B"], True),
        ("Associated Company IDs", ["9101", "9102"], True),
        ("Associated Company IDs", ["9101;9102", "9103", "9104; 9105"], True),
        ("Associated Company IDs (Primary)", ["9101"], True),
        ("Primary Associated Company ID", ["9101"], True),
        ("Organization ID", ["17"], True),
        ("Account ID", ["zcrm_4"], True),
        ("ConvertedAccountId", ["001A"], False),  # a converted lead's, not the row's own
        ("OwnerId", ["005A"], False),
        ("Account Name", ["Acme"], False),
        ("Company ID", ["Acme Corp"], False),  # names, not ids
        ("Company ID", ["Acme;Globex Corp"], False),  # several names
        ("Company ID", [""], False),  # empty on every row
    ],
    ids=[
        "salesforce",
        "hubspot-ids",
        "hubspot-several-ids",
        "hubspot-ids-primary",
        "hubspot-primary",
        "pipedrive",
        "zoho",
        "converted",
        "owner",
        "a-name-column",
        "names-under-an-id-header",
        "several-names-under-an-id-header",
        "empty",
    ],
)
def test_a_reference_column_is_named_for_a_company_and_holds_ids(
    header: str, values: list[str], is_reference: bool
) -> None:
    table = Table([header], pl.DataFrame({header: values}))
    assert reference_columns(table) == ([header] if is_reference else [])


def test_the_accounts_file_beside_the_contacts_is_found_by_its_ids(tmp_path: Path) -> None:
    folder = _export(tmp_path, "Account.csv", "Contact.csv", "Lead.csv")
    link = find_companies_file(folder / "Contact.csv", _table(folder / "Contact.csv"))
    assert link is not None
    assert (link.companies.name, link.id_column, link.reference) == (
        "Account.csv",
        "Id",
        "AccountId",
    )
    assert (link.found, link.referenced) == (4, 4)
    assert link.said == SAID


def test_a_file_under_any_name_is_found_when_its_ids_match(tmp_path: Path) -> None:
    """Names prove nothing and are not needed: the values decide."""
    folder = _export(tmp_path, "Contact.csv")
    shutil.copy(SF_EXPORT / "Account.csv", folder / "weekly_1.csv")
    link = find_companies_file(folder / "Contact.csv", _table(folder / "Contact.csv"))
    assert link is not None and link.companies.name == "weekly_1.csv"


def test_an_accounts_file_whose_ids_do_not_match_is_not_taken(tmp_path: Path) -> None:
    folder = _export(tmp_path, "Contact.csv")
    write_rows(
        folder / "Account.csv",
        [{"Id": f"001OTHER{n}", "Name": f"Other {n}", "Website": f"o{n}.com"} for n in range(5)],
    )
    assert find_companies_file(folder / "Contact.csv", _table(folder / "Contact.csv")) is None


def test_without_a_file_beside_it_there_is_no_link_and_init_says_what_to_do(
    tmp_path: Path,
) -> None:
    folder = _export(tmp_path, "Contact.csv", "Lead.csv")
    assert find_companies_file(folder / "Contact.csv", _table(folder / "Contact.csv")) is None
    output = folder / "c.yaml"
    result = CliRunner().invoke(cli, ["init", str(folder / "Contact.csv"), "-o", str(output)])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert '"AccountId" holds the id of each row\'s company (4 different ids)' in said
    assert "the contacts load unlinked" in said
    assert "crmsync init Contact.csv --companies <file>" in said
    assert load_pipeline(output, env={"RALLY_BASE_URL": "http://127.0.0.1:1", "RALLY_API_KEY": "k"})


def test_another_contacts_file_is_no_companies_file_whatever_its_ids(tmp_path: Path) -> None:
    """A second contacts file whose ids happen to be the accounts' (its own AccountId
    column holds them too) holds people: it is not taken for the accounts."""
    folder = _export(tmp_path, "Contact.csv")
    accounts = sorted(set(_table(folder / "Contact.csv").values("AccountId")))
    write_rows(
        folder / "Contact_copy.csv",
        [
            {"Id": account, "AccountId": account, "FirstName": "A", "LastName": f"B{n}"}
            for n, account in enumerate(accounts)
        ],
    )
    assert find_companies_file(folder / "Contact.csv", _table(folder / "Contact.csv")) is None


def test_an_id_column_whose_values_repeat_is_no_records_id(tmp_path: Path) -> None:
    """An owner's or creator's id column holds the ids of other records, not the file's own."""
    folder = _export(tmp_path, "Contact.csv")
    accounts = sorted(set(_table(folder / "Contact.csv").values("AccountId")))
    rows = [{"Id": f"X{n}", "Name": "Acme", "CreatedById": a} for n, a in enumerate(accounts)]
    write_rows(folder / "Account.csv", [*rows, {**rows[0], "Id": "X99"}])
    assert find_companies_file(folder / "Contact.csv", _table(folder / "Contact.csv")) is None


def test_a_companies_file_named_on_the_command_line_is_linked_from_another_folder(
    tmp_path: Path,
) -> None:
    folder = _export(tmp_path, "Contact.csv")
    (tmp_path / "accounts").mkdir()
    shutil.copy(SF_EXPORT / "Account.csv", tmp_path / "accounts" / "Account.csv")
    output = folder / "c.yaml"
    result = CliRunner().invoke(
        cli,
        [
            "init",
            str(folder / "Contact.csv"),
            "--companies",
            str(tmp_path / "accounts" / "Account.csv"),
            "-o",
            str(output),
        ],
    )
    assert result.exit_code == 0, result.output
    assert SAID in result.output
    env = {"RALLY_BASE_URL": "http://127.0.0.1:1", "RALLY_API_KEY": "k"}
    companies, _ = load_pipeline(output, env=env).steps
    assert Path(companies.source.path) == Path("accounts/Account.csv")  # type: ignore[union-attr]


def test_a_named_file_without_the_ids_is_refused(tmp_path: Path) -> None:
    folder = _export(tmp_path, "Contact.csv", "Lead.csv")
    with pytest.raises(ConfigError, match="none of its id columns holds the ids in 'AccountId'"):
        link_to(folder / "Lead.csv", _table(folder / "Contact.csv"))
    result = CliRunner().invoke(
        cli, ["init", str(folder / "Lead.csv"), "--companies", str(folder / "Contact.csv")]
    )
    assert isinstance(result.exception, ConfigError)  # exit 2 from the console entry point
    assert "no column of the contacts file" in str(result.exception)


def test_init_writes_one_pipeline_whose_companies_step_is_init_on_the_accounts(
    tmp_path: Path,
) -> None:
    folder = _export(tmp_path, "Account.csv", "Contact.csv")
    starter = write_starter(
        folder / "Contact.csv", object_name="contacts", output=folder / "c.yaml"
    )
    alone = write_starter(folder / "Account.csv", object_name="companies", output=folder / "a.yaml")
    assert starter.parents is not None
    assert starter.parents.mapping == alone.suggestion.mapping
    assert starter.parents.source_id == alone.suggestion.source_id
    assert starter.parents.hints == alone.suggestion.hints
    # the deleted account is left out, and said
    assert starter.parents_info is not None
    assert [(x.column, x.rows) for x in starter.parents_info.left_out] == [("IsDeleted", 1)]
    assert "where: {IsDeleted: 'false'}" in starter.text
    assert SAID in " ".join(line.lstrip("# ") for line in starter.text.splitlines())
    assert "fullName" not in starter.suggestion.mapping  # Name beside FirstName and LastName


@pytest.mark.slow  # init and two runs through the CLI's library calls: about a second
def test_the_data_export_runs_creates_each_account_once_and_links_every_contact(
    tmp_path: Path,
) -> None:
    folder = _export(tmp_path, "Account.csv", "Contact.csv", "Lead.csv")
    output = folder / "c.yaml"
    result = CliRunner().invoke(cli, ["init", str(folder / "Contact.csv"), "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert SAID in result.output
    accounts = {r["Id"]: r for r in csv.DictReader((folder / "Account.csv").open(encoding="utf-8"))}
    contacts = list(csv.DictReader((folder / "Contact.csv").open(encoding="utf-8")))
    with in_process_sandbox(api_keys=(KEY,)) as rally:
        env = {"RALLY_BASE_URL": rally.base_url, "RALLY_API_KEY": KEY}
        pipeline = load_pipeline(output, env=env)
        dry = run_pipeline(pipeline, RunOptions(dry_run=True), transport=rally.transport)
        assert [s.summary.failed for s in dry.steps] == [0, 0]
        assert rally.write_requests() == 0
        first = run_pipeline(pipeline, transport=rally.transport)
        summaries = {s.summary.name: s.summary for s in first.steps}
        # the deleted duplicate is left out (where:), not merged into its master
        assert (summaries["companies"].created, summaries["companies"].merged) == (4, 0)
        assert (summaries["contacts"].created, summaries["contacts"].failed) == (6, 0)
        companies = {c["id"]: c["name"] for c in rally.records("companies")}
        assert sorted(companies.values()) == sorted(
            r["Name"] for r in accounts.values() if r["IsDeleted"] == "false"
        )
        by_email = {c["email"]: c.get("companyId") for c in rally.records("contacts")}
        for row in contacts:
            linked = by_email[row["Email"]]
            if row["AccountId"]:
                assert companies[linked] == accounts[row["AccountId"]]["Name"], row["Email"]
            else:
                assert linked is None
        writes = rally.write_requests()
        again = run_pipeline(pipeline, transport=rally.transport)
        assert rally.write_requests() == writes  # the second run sends nothing
        assert [s.summary.unchanged for s in again.steps] == [4, 6]


EXPORTS = SF_EXPORT.parent
PAIRS = [
    # (contacts, companies, reference, id, company's name): every contact with a company
    ("hubspot_contacts.csv", "hubspot_companies.csv", "Primary Associated Company ID",
     "Record ID", "Company name", 29),
    ("salesforce_contacts_export.csv", "salesforce_accounts_snake.csv", "AccountId", "id",
     "name", 24),  # its deleted contact left out
]  # fmt: skip


@pytest.mark.slow  # two corpus pairs, each run twice: about two seconds
@pytest.mark.parametrize(
    ("contacts", "companies", "reference", "id_column", "name", "linked"),
    PAIRS,
    ids=[pair[0].partition("_")[0] for pair in PAIRS],
)
def test_a_corpus_contacts_file_beside_its_companies_links_each_to_the_one_it_points_at(
    contacts: str,
    companies: str,
    reference: str,
    id_column: str,
    name: str,
    linked: int,
    tmp_path: Path,
) -> None:
    for file in (contacts, companies):
        shutil.copy(EXPORTS / file, tmp_path / file)
    starter = write_starter(tmp_path / contacts, object_name="contacts", output=tmp_path / "p.yaml")
    assert starter.link is not None
    assert (starter.link.reference, starter.link.id_column) == (reference, id_column)
    names = {r[id_column]: r[name] for r in csv.DictReader((tmp_path / companies).open())}
    rows = {
        r["Email"].strip().lower(): r[reference]
        for r in csv.DictReader((tmp_path / contacts).open(encoding="utf-8"))
    }
    with in_process_sandbox(api_keys=(KEY,)) as rally:
        env = {"RALLY_BASE_URL": rally.base_url, "RALLY_API_KEY": KEY}
        pipeline = load_pipeline(tmp_path / "p.yaml", env=env)
        run_pipeline(pipeline, transport=rally.transport)
        by_id = {c["id"]: c["name"] for c in rally.records("companies")}
        assert len(by_id) == len(names)  # each company once
        loaded = rally.records("contacts")
        assert sum(1 for c in loaded if c.get("companyId")) == linked
        checked = 0
        for contact in loaded:
            pointed = rows.get(contact["email"], "")
            if pointed:
                checked += 1
                assert by_id[contact["companyId"]] == names[pointed], contact["email"]
        assert checked
        writes = rally.write_requests()
        run_pipeline(pipeline, transport=rally.transport)
        assert rally.write_requests() == writes
