"""A whole step, and a pipeline of steps, run in this process against a strict in-process
Rally: the counts add up, reruns send only what changed, a dry run plans what the real run
then sends, and an interrupted load still accounts for every row."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from crmsync.run import RunObserver, RunOptions, run_pipeline
from crmsync.run.unsettled import INTERRUPTED_ERROR, NOT_SENT_ERROR
from crmsync.sandbox.testing import InProcessSandbox

from .conftest import DESTINATION, CtrlC, pipeline, write_csv

pytestmark = pytest.mark.usefixtures("both_backends")

CONTACTS_STEP = (
    """\
name: people
object: contacts
source: {kind: csv, path: people.csv}
mapping: {firstName: First, lastName: Last, email: Email, title: Title}
sync: {unreadable: rewrite}  # updates may rewrite the fields Rally never shows
"""
    + DESTINATION
)
HEADER = "First,Last,Email,Title"


def people_csv(folder: Path, *extra: str, title: str = "Engineer") -> None:
    write_csv(
        folder,
        "people.csv",
        HEADER,
        f"Ada,Lovelace,ada@x.org,{title}",
        "Bob,Byte,bob@x.org,Engineer",
        "Bobby,Byte,BOB@x.org,",  # a duplicate by email, in other case
        "Cy,Nope,not-an-email,Engineer",
        "Broken,Row,extra@x.org,x,one too many",  # five fields for four: a reject of the read
        *extra,
    )


def counts(summary: object) -> dict[str, int]:
    names = ("rows_read", "created", "updated", "unchanged", "merged", "failed", "planned")
    return {name: getattr(summary, name) for name in names}


def test_every_row_ends_in_one_outcome_and_the_counts_add_up(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    people_csv(tmp_path)
    result = run_pipeline(pipeline(tmp_path, CONTACTS_STEP, rally), transport=rally.transport)
    summary = result.summary
    assert counts(summary) == {
        "rows_read": 5,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "merged": 1,
        "failed": 2,
        "planned": 0,
    }
    assert summary.failed_by_stage["read"] == 1 and summary.failed_by_stage["validate"] == 1
    errors = pl.read_csv(result.files["errors"])
    assert errors.select("row", "stage", "field").rows() == [
        (5, "validate", "email"),
        (6, "read", None),
    ]
    assert pl.read_csv(result.files["merged"])["merged_into_row"].to_list() == [3]
    assert (result.exit_code, result.status) == (1, "partial")
    assert {r["email"] for r in rally.records("contacts")} == {"ada@x.org", "bob@x.org"}


def test_a_run_whose_every_row_failed_is_failed_not_partial(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    write_csv(tmp_path, "people.csv", HEADER, "Cy,Nope,not-an-email,Engineer")
    result = run_pipeline(pipeline(tmp_path, CONTACTS_STEP, rally), transport=rally.transport)
    assert (result.exit_code, result.status) == (1, "failed")


def test_a_rerun_sends_only_what_changed(rally: InProcessSandbox, tmp_path: Path) -> None:
    people_csv(tmp_path)
    config = pipeline(tmp_path, CONTACTS_STEP, rally)
    run_pipeline(config, transport=rally.transport)
    writes = rally.write_requests()
    same = run_pipeline(config, transport=rally.transport).summary
    assert (same.unchanged, same.requests, rally.write_requests()) == (2, 0, writes)
    people_csv(tmp_path, title="Countess")
    changed = run_pipeline(config, transport=rally.transport).summary
    # one look at what changed in Rally since the last run, one write merged into Ada's record
    assert (changed.updated, changed.unchanged, changed.requests) == (1, 1, 2)
    [ada] = [r for r in rally.records("contacts") if r["email"] == "ada@x.org"]
    assert ada["title"] == "Countess"


def test_a_dry_run_plans_exactly_what_the_real_run_then_sends(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    people_csv(tmp_path, "Dee,Dot,dee@x.org,Engineer")
    config = pipeline(tmp_path, CONTACTS_STEP, rally)
    dry = run_pipeline(config, RunOptions(dry_run=True), transport=rally.transport)
    assert rally.write_requests() == 0
    planned = [json.loads(line) for line in dry.files["payloads"].read_text().splitlines()]
    assert dry.summary.planned == len(planned) == 3
    real = run_pipeline(config, transport=rally.transport)
    stored = {r["email"]: r for r in rally.records("contacts")}
    assert real.summary.created == 3
    for payload in planned:
        assert {k: stored[payload["email"]][k] for k in payload} == payload


def test_a_dry_run_reports_in_its_own_folder_and_a_real_run_drops_stale_payloads(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    people_csv(tmp_path)
    config = pipeline(tmp_path, CONTACTS_STEP, rally)
    real = run_pipeline(config, transport=rally.transport)
    errors = real.files["errors"].read_text()
    stale = real.files["errors"].parent / "payloads.ndjson"
    stale.write_text("{}\n")  # left by an older crmsync's dry run in the same folder
    dry = run_pipeline(config, RunOptions(dry_run=True), transport=rally.transport)
    assert dry.files["errors"].parent == tmp_path / "reports" / "dry-run"
    assert real.files["errors"].read_text() == errors  # the real run's report is untouched
    run_pipeline(config, transport=rally.transport)
    assert not stale.exists()
    assert dry.files["payloads"].exists()


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
      companyId:
        lookup: {object: companies, by: [domain: Website, email_domain: Email, name: Company]}
"""
    + DESTINATION
)


def migration_files(folder: Path) -> None:
    write_csv(folder, "companies.csv", "Name,Website", "Acme Inc,https://www.acme.com/")
    write_csv(
        folder,
        "people.csv",
        "First,Last,Email,Website,Company",
        "Ada,Lovelace,ada@acme.com,,",  # by email domain
        "Bob,Byte,bob@gmail.com,,Acme",  # free mail: by name, legal form ignored
        "Cy,Sea,cy@globex.com,globex.com,Globex",  # nothing finds Globex: fails
    )


def test_later_steps_link_to_what_earlier_steps_loaded(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    migration_files(tmp_path)
    config = pipeline(tmp_path, MIGRATION, rally)
    dry = run_pipeline(config, RunOptions(dry_run=True), transport=rally.transport)
    assert [s.summary.planned for s in dry.steps] == [1, 2]  # placeholders resolve in a dry run
    result = run_pipeline(config, transport=rally.transport)
    companies, contacts = (s.summary for s in result.steps)
    assert (companies.created, contacts.created, contacts.failed_by_stage["resolve"]) == (1, 2, 1)
    [acme] = rally.records("companies")
    assert {r["email"]: r["companyId"] for r in rally.records("contacts")} == {
        "ada@acme.com": acme["id"],
        "bob@gmail.com": acme["id"],
    }


@pytest.mark.parametrize("batch_size", [1, 2], ids=["batch-1", "batch-2"])
def test_an_interrupted_load_accounts_for_every_row_and_resumes(
    rally: InProcessSandbox, tmp_path: Path, batch_size: int
) -> None:
    rows = [f"P{n},Q{n},p{n}@x.org,Engineer" for n in range(6)]
    write_csv(tmp_path, "people.csv", HEADER, *rows)
    text = (
        CONTACTS_STEP + f"load: {{batch_size: {batch_size}, concurrency: 1, max_concurrency: 1}}\n"
    )
    config = pipeline(tmp_path, text, rally)
    stopped = run_pipeline(config, transport=CtrlC(rally.transport, "POST", "/bulk", 3))
    summary = stopped.summary
    assert summary.interrupted and stopped.exit_code == 3
    assert summary.created == 2 * batch_size
    assert summary.failed == summary.failed_by_stage["load"] == 6 - 2 * batch_size
    errors = dict(pl.read_csv(stopped.files["errors"]).select("row", "error").iter_rows())
    third = range(2 + 2 * batch_size, 2 + 3 * batch_size)  # the lines the third bulk held
    # the third bulk may have left; rows never taken for a request were not sent
    assert [errors[line] for line in third] == [INTERRUPTED_ERROR] * batch_size
    unsent = {line: NOT_SENT_ERROR for line in range(2 + 3 * batch_size, 8)}
    assert {line: errors[line] for line in unsent} == unsent
    resumed = run_pipeline(config, transport=rally.transport).summary
    assert (resumed.unchanged, resumed.created) == (2 * batch_size, 6 - 2 * batch_size)
    assert len(rally.records("contacts")) == 6


class _Stages(RunObserver):
    """Keeps the stage lines and the warnings a run says."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []
        self.warnings: list[str] = []

    def stage(self, name: str, detail: str) -> None:
        self.lines.append((name, detail))

    def warning(self, message: str) -> None:
        self.warnings.append(message)


def test_skip_rows_takes_the_header_below_and_the_read_line_says_where(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    (tmp_path / "people.csv").write_text(
        "Exported 2025-06-01,,,\n"
        "First,Last,Email,Title\n"  # looks like a header, but the file says skip two lines
        "First,Last,Email,Title,Title\n"
        "Ada,Lovelace,ada@x.org,Countess,Engineer\n",
        encoding="utf-8",
    )
    text = CONTACTS_STEP.replace("path: people.csv}", "path: people.csv, skip_rows: 2}")
    stages = _Stages()
    result = run_pipeline(
        pipeline(tmp_path, text, rally), observer=stages, transport=rally.transport
    )
    assert result.summary.created == 1
    read = dict(stages.lines)["read"]
    assert read == (
        '1 row from people.csv (header on line 3); a second column named "Title" is read as '
        '"Title_2"'
    )
    assert [r["title"] for r in rally.records("contacts")] == ["Countess"]


def test_a_name_default_fills_only_what_the_full_name_and_the_email_could_not(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    write_csv(
        tmp_path,
        "people.csv",
        "Name,Last,Email",
        "Jane Roe,,jane@x.org",  # the full name splits: Jane Roe
        ",,anna.berg@x.org",  # names_from_email: Anna Berg
        "Cher,,cher@x.org",  # one word: the default fills the last name
    )
    text = (
        """\
name: people
object: contacts
source: {kind: csv, path: people.csv}
mapping:
  fullName: Name
  lastName: {column: Last, default: "(unknown)"}
  email: Email
normalize: {names_from_email: true}
"""
        + DESTINATION
    )
    result = run_pipeline(pipeline(tmp_path, text, rally), transport=rally.transport)
    assert result.summary.created == 3 and result.summary.warnings == 1
    names = {r["email"]: (r["firstName"], r["lastName"]) for r in rally.records("contacts")}
    assert names == {
        "jane@x.org": ("Jane", "Roe"),
        "anna.berg@x.org": ("Anna", "Berg"),
        "cher@x.org": ("Cher", "(unknown)"),
    }


def test_phones_without_a_country_code_and_no_region_are_said_once(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    write_csv(
        tmp_path,
        "people.csv",
        "First,Last,Email,Phone",
        "Ada,Lovelace,ada@x.org,(212) 555-0100",
        "Bob,Byte,bob@x.org,212 555 0101",
        "Cy,Sea,cy@x.org,+1 212 555 0102",
        "Dee,Dot,dee@x.org;dee@y.org,+1 212 555 0103",
    )
    text = CONTACTS_STEP.replace("title: Title", "phone: Phone")
    stages = _Stages()
    result = run_pipeline(
        pipeline(tmp_path, text, rally), observer=stages, transport=rally.transport
    )
    said = stages.warnings
    assert said == [
        "2 rows have a phone without a country code, kept as written: set "
        "normalize.default_region (e.g. US) to read them"
    ]
    assert result.summary.warnings_by_field == {"phone": 2, "email": 1}
    assert result.summary.notices == said


def test_a_source_id_holding_a_nul_character_fails_its_row_not_the_run(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    """JSON can carry "\\u0000" where CSV cannot; no state database keeps it as written."""
    people = [
        {"Id": "p-1", "First": "Ada", "Last": "L", "Email": "ada@x.org"},
        {"Id": "p-\u00002", "First": "Bob", "Last": "S", "Email": "bob@x.org"},
    ]
    lines = "\n".join(json.dumps(person) for person in people)
    (tmp_path / "people.ndjson").write_text(lines + "\n", encoding="utf-8")
    step = (
        "name: nul\nobject: contacts\nsource_id: Id\n"
        "source: {kind: ndjson, path: people.ndjson}\n"
        "mapping: {firstName: First, lastName: Last, email: Email}\n" + DESTINATION
    )
    result = run_pipeline(pipeline(tmp_path, step, rally), transport=rally.transport)
    summary = result.summary
    assert (summary.created, summary.failed) == (1, 1)
    errors = pl.read_csv(tmp_path / "reports" / "errors.csv")
    assert errors["field"].to_list() == ["Id"]
    assert "NUL character" in errors["error"][0]
    assert [r["email"] for r in rally.records("contacts")] == ["ada@x.org"]


def test_two_records_under_one_source_id_fail_the_later_one(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    """A source id names one record: two under one id would overwrite each other in Rally on
    every run. The same record twice (same email) merges as any duplicate does."""
    write_csv(
        tmp_path,
        "people.csv",
        "Id,First,Last,Email",
        "7,Ada,L,ada@x.org",
        "8,Bob,S,bob@x.org",
        "7,Cy,Y,cy@x.org",  # another record under Ada's id: fails
        "7,Ada,L,ADA@x.org",  # Ada again: merged into row 2
        ",Di,P,di@x.org",  # no id: nothing to share
    )
    step = (
        "name: ids\nobject: contacts\nsource_id: Id\n"
        "source: {kind: csv, path: people.csv}\n"
        "mapping: {firstName: First, lastName: Last, email: Email}\n" + DESTINATION
    )
    config = pipeline(tmp_path, step, rally)
    summary = run_pipeline(config, transport=rally.transport).summary
    assert (summary.created, summary.merged, summary.failed) == (3, 1, 1)
    errors = pl.read_csv(tmp_path / "reports" / "errors.csv")
    assert errors.select("row", "field", "error").rows() == [
        (4, "Id", 'source id "7" is also row 2\'s, another record: a source id names one record')
    ]
    again = run_pipeline(config, transport=rally.transport).summary
    assert (again.unchanged, again.failed, again.updated) == (3, 1, 0)
