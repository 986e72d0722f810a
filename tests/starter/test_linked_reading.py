"""A companies file beside the contacts is read as `crmsync run` will read it, when init looks
for it and when `--companies` names it: a report's title lines above its header, Excel's
"Unicode text" (UTF-16 with a BOM, tab-separated, a .txt file) and Windows' cp1252 hide it no
more than a plain UTF-8 CSV, and its columns are named as the run will name them."""

from __future__ import annotations

import csv
import io
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from crmsync.cli import cli
from crmsync.config import load_pipeline
from crmsync.errors import SourceError
from crmsync.run import run_pipeline
from crmsync.sandbox.testing import in_process_sandbox
from crmsync.starter import inspect_source, write_starter
from crmsync.starter.model import Table
from crmsync.starter.siblings import find_companies_file, link_to

SF_EXPORT = Path(__file__).resolve().parent.parent / "data" / "exports" / "salesforce_data_export"
ENV = {"RALLY_BASE_URL": "http://127.0.0.1:1", "RALLY_API_KEY": "k"}
KEY = "linked-reading-key"
SAID = "contacts are linked to their accounts in {} by AccountId -> {} (4 of 4 different ids found)"


@dataclass(frozen=True)
class Shape:
    """How an accounts export was saved: its name, encoding, delimiter, lines above it, and
    the name of its id column."""

    name: str
    encoding: str
    delimiter: str = ","
    preamble: str = ""
    id_column: str = "Id"


SHAPES = [
    Shape(
        "Accounts_report.csv",
        "utf-8",
        preamble='"Accounts with Id"\r\n"Filtered By: Type equals any"\r\n""\r\n',
    ),
    Shape("Account.txt", "utf-16", "\t"),  # Excel's "Unicode text": UTF-16 LE, BOM, tabs
    # a European Excel's: semicolons, and a header beyond ASCII (read lossily, the id
    # column was named "Soci\ufffdt\ufffd ID", which the run then could not find)
    Shape("Account.csv", "cp1252", ";", id_column="Société ID"),
]
IDS = ["preamble", "utf16-unicode-text", "cp1252"]


def _accounts() -> list[dict[str, str]]:
    rows = list(csv.DictReader((SF_EXPORT / "Account.csv").open(encoding="utf-8")))
    rows[1]["Name"] = "Pinecrest Dentaire Société"  # beyond ASCII: no encoding is guessed
    rows[2]["BillingCity"] = "Zürich"
    return rows


def _folder(tmp_path: Path, shape: Shape) -> Path:
    """Contact.csv and, beside it, the accounts saved in `shape`; the Contact.csv path."""
    shutil.copy(SF_EXPORT / "Contact.csv", tmp_path / "Contact.csv")
    rows = [{shape.id_column: row.pop("Id"), **row} for row in _accounts()]
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, list(rows[0]), delimiter=shape.delimiter, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    (tmp_path / shape.name).write_bytes((shape.preamble + out.getvalue()).encode(shape.encoding))
    return tmp_path / "Contact.csv"


def _table(path: Path) -> Table:
    return inspect_source(path, "contacts", path.name).table


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_the_accounts_file_is_found_beside_the_contacts(tmp_path: Path, shape: Shape) -> None:
    contacts = _folder(tmp_path, shape)
    link = find_companies_file(contacts, _table(contacts))
    assert link is not None
    assert (link.companies.name, link.reference) == (shape.name, "AccountId")
    assert link.id_column == shape.id_column
    assert (link.found, link.referenced) == (4, 4)


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_the_accounts_file_named_with_companies_is_taken(tmp_path: Path, shape: Shape) -> None:
    contacts = _folder(tmp_path, shape)
    elsewhere = tmp_path / "accounts"
    elsewhere.mkdir()
    named = elsewhere / shape.name
    (tmp_path / shape.name).rename(named)
    link = link_to(named, _table(contacts))
    assert (link.id_column, link.found) == (shape.id_column, 4)
    output = tmp_path / "p.yaml"
    result = CliRunner().invoke(
        cli, ["init", str(contacts), "--companies", str(named), "-o", str(output)]
    )
    assert result.exit_code == 0, result.output
    assert SAID.format(shape.name, shape.id_column) in result.output
    companies, contacts_step = load_pipeline(output, env=ENV).steps
    assert Path(companies.source.path) == Path("accounts") / shape.name  # type: ignore[union-attr]
    assert companies.source_id == shape.id_column
    assert [key.kind for key in contacts_step.lookups["companyId"].by] == ["source_id"]


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_init_writes_the_companies_step_as_the_file_reads(tmp_path: Path, shape: Shape) -> None:
    contacts = _folder(tmp_path, shape)
    output = tmp_path / "p.yaml"
    result = CliRunner().invoke(cli, ["init", str(contacts), "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert SAID.format(shape.name, shape.id_column) in result.output
    starter = write_starter(contacts, object_name="contacts", output=output)
    assert starter.parents_info is not None and starter.parents is not None
    assert starter.parents_info.header_line == 1 + shape.preamble.count("\n")
    assert starter.parents.mapping["name"] == "Name"
    assert starter.parents.source_id is not None
    assert starter.parents.source_id.columns == [shape.id_column]


def test_a_file_that_cannot_be_read_is_passed_over_in_the_search(tmp_path: Path) -> None:
    """An Excel workbook saved under a .csv name is no companies file init can offer; the
    readable one beside it still is."""
    contacts = _folder(tmp_path, Shape("weekly_1.csv", "cp1252"))
    (tmp_path / "Account.csv").write_bytes(b"PK\x03\x04 an xlsx workbook, renamed")
    link = find_companies_file(contacts, _table(contacts))
    assert link is not None and link.companies.name == "weekly_1.csv"


def test_a_named_file_that_cannot_be_read_is_said_with_its_line(tmp_path: Path) -> None:
    """UTF-8 names on some lines and cp1252 on others: read either way, some would be
    garbled, so the file is refused naming where, never with a traceback."""
    contacts = _folder(tmp_path, Shape("Account.csv", "utf-8"))
    named = tmp_path / "Account.csv"
    named.write_bytes(named.read_bytes() + "\r\n001X,false,,Café Noël\r\n".encode("cp1252"))
    result = CliRunner().invoke(cli, ["init", str(contacts), "--companies", str(named)])
    assert isinstance(result.exception, SourceError)  # exit 2 from the console entry point
    said = str(result.exception)
    assert said.startswith(f"{named}, line ")
    assert "mixed encodings" in said


@pytest.mark.slow  # init and a run of two steps per shape: about a second each
@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_each_contact_is_linked_to_its_account_read_from_that_file(
    tmp_path: Path, shape: Shape
) -> None:
    contacts = _folder(tmp_path, shape)
    output = tmp_path / "p.yaml"
    assert CliRunner().invoke(cli, ["init", str(contacts), "-o", str(output)]).exit_code == 0
    names = {row["Id"]: row["Name"] for row in _accounts() if row["IsDeleted"] == "false"}
    pointed = {
        row["Email"]: row["AccountId"]
        for row in csv.DictReader(contacts.open(encoding="utf-8"))
        if row["AccountId"]
    }
    with in_process_sandbox(api_keys=(KEY,)) as rally:
        env = {"RALLY_BASE_URL": rally.base_url, "RALLY_API_KEY": KEY}
        run_pipeline(load_pipeline(output, env=env), transport=rally.transport)
        companies = {c["id"]: c["name"] for c in rally.records("companies")}
        assert sorted(companies.values()) == sorted(names.values())
        linked = {c["email"]: c.get("companyId") for c in rally.records("contacts")}
        assert pointed and all(
            companies[linked[email]] == names[account] for email, account in pointed.items()
        )
