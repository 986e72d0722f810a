"""Every file of the export corpus through `crmsync init`, then its starter pipeline run as
written against a strict Rally (in process): the outcomes of every step, the reasons rows
fail, the companies made once and linked to their contacts, and a second run that sends
nothing."""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from crmsync.config import load_pipeline
from crmsync.extract import read_source
from crmsync.extract.redmine import read_redmine_export
from crmsync.extract.sources import with_derived
from crmsync.run import run_pipeline
from crmsync.sandbox.testing import in_process_sandbox
from crmsync.starter import write_starter
from crmsync.transform.keys import name_key
from crmsync.transform.placeholders import is_no_value

EXPORTS = Path(__file__).resolve().parent.parent / "data" / "exports"
KEY = "corpus-key"


@dataclass(frozen=True)
class Outcome:
    """One step's counts, and its failed rows by (stage, field) of their first error."""

    read: int
    created: int
    failed: int
    merged: int = 0
    reasons: dict[tuple[str, str | None], int] = field(default_factory=dict)


@dataclass(frozen=True)
class Run:
    file: str
    steps: dict[str, Outcome]
    object_name: str = "contacts"
    linked: int = 0  # contacts created with a companyId


MISSING_FIRST = ("validate", "firstName")
MISSING_LAST = ("validate", "lastName")
NO_EMAIL = ("validate", "email")

RUNS = [
    Run(
        "google_contacts.csv",
        {
            "companies": Outcome(21, 8, 0, merged=13),
            "contacts": Outcome(34, 31, 3, reasons={MISSING_FIRST: 2, MISSING_LAST: 1}),
        },
        linked=20,
    ),
    Run(
        "outlook_contacts.csv",
        {
            "companies": Outcome(24, 4, 0, merged=20),
            # an Exchange X.500 path first: the second address is taken where there is one
            "contacts": Outcome(24, 23, 1, reasons={NO_EMAIL: 1}),
        },
        linked=23,
    ),
    Run(
        "hubspot_contacts.csv",
        {
            "companies": Outcome(35, 12, 0, merged=23),
            "contacts": Outcome(52, 29, 23, reasons={MISSING_FIRST: 23}),  # form fills
        },
        linked=29,
    ),
    Run(
        "hubspot_companies.csv",
        {"hubspot_companies": Outcome(25, 25, 0)},
        object_name="companies",
    ),
    Run(
        "salesforce_contacts_report.csv",
        {
            # the report's footer below the table is no row: left out, not failed
            "companies": Outcome(29, 12, 0, merged=17),
            "contacts": Outcome(30, 28, 2, reasons={NO_EMAIL: 1, MISSING_FIRST: 1}),
        },
        linked=28,
    ),
    Run(
        "salesforce_contacts_export.csv",
        # its deleted row is left out by where:
        {"salesforce_contacts_export": Outcome(31, 24, 7, reasons={MISSING_FIRST: 4, NO_EMAIL: 3})},
    ),
    Run(
        "salesforce_accounts_snake.csv",
        {"salesforce_accounts_snake": Outcome(17, 17, 0)},
        object_name="companies",
    ),
    Run(
        "salesforce_accounts_contacts_report.csv",
        {
            "companies": Outcome(28, 8, 0, merged=20),
            "contacts": Outcome(31, 28, 3, reasons={NO_EMAIL: 3}),
        },
        linked=28,
    ),
    Run(
        "mailchimp_audience.csv",
        {
            "companies": Outcome(10, 10, 0),
            "contacts": Outcome(46, 16, 30, reasons={MISSING_FIRST: 30}),  # email only
        },
        linked=5,
    ),
    Run(
        "linkedin_connections.csv",
        {
            "companies": Outcome(7, 2, 0, merged=5),
            "contacts": Outcome(40, 7, 33, reasons={NO_EMAIL: 33}),  # emails not shared
        },
        linked=7,
    ),
    Run(
        "pipedrive_people.csv",
        {
            "companies": Outcome(27, 4, 0, merged=23),
            "contacts": Outcome(34, 30, 4, reasons={NO_EMAIL: 3, MISSING_LAST: 1}),
        },
        linked=24,
    ),
    Run(
        "zoho_contacts.csv",
        {
            "companies": Outcome(30, 4, 0, merged=26),
            # row 15 has no first name, and row 27 is the same address with one: they merge
            "contacts": Outcome(30, 19, 6, merged=5, reasons={NO_EMAIL: 4, MISSING_FIRST: 2}),
        },
        linked=19,
    ),
    Run(
        "redmine_contacts.csv",
        {
            "companies": Outcome(14, 6, 0, merged=8),
            # the export's own company rows have a first name only
            "contacts": Outcome(22, 15, 7, reasons={MISSING_LAST: 6, NO_EMAIL: 1}),
        },
        linked=14,
    ),
    Run(
        "generic_crm_fullname.csv",
        {
            "companies": Outcome(33, 10, 0, merged=23),
            "contacts": Outcome(
                42, 33, 9, reasons={MISSING_FIRST: 4, NO_EMAIL: 4, MISSING_LAST: 1}
            ),
        },
        linked=29,
    ),
    Run(
        "zendesk_sell_contacts.csv",
        {"zendesk_sell_contacts": Outcome(22, 22, 0)},  # the 5 organizations left out
    ),
    Run(
        "notion_contacts.csv",
        {
            # companies named by their Notion pages' titles: one each, however many pages
            "companies": Outcome(11, 9, 0, merged=2),
            "contacts": Outcome(12, 12, 0),
        },
        linked=11,
    ),
    Run(
        "surveymonkey_responses.csv",
        {
            # the second header row is no row: ten respondents, none failed
            "companies": Outcome(9, 6, 0, merged=3),
            "contacts": Outcome(10, 10, 0),
        },
        linked=9,
    ),
    Run(
        "hubspot_api_contacts.json",
        {
            "companies": Outcome(4, 3, 0, merged=1),
            "contacts": Outcome(5, 4, 1, reasons={MISSING_FIRST: 1}),
        },
        linked=3,
    ),
    Run(
        "salesforce_api_contacts.json",
        {
            "companies": Outcome(3, 2, 0, merged=1),
            "contacts": Outcome(4, 3, 1, reasons={MISSING_FIRST: 1}),
        },
        linked=3,
    ),
    Run(  # the people nested in each lead: one lead has none
        "close_leads.json",
        {"companies": Outcome(4, 4, 0), "contacts": Outcome(5, 5, 0)},
        linked=5,
    ),
    Run(  # one account's people are null
        "accounts_people.ndjson",
        {"companies": Outcome(4, 4, 0), "contacts": Outcome(5, 5, 0)},
        linked=5,
    ),
    Run(  # the Exchange address fails as in English Outlook's file; an invalid address
        "outlook_de_contacts.csv",
        {
            "companies": Outcome(7, 5, 0, merged=2),
            "contacts": Outcome(7, 5, 1, merged=1, reasons={NO_EMAIL: 1}),
        },
        linked=5,
    ),
    Run(  # Redmine's company row (a first name only) fails, not loaded as a made-up person
        "redmine_contacts_ru.csv",
        {
            "companies": Outcome(2, 1, 0, merged=1),
            "contacts": Outcome(3, 2, 1, reasons={MISSING_LAST: 1}),
        },
        linked=2,
    ),
    Run(
        "google_contacts_labels.csv",
        {
            "companies": Outcome(4, 4, 0),
            "contacts": Outcome(6, 3, 2, merged=1, reasons={MISSING_FIRST: 1, MISSING_LAST: 1}),
        },
        linked=3,
    ),
    Run(  # the zip '02110 and the phone '+1...: read without Excel's apostrophe
        "shopify_customers.csv",
        {
            "companies": Outcome(29, 15, 0, merged=14),
            # a walk-in with only a phone, two malformed addresses; an upper-case duplicate
            "contacts": Outcome(34, 30, 3, merged=1, reasons={NO_EMAIL: 2, MISSING_LAST: 1}),
        },
        linked=27,
    ),
    Run(  # companies only where the metadata names one; Name split into first and last
        "stripe_customers.csv",
        {
            "companies": Outcome(9, 8, 0, merged=1),
            "contacts": Outcome(32, 28, 3, merged=1, reasons={MISSING_FIRST: 1, NO_EMAIL: 2}),
        },
        linked=13,
    ),
    Run(  # a buyer's three tickets under one email merge; "Info Requested" is no name
        "eventbrite_attendees.csv",
        {
            "companies": Outcome(28, 15, 0, merged=13),
            "contacts": Outcome(31, 26, 1, merged=4, reasons={NO_EMAIL: 1}),
        },
        linked=24,
    ),
    Run(  # Email Status "Unavailable": no email
        "apollo_contacts.csv",
        {
            "companies": Outcome(26, 14, 0, merged=12),
            "contacts": Outcome(31, 25, 5, merged=1, reasons={NO_EMAIL: 5}),
        },
        linked=25,
    ),
    Run(
        "activecampaign_contacts.csv",
        {
            "companies": Outcome(29, 15, 0, merged=14),
            "contacts": Outcome(32, 26, 5, merged=1, reasons={MISSING_FIRST: 5}),
        },
        linked=23,
    ),
    Run(
        "brevo_contacts.csv",
        {
            "companies": Outcome(27, 15, 0, merged=12),
            "contacts": Outcome(30, 22, 7, merged=1, reasons={MISSING_FIRST: 6, NO_EMAIL: 1}),
        },
        linked=20,
    ),
    Run(  # two addresses in one Emails cell: the first
        "freshsales_contacts.csv",
        {
            "companies": Outcome(28, 15, 0, merged=13),
            "contacts": Outcome(32, 30, 1, merged=1, reasons={MISSING_FIRST: 1}),
        },
        linked=27,
    ),
    Run(  # a "Front Desk" saved under its Full Name alone is split into two names
        "copper_people.csv",
        {
            "companies": Outcome(29, 15, 0, merged=14),
            "contacts": Outcome(32, 31, 0, merged=1),
        },
        linked=28,
    ),
    Run(  # Excel's 1.50356E+10 phones are left out, with a warning: their digits are lost
        "dynamics365_contacts.csv",
        {
            "companies": Outcome(28, 15, 0, merged=13),
            "contacts": Outcome(32, 30, 1, merged=1, reasons={NO_EMAIL: 1}),
        },
        linked=27,
    ),
    Run(
        "constant_contact_contacts.csv",
        {
            "companies": Outcome(29, 15, 0, merged=14),
            "contacts": Outcome(32, 25, 6, merged=1, reasons={MISSING_FIRST: 6}),
        },
        linked=22,
    ),
]


def test_every_corpus_file_is_run() -> None:
    files = [*EXPORTS.glob("*.csv"), *EXPORTS.glob("*.json"), *EXPORTS.glob("*.ndjson")]
    assert sorted(p.name for p in files) == sorted(run.file for run in RUNS)


def _reasons(errors: Path) -> dict[tuple[str, str | None], int]:
    frame = pl.read_csv(errors, infer_schema=False)
    first = frame.unique(subset=["row"], keep="first", maintain_order=True)
    return dict(Counter(zip(first["stage"], first["field"], strict=True)))


@pytest.mark.slow  # every corpus file's whole pipeline, twice: some 7 s
@pytest.mark.parametrize("run", RUNS, ids=[run.file.rpartition(".")[0] for run in RUNS])
def test_the_unedited_starter_runs_and_links_contacts_to_companies(
    run: Run, tmp_path: Path
) -> None:
    source = tmp_path / run.file
    shutil.copy(EXPORTS / run.file, source)
    output = tmp_path / "starter.yaml"
    starter = write_starter(source, object_name=run.object_name, output=output)
    with in_process_sandbox(api_keys=(KEY,)) as rally:
        env = {"RALLY_BASE_URL": rally.base_url, "RALLY_API_KEY": KEY}
        pipeline = load_pipeline(output, env=env)
        result = run_pipeline(pipeline, transport=rally.transport)
        outcomes = {}
        for step in result.steps:
            summary = step.summary
            assert summary.rows_read == (
                summary.created + summary.updated + summary.unchanged + summary.merged
                + summary.failed
            )  # fmt: skip
            reasons = _reasons(step.files["errors"]) if summary.failed else {}
            outcomes[summary.name] = Outcome(
                summary.rows_read, summary.created, summary.failed, summary.merged, reasons
            )
        assert outcomes == run.steps
        companies = {c["id"]: c for c in rally.records("companies")}
        contacts = rally.records("contacts")
        assert sum(1 for c in contacts if c.get("companyId")) == run.linked
        suggestion = starter.suggestion
        if suggestion.companies is not None:
            email = suggestion.mapping["email"]
            cells = _company_cells(
                starter.info.kind,
                starter.info.records,
                source,
                suggestion.companies.company,
                [email] if isinstance(email, str) else email,
            )
            _check_links(cells, contacts, companies)
        writes = rally.write_requests()
        again = run_pipeline(pipeline, transport=rally.transport)
        assert rally.write_requests() == writes  # the second run sends nothing
        assert [s.summary.unchanged for s in again.steps] == [
            s.summary.created for s in result.steps
        ]


def _key(name: str) -> str | None:
    value: str | None = pl.DataFrame({"n": [name]}).select(name_key(pl.col("n")))["n"][0]
    return value


def _check_links(
    named: dict[str, str], contacts: list[dict[str, Any]], companies: dict[str, dict[str, Any]]
) -> None:
    """Each contact whose row names a company is linked to a company of that name, or to the
    one its email's domain is; one company per name."""
    names = [_key(c["name"]) for c in companies.values()]
    assert len(names) == len(set(names)), names
    checked = 0
    for contact in contacts:
        cell = named.get(contact["email"])
        if cell is None:
            continue
        checked += 1
        linked = companies[contact["companyId"]]
        domain = contact["email"].rsplit("@", 1)[-1]
        assert _key(linked["name"]) == _key(cell) or linked["domain"] == domain, contact
    assert checked


def _company_cells(
    kind: str, records: str | None, source: Path, column: str, email_columns: list[str]
) -> dict[str, str]:
    """Each email's company cell (the first email of a cell holding several), read as the
    starter's source reads the file (the people nested in its records, with `records`)."""
    if kind == "redmine_export":
        frame = with_derived(read_redmine_export(source, entity="contacts", format="csv")).frame
    else:
        frame = read_source(kind, source, records=records).frame  # type: ignore[arg-type]
    emails = frame.select(pl.coalesce(email_columns)).to_series()
    cells = {}
    for email, company in zip(emails.to_list(), frame[column].to_list(), strict=True):
        if email and company and not is_no_value(company):
            first = email.replace(" ::: ", ";").replace(",", ";").split(";")[0].strip().lower()
            cells[first] = company
    return cells
