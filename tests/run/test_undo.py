"""Undoing a run against a strict in-process Rally: what it created is deleted, what it
updated is put back, what people changed since is left alone and reported."""

from __future__ import annotations

import asyncio
import csv
import time
from pathlib import Path
from typing import Any

import pytest

from crmsync.api import RallyClient
from crmsync.errors import ConfigError, UnreachableError
from crmsync.run import RunOptions, run_pipeline
from crmsync.run.destination import PROBE_RETRIES
from crmsync.run.undo import UndoOptions, undo_run
from crmsync.sandbox.testing import InProcessSandbox
from crmsync.schema import OBJECTS

from .conftest import DESTINATION, CtrlC, Refused, pipeline, write_csv

pytestmark = pytest.mark.usefixtures("both_backends")

STEP = (
    """\
name: people
object: contacts
source: {kind: csv, path: people.csv}
mapping: {firstName: First, lastName: Last, email: Email, phone: Phone, title: Title}
normalize: {default_region: US}
sync: {unreadable: rewrite}  # updates may rewrite the fields Rally never shows
"""
    + DESTINATION
)


def people(folder: Path, *, phone: str = "415 555 0100", title: str = "Engineer") -> None:
    write_csv(
        folder,
        "people.csv",
        "First,Last,Email,Phone,Title",
        f"Ada,Lovelace,ada@x.org,{phone},{title}",
        f"Bob,Byte,bob@x.org,{phone},{title}",
    )


def edit_in_rally(rally: InProcessSandbox, email: str, **fields: Any) -> None:
    """A person edits a contact in Rally's UI."""
    record = next(r for r in rally.records("contacts") if r["email"] == email)
    writable = OBJECTS["contacts"].wire_fields

    async def put() -> None:
        async with RallyClient(rally.base_url, rally.api_key, transport=rally.transport) as c:
            body = {k: v for k, v in record.items() if k in writable and v is not None}
            await c.update(OBJECTS["contacts"], record["id"], body | fields)

    asyncio.run(put())


def by_email(rally: InProcessSandbox) -> dict[str, dict[str, Any]]:
    return {r["email"]: r for r in rally.records("contacts")}


def undo_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_a_run_that_created_is_undone_but_a_record_edited_since_stays(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    people(tmp_path)
    config = pipeline(tmp_path, STEP, rally)
    created = run_pipeline(config, transport=rally.transport)
    edit_in_rally(rally, "bob@x.org", title="Chief Byte Officer")
    preview = undo_run(config, created.run_id, UndoOptions(dry_run=True), transport=rally.transport)
    assert len(rally.records("contacts")) == 2  # a dry undo looks, and changes nothing
    assert preview.files["undo"].parent.name == "dry-run"  # beside the real undo's report
    assert [s.planned for s in preview.summaries] == [1]
    result = undo_run(config, created.run_id, transport=rally.transport)
    assert list(by_email(rally)) == ["bob@x.org"]
    rows = undo_rows(result.files["undo"])
    assert {r["result"] for r in rows} == {"deleted", "left alone"}
    [kept] = [r for r in rows if r["result"] == "left alone"]
    assert kept["fields"] == "title" and "Chief Byte Officer" in kept["note"]
    assert result.exit_code == 1  # something was left alone: a person should look
    assert result.status == "partial"  # and `crmsync runs` does not call that a failure
    # Ada is gone from Rally, so the next run creates her again; Bob is as Rally has him
    again = run_pipeline(config, transport=rally.transport).summary
    assert (again.created, again.unchanged) == (1, 1)


def test_a_created_record_a_person_edited_in_a_field_the_run_never_wrote_stays(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    """The run wrote no department; a person added one in Rally. Deleting the record would
    lose it: its updatedAt past its createdAt says it was changed since, and it stays."""
    people(tmp_path)
    config = pipeline(tmp_path, STEP, rally)
    created = run_pipeline(config, transport=rally.transport)
    time.sleep(1.1)  # a person's edit comes after the write: past undo's 1 s of slack
    edit_in_rally(rally, "bob@x.org", department="Research")
    result = undo_run(config, created.run_id, transport=rally.transport)
    assert list(by_email(rally)) == ["bob@x.org"]
    [kept] = [r for r in undo_rows(result.files["undo"]) if r["result"] == "left alone"]
    assert kept["note"].startswith("changed in Rally since the run created it")


def test_a_run_that_updated_is_undone_field_by_field(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    people(tmp_path)
    config = pipeline(tmp_path, STEP, rally)
    run_pipeline(config, transport=rally.transport)
    people(tmp_path, phone="415 555 0199", title="CTO")
    updated = run_pipeline(config, transport=rally.transport)
    assert updated.summary.updated == 2
    edit_in_rally(rally, "bob@x.org", title="Chief Byte Officer")  # after the run
    result = undo_run(config, updated.run_id, transport=rally.transport)
    now = by_email(rally)
    assert (now["ada@x.org"]["phone"], now["ada@x.org"]["title"]) == ("+14155550100", "Engineer")
    # Bob's phone goes back; his title, changed by a person since, stays
    assert (now["bob@x.org"]["phone"], now["bob@x.org"]["title"]) == (
        "+14155550100",
        "Chief Byte Officer",
    )
    assert [s.updated for s in result.summaries] == [2]
    # undone is undone: a second undo is refused, and the next run writes the source again
    with pytest.raises(ConfigError, match="undone already"):
        undo_run(config, updated.run_id, transport=rally.transport)
    assert run_pipeline(config, transport=rally.transport).summary.updated == 2


def test_what_cannot_be_undone_is_refused(rally: InProcessSandbox, tmp_path: Path) -> None:
    people(tmp_path)
    config = pipeline(tmp_path, STEP, rally)
    dry = run_pipeline(config, RunOptions(dry_run=True), transport=rally.transport)
    first = run_pipeline(config, transport=rally.transport)
    unchanged = run_pipeline(config, transport=rally.transport)
    people(tmp_path, title="CTO")
    later = run_pipeline(config, transport=rally.transport)
    for run_id, reason in [
        (dry.run_id, "dry run"),
        (unchanged.run_id, "wrote nothing"),
        (999, "no run 999"),
        (first.run_id, "written again by later runs"),
    ]:
        with pytest.raises(ConfigError, match=reason):
            undo_run(config, run_id, transport=rally.transport)
    assert len(rally.records("contacts")) == 2
    forced = undo_run(config, first.run_id, UndoOptions(force=True), transport=rally.transport)
    # --force undoes what the later run wrote again too: nobody edited them since
    assert [(s.deleted, s.unchanged) for s in forced.summaries] == [(2, 0)]
    assert rally.records("contacts") == []
    assert later.summary.updated == 2


def test_an_interrupted_undo_finishes_when_run_again(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    write_csv(
        tmp_path,
        "people.csv",
        "First,Last,Email,Phone,Title",
        *(f"P{n},Q{n},p{n}@x.org,,Engineer" for n in range(5)),
    )
    config = pipeline(tmp_path, STEP, rally)
    created = run_pipeline(config, transport=rally.transport)
    stopped = undo_run(
        config, created.run_id, transport=CtrlC(rally.transport, "DELETE", "", 2, answered=True)
    )
    assert stopped.interrupted and stopped.exit_code == 3
    assert len(rally.records("contacts")) == 3
    finished = undo_run(config, created.run_id, transport=rally.transport)
    # what was left: the three still in Rally, and the one whose delete Rally had answered
    # when Ctrl-C came, before it was marked (its second delete is told: gone already, and
    # its row says so)
    assert [(s.rows_read, s.deleted) for s in finished.summaries] == [(4, 4)]
    notes = [row["note"] for row in undo_rows(finished.files["undo"])]
    assert sum("no longer has this record" in note for note in notes) == 1
    assert rally.records("contacts") == []


MIGRATION = (
    """\
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
      companyId: {lookup: {object: companies, by: [email_domain: Email]}}
  - name: notes
    object: activities
    source: {kind: csv, path: notes.csv}
    mapping:
      activityType: {constant: note}
      subject: Subject
      contactId: {lookup: {object: contacts, by: [email: Email]}}
"""
    + DESTINATION
)


def test_a_migration_is_undone_in_dependency_order(rally: InProcessSandbox, tmp_path: Path) -> None:
    write_csv(tmp_path, "companies.csv", "Name,Website", "Acme,acme.com")
    write_csv(tmp_path, "people.csv", "First,Last,Email", "Ada,Lovelace,ada@acme.com")
    write_csv(tmp_path, "notes.csv", "Subject,Email", "Met at the fair,ada@acme.com")
    config = pipeline(tmp_path, MIGRATION, rally)
    migrated = run_pipeline(config, transport=rally.transport)
    assert [s.summary.created for s in migrated.steps] == [1, 1, 1]
    result = undo_run(config, migrated.run_id, transport=rally.transport)
    assert [s.object for s in result.summaries] == ["activities", "contacts", "companies"]
    assert all(rally.records(obj) == [] for obj in ("activities", "contacts", "companies"))


def test_a_company_a_contact_left_alone_points_at_is_left_too(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    """A contact edited since the run stays; deleting its company would break its link."""
    write_csv(tmp_path, "companies.csv", "Name,Website", "Acme,acme.com", "Globex,globex.com")
    write_csv(
        tmp_path,
        "people.csv",
        "First,Last,Email",
        "Ada,Lovelace,ada@acme.com",
        "Bo,B,bo@globex.com",
    )
    write_csv(tmp_path, "notes.csv", "Subject,Email", "Met at the fair,ada@acme.com")
    config = pipeline(tmp_path, MIGRATION, rally)
    migrated = run_pipeline(config, transport=rally.transport)
    edit_in_rally(rally, "ada@acme.com", lastName="Lovelace-King")  # a field the run wrote
    result = undo_run(config, migrated.run_id, transport=rally.transport)
    assert [r["email"] for r in rally.records("contacts")] == ["ada@acme.com"]
    (acme,) = rally.records("companies")
    assert acme["name"] == "Acme" and rally.records("contacts")[0]["companyId"] == acme["id"]
    left = [r for r in undo_rows(result.files["undo"]) if r["object"] == "companies"]
    assert sorted(row["result"] for row in left) == ["deleted", "left alone"]
    assert any("still point at it" in row["note"] for row in left)


def test_undo_says_rally_is_down_after_the_short_check(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    """It asked with a load's retries and backoff: 83 s to say Rally was down."""
    people(tmp_path)
    config = pipeline(tmp_path, STEP, rally)
    created = run_pipeline(config, transport=rally.transport)
    down = Refused()
    with pytest.raises(UnreachableError, match="nothing was sent"):
        undo_run(config, created.run_id, transport=down)
    assert down.requests == 1 + PROBE_RETRIES


def test_runs_are_undone_newest_first_without_force(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    """Undoing the later run took its writes back, yet the earlier run's undo was still
    refused as 'written again by later runs' (and --force left the records alone)."""
    people(tmp_path)
    config = pipeline(tmp_path, STEP, rally)
    first = run_pipeline(config, transport=rally.transport)
    people(tmp_path, title="CTO")
    later = run_pipeline(config, transport=rally.transport)
    back = undo_run(config, later.run_id, transport=rally.transport)
    assert [s.updated for s in back.summaries] == [2]
    undone = undo_run(config, first.run_id, transport=rally.transport)
    assert [s.deleted for s in undone.summaries] == [2]
    assert rally.records("contacts") == []


def test_an_updated_record_a_person_deleted_is_left_alone_not_failed(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    people(tmp_path)
    config = pipeline(tmp_path, STEP, rally)
    run_pipeline(config, transport=rally.transport)
    people(tmp_path, title="CTO")
    later = run_pipeline(config, transport=rally.transport)
    gone = by_email(rally)["ada@x.org"]["id"]

    async def delete() -> None:  # a person deletes a contact in Rally's UI
        async with RallyClient(rally.base_url, rally.api_key, transport=rally.transport) as c:
            await c.delete(OBJECTS["contacts"], gone)

    asyncio.run(delete())
    undone = undo_run(config, later.run_id, transport=rally.transport)
    assert [(s.updated, s.unchanged, s.failed) for s in undone.summaries] == [(1, 1, 0)]


def test_undo_keeps_what_it_cannot_know_of_a_field_rally_never_shows(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    """A contact crmsync did not create, with its city in Rally: a run writes its title and
    (Rally never shows a city) the source's city. Undo puts the title back; the city's value
    before the run is unknown, so it keeps what the run wrote instead of wiping it."""

    async def existing() -> None:
        async with RallyClient(rally.base_url, rally.api_key, transport=rally.transport) as c:
            await c.bulk_create(
                OBJECTS["contacts"],
                [
                    {
                        "firstName": "Ada",
                        "lastName": "L",
                        "email": "ada@x.org",
                        "city": "Berlin",
                        "title": "Engineer",
                    }
                ],
            )

    asyncio.run(existing())
    write_csv(tmp_path, "people.csv", "First,Last,Email,Title,City", "Ada,L,ada@x.org,CTO,Berlin")
    step = STEP.replace("phone: Phone, title: Title}", "title: Title, city: City}").replace(
        "sync: {unreadable: rewrite}", "sync: {unreadable: rewrite, on_conflict: source}"
    )
    config = pipeline(tmp_path, step, rally)
    ran = run_pipeline(config, transport=rally.transport)
    assert ran.summary.updated == 1 and by_email(rally)["ada@x.org"]["title"] == "CTO"
    undone = undo_run(config, ran.run_id, transport=rally.transport)
    record = by_email(rally)["ada@x.org"]
    assert (record["title"], record["city"]) == ("Engineer", "Berlin")
    (row,) = undo_rows(undone.files["undo"])
    assert row["result"] == "restored" and row["fields"] == "title"
    assert "what they held before unknown: city" in row["note"]
