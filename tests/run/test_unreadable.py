"""Rally never shows a contact's address, city, state, country, postal code, LinkedIn URL,
Twitter handle or notes, and an update (a PUT) replaces the whole record: it would wipe what
a person typed there. Unless the pipeline says so (`sync: {unreadable: rewrite}`), such a
record is not updated: skipped, with the reason."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from crmsync.api import RallyClient
from crmsync.run import run_pipeline
from crmsync.sandbox.testing import InProcessSandbox
from crmsync.schema import OBJECTS

from .conftest import DESTINATION, pipeline, write_csv

pytestmark = pytest.mark.usefixtures("both_backends")
CONTACTS = OBJECTS["contacts"]
STEP = (
    "name: people\nobject: contacts\nsource: {kind: csv, path: people.csv}\n"
    "mapping: {firstName: First, lastName: Last, email: Email, title: Title}\n"
)


def people(folder: Path, title: str) -> None:
    write_csv(folder, "people.csv", "First,Last,Email,Title", f"Ada,L,ada@x.org,{title}")


def person_types_notes(rally: InProcessSandbox) -> None:
    """A person's notes in Rally (a PUT of the whole record, as Rally's own UI would)."""
    record = next(r for r in rally.records("contacts") if r["email"] == "ada@x.org")
    body: dict[str, Any] = {k: v for k, v in record.items() if k in CONTACTS.wire_fields}
    body["notes"] = "met at the fair; call in May"

    async def go() -> None:
        async with RallyClient(rally.base_url, rally.api_key, transport=rally.transport) as c:
            await c.update(CONTACTS, record["id"], body)

    asyncio.run(go())


def held(rally: InProcessSandbox, tmp_path: Path, sync: str) -> tuple[Any, dict[str, Any]]:
    people(tmp_path, "Engineer")
    config = pipeline(tmp_path, STEP + sync + DESTINATION, rally)
    assert run_pipeline(config, transport=rally.transport).summary.created == 1
    person_types_notes(rally)
    people(tmp_path, "CTO")  # the source changes a field Rally shows
    summary = run_pipeline(config, transport=rally.transport).summary
    (record,) = rally.records("contacts")
    return summary, record


def test_by_default_an_update_that_would_wipe_what_rally_never_shows_is_held_back(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    summary, record = held(rally, tmp_path, "")
    assert (summary.updated, summary.skipped, summary.failed) == (0, 1, 0)
    assert any(n.startswith("1 record not updated: an update would wipe") for n in summary.notices)
    assert record["notes"] == "met at the fair; call in May"  # the person's notes stay
    assert record["title"] == "Engineer"
    skipped = pl.read_csv(tmp_path / "reports" / "skipped.csv")
    reason = skipped["reason"][0]
    assert "Rally never shows a contact's address, city, country, linkedInUrl, notes" in reason
    assert "sync: {unreadable: rewrite}" in reason


def test_said_in_the_pipeline_the_update_rewrites_them(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    summary, record = held(rally, tmp_path, "sync: {unreadable: rewrite}\n")
    assert (summary.updated, summary.skipped) == (1, 0)
    assert record["title"] == "CTO"
    assert record["notes"] is None  # what the pipeline allowed, in words
