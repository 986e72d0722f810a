"""Records that hold their people (Close's leads and their `contacts`): `crmsync init` writes a
companies step and a contacts step over `records:`, and the run creates each company once and
links each person to the company whose record holds them, against the in-process sandbox."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import polars as pl
from click.testing import CliRunner

from crmsync.cli import cli
from crmsync.config import load_pipeline
from crmsync.run import RunOptions, run_pipeline
from crmsync.sandbox.testing import in_process_sandbox

EXPORTS = Path(__file__).resolve().parent.parent / "data" / "exports"
KEY = "nested-key"
LEADS_OF = {  # each person's email -> the lead (company) holding them in the corpus file
    "jurgen.rossi@maison-verdier.fr": "Maison Verdier SARL",
    "zoe.becker@maison-verdier.fr": "Maison Verdier SARL",
    "anais.petrov@cobaltridge.com": "Cobalt Ridge Partners",
    "emma@quillpoint.co": "Quillpoint Software",
    "diego@quillpoint.co": "Quillpoint Software",
}


def _init(source: Path, *options: str) -> tuple[Path, str]:
    output = source.parent / "starter.yaml"
    result = CliRunner().invoke(cli, ["init", str(source), "-o", str(output), *options])
    assert result.exit_code == 0, result.output
    return output, result.output


def _payloads(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_close_leads_load_each_company_once_and_each_person_linked_to_their_lead(
    tmp_path: Path,
) -> None:
    source = tmp_path / "close_leads.json"
    shutil.copy(EXPORTS / "close_leads.json", source)
    output, said = _init(source)
    assert "companies step: the file's 4 records (4 different names)" in said
    assert 'the people in each record\'s "contacts" (records: contacts, 5 rows)' in said
    assert "email                <- emails[0].email" in said
    with in_process_sandbox(api_keys=(KEY,)) as rally:
        env = {"RALLY_BASE_URL": rally.base_url, "RALLY_API_KEY": KEY}
        pipeline = load_pipeline(output, env=env)
        dry = run_pipeline(pipeline, RunOptions(dry_run=True), transport=rally.transport)
        companies, contacts = dry.steps
        assert [s.summary.failed for s in dry.steps] == [0, 0]
        assert (companies.summary.planned, contacts.summary.planned) == (4, 5)
        assert any('1 record holds no "contacts"' in n for n in contacts.summary.notices)
        sent = _payloads(contacts.files["payloads"])
        assert all(p["companyId"].startswith("(new companies row") for p in sent)
        assert sent[0]["email"] == "jurgen.rossi@maison-verdier.fr"  # the first of two
        assert (sent[0]["firstName"], sent[0]["lastName"]) == ("Jürgen", "Rossi")

        done = run_pipeline(pipeline, transport=rally.transport)
        assert [(s.summary.created, s.summary.failed) for s in done.steps] == [(4, 0), (5, 0)]
        names = {c["id"]: c["name"] for c in rally.records("companies")}
        assert sorted(names.values()) == sorted(set(LEADS_OF.values()) | {"Tessera Health"})
        linked = {c["email"]: names[c["companyId"]] for c in rally.records("contacts")}
        assert linked == LEADS_OF

        writes = rally.write_requests()
        again = run_pipeline(pipeline, transport=rally.transport)
        assert rally.write_requests() == writes
        assert [s.summary.unchanged for s in again.steps] == [4, 5]


def test_a_bad_person_is_reported_at_its_place_in_the_file(tmp_path: Path) -> None:
    """A person that is no object fails at read, one without an email at validate: each line
    of errors.csv says where the person is (`found_at`, or the error itself)."""
    leads = json.loads((EXPORTS / "close_leads.json").read_text(encoding="utf-8"))
    leads[1]["contacts"].append("kim@cobaltridge.com")
    leads[3]["contacts"][1]["emails"] = []
    source = tmp_path / "close_leads.json"
    source.write_text(json.dumps(leads, ensure_ascii=False), encoding="utf-8")
    output, _ = _init(source)
    with in_process_sandbox(api_keys=(KEY,)) as rally:
        env = {"RALLY_BASE_URL": rally.base_url, "RALLY_API_KEY": KEY}
        pipeline = load_pipeline(output, env=env)
        dry = run_pipeline(pipeline, RunOptions(dry_run=True), transport=rally.transport)
    contacts = dry.steps[1].summary
    assert (contacts.rows_read, contacts.failed) == (6, 2)
    errors = pl.read_csv(dry.steps[1].files["errors"], infer_schema=False)
    assert errors.select("row", "stage", "field", "found_at").rows() == [
        ("4", "read", None, None),
        ("6", "validate", "email", "record 4, contacts[1]"),
    ]
    assert errors["error"][0] == "record 2, contacts[1]: a JSON string, not an object"
    assert errors["raw_line"][0] == '"kim@cobaltridge.com"'


def test_companies_asked_for_say_how_to_load_the_people_in_them(tmp_path: Path) -> None:
    source = tmp_path / "close_leads.json"
    shutil.copy(EXPORTS / "close_leads.json", source)
    output, said = _init(source, "--object", "companies")
    assert 'Each record also holds people in "contacts"' in said
    assert "source records: contacts" in said
    assert load_pipeline(
        output, env={"RALLY_BASE_URL": "http://127.0.0.1:1", "RALLY_API_KEY": "k"}
    ).single_step
