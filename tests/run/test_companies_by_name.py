"""Companies without a domain: one per name within a file, the same record on every run, and
the company Rally already has when the name matches, so contacts link to one record."""

from __future__ import annotations

import asyncio
from pathlib import Path

import polars as pl

from crmsync.api import RallyClient
from crmsync.run import RunOptions, run_pipeline
from crmsync.run.pipeline import asked_later
from crmsync.sandbox.testing import InProcessSandbox, minimal_body
from crmsync.schema import OBJECTS

from .conftest import DESTINATION, pipeline, write_csv

TWO_STEPS = (
    """\
name: people-and-companies
steps:
  - name: companies
    object: companies
    source: {kind: csv, path: people.csv}
    where_filled: [Company]
    mapping:
      name: Company
      domain: [Website, Email]
    dedupe: {keep: most_complete, missing_key: load}
  - name: contacts
    object: contacts
    source: {kind: csv, path: people.csv}
    mapping:
      firstName: First
      lastName: Last
      email: Email
      companyId:
        lookup:
          object: companies
          by: [domain: Website, email_domain: Email, name: Company]
          on_missing: warn
"""
    + DESTINATION
)


def people(folder: Path, teachers: int = 54) -> None:
    rows = [
        f"T{n},Teacher,teacher{n}@gmail.com,{'The ' if n % 3 == 0 else ''}"
        f"{'COLONIAL SCHOOL DISTRICT' if n % 2 else 'Colonial School District'},"
        for n in range(teachers)
    ]
    write_csv(
        folder,
        "people.csv",
        "First,Last,Email,Company,Website",
        *rows,
        "Ada,Lovelace,ada@acme.com,Acme Inc.,",  # a domain from her email
        "Bob,Byte,bob@gmail.com,ACME,",  # no domain: joins Acme by name
        "Cy,Sea,cy@gmail.com,n/a,",  # no company: not a companies row
        "Dee,Dot,dee@globex.com,Globex,www.globex.com",
    )


def test_54_rows_of_one_school_make_one_company_linked_from_every_contact(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    people(tmp_path)
    config = pipeline(tmp_path, TWO_STEPS, rally)
    result = run_pipeline(config, transport=rally.transport)
    companies, contacts = (step.summary for step in result.steps)
    assert (companies.rows_read, companies.created, companies.merged) == (57, 3, 54)
    assert (contacts.created, contacts.failed, contacts.warnings) == (58, 0, 0)
    stored = {c["name"]: c for c in rally.records("companies")}
    assert sorted(stored) == ["Acme Inc.", "Globex", "The Colonial School District"]
    assert stored["Acme Inc."]["domain"] == "acme.com"
    assert stored["The Colonial School District"]["domain"] is None
    links = {c["email"]: c["companyId"] for c in rally.records("contacts")}
    school = stored["The Colonial School District"]["id"]
    assert {links[f"teacher{n}@gmail.com"] for n in range(54)} == {school}
    assert links["bob@gmail.com"] == links["ada@acme.com"] == stored["Acme Inc."]["id"]
    assert links["cy@gmail.com"] is None
    merged = pl.read_csv(result.steps[0].files["merged"])
    assert set(merged["key"]) == {"name", "domain"}  # the school by name, Bob into Acme
    again = run_pipeline(config, transport=rally.transport)
    assert [s.summary.unchanged for s in again.steps] == [3, 58]
    assert rally.write_requests() == 2  # the first run's two bulks; the rerun sends nothing


def test_a_company_rally_already_has_by_name_is_linked_not_created_again(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    people(tmp_path, teachers=2)
    school = minimal_body("companies", name="Colonial School District", domain="csd.org")

    async def seed() -> None:
        async with RallyClient(rally.base_url, rally.api_key, transport=rally.transport) as c:
            await c.bulk_create(OBJECTS["companies"], [school])

    asyncio.run(seed())
    config = pipeline(tmp_path, TWO_STEPS, rally)
    dry = run_pipeline(config, RunOptions(dry_run=True), transport=rally.transport)
    assert (dry.steps[0].summary.planned, dry.steps[0].summary.unchanged) == (2, 1)
    result = run_pipeline(config, transport=rally.transport)
    companies = result.steps[0].summary
    assert (companies.created, companies.unchanged) == (2, 1)
    [stored] = [c for c in rally.records("companies") if "Colonial" in c["name"]]
    assert stored["domain"] == "csd.org"  # linked to, not overwritten
    links = {c["email"]: c["companyId"] for c in rally.records("contacts")}
    assert links["teacher0@gmail.com"] == links["teacher1@gmail.com"] == stored["id"]


def test_only_a_step_whose_records_a_later_one_looks_up_keeps_placeholders(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    """A dry run's placeholders for what it would create are made for a later step that looks
    the object up (a million would be made for nothing otherwise)."""
    loaded = pipeline(tmp_path, TWO_STEPS, rally)
    assert [asked_later(loaded.steps, i) for i in range(2)] == [True, False]
    contacts_then_companies = [loaded.steps[1], loaded.steps[0]]
    assert [asked_later(contacts_then_companies, i) for i in range(2)] == [False, False]
    companies_twice = [loaded.steps[0], loaded.steps[0]]  # a later one adopts by name
    assert [asked_later(companies_twice, i) for i in range(2)] == [True, False]
