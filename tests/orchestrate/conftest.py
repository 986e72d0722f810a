"""Fixtures for the orchestrator tests: a strict Rally in this process, and a two-step
pipeline (companies, then the contacts that belong to them) written to tmp_path."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from crmsync.sandbox.testing import InProcessSandbox, in_process_sandbox

KEY = "rk_test_orchestrate-key-0001"

MIGRATION = """\
name: migration
steps:
  - name: companies
    object: companies
    source: {kind: csv, path: companies.csv}
    mapping: {name: Name, domain: Website}
  - name: contacts
    object: contacts
    source: {kind: csv, path: people.csv}
    mapping:
      firstName: First
      lastName: Last
      email: Email
      companyId: {lookup: {object: companies, by: [domain: Email]}}
destination: {base_url: "${RALLY_BASE_URL}", api_key: "${RALLY_API_KEY}"}
state: {path: state.db}
report: {dir: reports}
"""


@pytest.fixture
def rally(monkeypatch: pytest.MonkeyPatch) -> Iterator[InProcessSandbox]:
    """The in-process Rally, named by the environment as a worker's would name it."""
    with in_process_sandbox(api_keys=(KEY,)) as sandbox:
        monkeypatch.setenv("RALLY_BASE_URL", sandbox.base_url)
        monkeypatch.setenv("RALLY_API_KEY", KEY)
        yield sandbox


def write_migration(folder: Path, *people: str, extra: str = "") -> Path:
    """The pipeline file, two companies and `people` rows (First,Last,Email)."""
    (folder / "companies.csv").write_text("Name,Website\nAcme,acme.com\nGlobex,globex.com\n")
    rows = people or ("Ada,Lovelace,ada@acme.com", "Hank,Scorpio,hank@globex.com")
    (folder / "people.csv").write_text("\n".join(["First,Last,Email", *rows]) + "\n")
    path = folder / "pipeline.yaml"
    path.write_text(textwrap.dedent(MIGRATION) + extra, encoding="utf-8")
    return path
