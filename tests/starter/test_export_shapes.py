"""Exports whose cells or headers need reading before mapping: `crmsync init` on each corpus
file, then its starter pipeline's dry run, as a person would try them first."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import polars as pl
from click.testing import CliRunner

from crmsync.api import RallyClient
from crmsync.cli import cli
from crmsync.config import load_pipeline
from crmsync.run import RunOptions, run_pipeline
from crmsync.sandbox.testing import InProcessSandbox, in_process_sandbox, minimal_body
from crmsync.schema import OBJECTS

EXPORTS = Path(__file__).resolve().parent.parent / "data" / "exports"
KEY = "shapes-key"


def _init(file: str, tmp_path: Path) -> tuple[Path, str]:
    """The corpus file copied to `tmp_path` and `crmsync init` run on it: (pipeline, output)."""
    source = tmp_path / file
    shutil.copy(EXPORTS / file, source)
    output = tmp_path / "starter.yaml"
    result = CliRunner().invoke(cli, ["init", str(source), "-o", str(output)])
    assert result.exit_code == 0, result.output
    return output, result.output


def _seed(rally: InProcessSandbox, obj: str, *bodies: dict[str, Any]) -> None:
    async def seed() -> None:
        async with RallyClient(rally.base_url, rally.api_key, transport=rally.transport) as c:
            await c.bulk_create(OBJECTS[obj], list(bodies))

    asyncio.run(seed())


def _payloads(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_notion_export_names_companies_by_their_pages_titles_and_renames_none(
    tmp_path: Path,
) -> None:
    """Notion writes a relation as "Title (https://www.notion.so/...)": the company is the
    title, a cell of several relations its first (with a warning), and a company Rally
    already has under that title is found, not renamed."""
    output, said = _init("notion_contacts.csv", tmp_path)
    assert "companies step: 9 companies named in 'Company'" in said
    with in_process_sandbox(api_keys=(KEY,)) as rally:
        _seed(
            rally,
            "companies",
            minimal_body("companies", name="Quillpoint Software", domain="quillpoint.io"),
            minimal_body("companies", name="Brightlane Analytics", domain=None),
        )
        env = {"RALLY_BASE_URL": rally.base_url, "RALLY_API_KEY": KEY}
        pipeline = load_pipeline(output, env=env)
        dry = run_pipeline(pipeline, RunOptions(dry_run=True), transport=rally.transport)
        companies, contacts = dry.steps
        assert (companies.summary.failed, contacts.summary.failed) == (0, 0)
        assert companies.summary.unchanged == 2  # the two Rally has: found by domain, by name
        names = [p["name"] for p in _payloads(companies.files["payloads"])]
        assert names == [
            "Tessera Health",
            "Maison Verdier SARL",
            "Cobalt Ridge Partners",
            "Kettleworth Foods, Ltd.",
            "Harbor & Finch LLP",  # a notion.site page
            "Nordwind Logistik GmbH",
            "Brightlane Analytics (EMEA)",  # parentheses of its own: a name as written
        ]
        warnings = pl.read_csv(companies.files["warnings"])
        notion = warnings.filter(pl.col("field") == "name")
        assert notion["row"].to_list() == [5, 11]
        assert notion["warning"].str.contains("Notion relations: the first").all()
        assert notion["source"].str.ends_with("notion_contacts.csv").all()
        linked = [p for p in _payloads(contacts.files["payloads"]) if p.get("companyId")]
        assert len(linked) == 11  # every row naming a company; Arjun names none

        result = run_pipeline(pipeline, transport=rally.transport)
        assert [s.summary.failed for s in result.steps] == [0, 0]
        stored = {c["name"] for c in rally.records("companies")}
        assert not any("notion" in name for name in stored)
        assert {"Quillpoint Software", "Brightlane Analytics"} <= stored
        assert len(stored) == 9


def test_a_surveymonkey_export_reads_its_two_header_rows_and_loads_every_respondent(
    tmp_path: Path,
) -> None:
    """SurveyMonkey's second header row labels the contact question's columns: they are
    mapped by those labels, and the row itself is no respondent (the first is on line 3)."""
    output, said = _init("surveymonkey_responses.csv", tmp_path)
    assert "header: lines 1 and 2" in said
    text = output.read_text(encoding="utf-8")
    assert "The header is two rows, lines 1 and 2" in " ".join(
        line.strip().lstrip("#").strip() for line in text.splitlines()
    )
    with in_process_sandbox(api_keys=(KEY,)) as rally:
        env = {"RALLY_BASE_URL": rally.base_url, "RALLY_API_KEY": KEY}
        pipeline = load_pipeline(output, env=env)
        contacts_step = pipeline.steps[-1]
        columns = {name: spec.column for name, spec in contacts_step.mapping.items()}
        assert columns["fullName"] == "Name"
        assert columns["email"] == ["Email Address", "Email Address_2"]
        assert columns["phone"] == "Phone Number"
        assert {n: s.column for n, s in pipeline.steps[0].mapping.items()}["name"] == "Company"

        dry = run_pipeline(pipeline, RunOptions(dry_run=True), transport=rally.transport)
        companies, contacts = dry.steps
        assert [s.summary.failed for s in dry.steps] == [0, 0]
        assert (contacts.summary.rows_read, contacts.summary.planned) == (10, 10)
        sent = _payloads(contacts.files["payloads"])
        first = sent[0]
        assert (first["firstName"], first["lastName"]) == ("Chloé", "O'Connor")
        assert first["email"] == "chloe.oconnor@nordwind-logistik.de"
        assert first["city"] == "Boston"
        assert first["companyId"] == "(new companies row 3)"  # line 3: the first respondent
        assert sent[1]["phone"] == "+15555550101"
        invited = sent[4]  # an email invitation's respondent: the names in their own columns
        assert (invited["firstName"], invited["email"]) == (
            "Amelia",
            "amelia.grant@tesserahealth.com",
        )
        assert sum(1 for p in sent if p.get("companyId")) == 9  # all but the one naming none
        names = [p["name"] for p in _payloads(companies.files["payloads"])]
        assert names == [
            "Nordwind Logistik GmbH",
            "Tessera Health",
            "Quillpoint Software",
            "Maison Verdier SARL",
            "Cobalt Ridge Partners",
            "Harbor & Finch LLP",
        ]
