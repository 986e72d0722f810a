"""HubSpot's contacts name their companies in `Associated Company IDs`, several in one cell
(`9100;9101`) for a contact with two. init takes a cell of several ids for its first when it
looks for the companies export beside the contacts, and writes the lookup so that the run
links each contact to the company of its first id (the key's `separator`)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from tests.starter.csv_rows import write_rows

from crmsync.cli import cli
from crmsync.config import LookupKey, load_pipeline
from crmsync.run import run_pipeline
from crmsync.sandbox.testing import in_process_sandbox
from crmsync.starter import inspect_source, write_starter
from crmsync.starter.model import Table
from crmsync.starter.siblings import find_companies_file, reference_columns

ENV = {"RALLY_BASE_URL": "http://127.0.0.1:1", "RALLY_API_KEY": "k"}
KEY = "several-ids-key"
REFERENCE = "Associated Company IDs"
HEADER = ("Record ID", "Company name", "Company Domain Name")
COMPANIES = [
    dict(zip(HEADER, row, strict=True))
    for row in [
        ("9100", "Brightlane Analytics", "brightlane.io"),
        ("9101", "Copperleaf Logistics", "copperleaf.com"),
        ("9102", "Fernwood Energy", "fernwood.com"),
        ("9103", "Quillstone", "quillstone.co"),
    ]
]
# (first, last, the contact's Associated Company IDs): three of six name two companies, whose
# whole cells are no id of the companies file (3 of 6 found, where 80% are needed)
PEOPLE = [
    ("Anna", "Albright", "9100;9101"),
    ("Ben", "Cole", "9101"),
    ("Cara", "Diaz", "9102;9100"),
    ("Dev", "Eng", "9103"),
    ("Eli", "Fox", "9103; 9102"),
    ("Fay", "Gray", "9100"),
    ("Gus", "Hale", ""),  # no company
]


def _export(tmp_path: Path, *, several: bool = True) -> Path:
    """HubSpot's companies and contacts exports side by side; the contacts file's path.
    Without `several`, each contact names only its first company."""
    write_rows(tmp_path / "hubspot-crm-exports-all-companies.csv", COMPANIES)
    contacts = [
        {
            "Record ID": str(51200 + n),
            "First Name": first,
            "Last Name": last,
            "Email": f"{first.lower()}@example.org",
            REFERENCE: ids if several else ids.partition(";")[0],
        }
        for n, (first, last, ids) in enumerate(PEOPLE)
    ]
    return write_rows(tmp_path / "hubspot-crm-exports-all-contacts.csv", contacts)


def _table(path: Path) -> Table:
    return inspect_source(path, "contacts", path.name).table


def test_a_primary_reference_column_is_tried_first() -> None:
    columns = [REFERENCE, f"{REFERENCE} (Primary)"]
    table = Table(columns, pl.DataFrame({REFERENCE: ["9100;9101"], columns[1]: ["9101"]}))
    assert reference_columns(table) == [f"{REFERENCE} (Primary)", REFERENCE]


def test_a_cell_of_several_ids_matches_by_its_first(tmp_path: Path) -> None:
    contacts = _export(tmp_path)
    link = find_companies_file(contacts, _table(contacts))
    assert link is not None
    assert (link.companies.name, link.reference, link.id_column) == (
        "hubspot-crm-exports-all-companies.csv",
        REFERENCE,
        "Record ID",
    )
    assert (link.found, link.referenced, link.several) == (4, 4, 3)


@pytest.mark.parametrize(
    ("several", "key", "said"),
    [
        (True, LookupKey(kind="source_id", column=REFERENCE, separator=";"), "; 3 cells of"),
        (False, LookupKey(kind="source_id", column=REFERENCE), ""),
    ],
    ids=["several-ids", "one-id-each"],
)
def test_init_looks_up_the_first_id_only_where_cells_hold_several(
    tmp_path: Path, several: bool, key: LookupKey, said: str
) -> None:
    contacts = _export(tmp_path, several=several)
    output = tmp_path / "p.yaml"
    result = CliRunner().invoke(cli, ["init", str(contacts), "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert (
        f"contacts are linked to their companies in hubspot-crm-exports-all-companies.csv by "
        f"{REFERENCE} -> Record ID (4 of 4 different ids found{said}"
    ) in result.output
    companies, people = load_pipeline(output, env=ENV).steps
    assert companies.source_id == "Record ID"
    assert people.lookups["companyId"].by == [key]
    text = " ".join(line.strip().lstrip("# ") for line in output.read_text().splitlines())
    assert ('3 cells of several ids, separated by ";": the first is looked up' in text) is several


def test_the_starter_text_writes_the_key_before_its_separator(tmp_path: Path) -> None:
    text = write_starter(_export(tmp_path), object_name="contacts", output=tmp_path / "p.yaml")
    assert f"by: [{{source_id: {REFERENCE}, separator: ;}}]" in text.text


@pytest.mark.slow  # init and two runs through the in-process sandbox: about a second
def test_each_contact_is_linked_to_the_company_of_its_first_id(tmp_path: Path) -> None:
    contacts = _export(tmp_path)
    output = tmp_path / "p.yaml"
    assert CliRunner().invoke(cli, ["init", str(contacts), "-o", str(output)]).exit_code == 0
    names = {row["Record ID"]: row["Company name"] for row in COMPANIES}
    expected = {
        f"{first.lower()}@example.org": names.get(ids.partition(";")[0]) for first, _, ids in PEOPLE
    }
    with in_process_sandbox(api_keys=(KEY,)) as rally:
        env = {"RALLY_BASE_URL": rally.base_url, "RALLY_API_KEY": KEY}
        pipeline = load_pipeline(output, env=env)
        first = run_pipeline(pipeline, transport=rally.transport)
        assert [s.summary.failed for s in first.steps] == [0, 0]
        by_id = {c["id"]: c["name"] for c in rally.records("companies")}
        assert sorted(by_id.values()) == sorted(names.values())
        linked = {
            c["email"]: by_id.get(c.get("companyId") or "") for c in rally.records("contacts")
        }
        assert linked == expected
        writes = rally.write_requests()
        run_pipeline(pipeline, transport=rally.transport)
        assert rally.write_requests() == writes  # the second run sends nothing
