"""What a run settles before it reads or writes anything: Rally answers, every step can read
the columns it maps, and a mapped column the source lacks is done without when the pipeline
says it may be."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import httpx
import pytest

from crmsync.config import load_pipeline
from crmsync.errors import AuthError, ConfigError, SourceError, UnreachableError
from crmsync.extract import csv_stream
from crmsync.run import RunObserver, RunOptions, run_pipeline
from crmsync.sandbox.testing import InProcessSandbox

from .conftest import DESTINATION, Refused, pipeline, write_csv

pytestmark = pytest.mark.usefixtures("both_backends")

PEOPLE = (
    """\
name: people
object: contacts
source: {kind: csv, path: people.csv}
mapping:
  firstName: First
  lastName: Last
  email: Email
  leadSource: {column: "cf:Lead source", default: redmine}
  title: {column: Position, optional: true}
  notes: {template: "{Background}\\n{cf:Industry}", optional: true}
"""
    + DESTINATION
)


ONE_STEP = (
    "name: people\nobject: contacts\nsource: {kind: csv, path: people.csv}\n"
    "mapping: {firstName: First, lastName: Last, email: Email}\n" + DESTINATION
)


class _Said(RunObserver):
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warning(self, message: str) -> None:
        self.warnings.append(message)


def test_a_column_with_a_default_or_optional_the_source_lacks_is_done_without_once(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    write_csv(tmp_path, "people.csv", "First,Last,Email,Background", "Ada,Lovelace,ada@x.org,Poet")
    said = _Said()
    result = run_pipeline(
        pipeline(tmp_path, PEOPLE, rally), observer=said, transport=rally.transport
    )
    assert result.exit_code == 0
    assert said.warnings == [
        "mapping.leadSource: column 'cf:Lead source' not in the source: leadSource takes its "
        "default 'redmine' where it would have read them",
        "mapping.title: column 'Position' not in the source: title is left empty where it "
        "would have read them",
        "mapping.notes: column 'cf:Industry' not in the source: notes is left empty where it "
        "would have read them",
    ]
    assert result.summary.notices == said.warnings
    [ada] = rally.records("contacts")
    assert (ada["leadSource"], ada["title"], ada["notes"]) == ("redmine", None, "Poet")


def test_a_column_without_a_default_still_stops_the_run(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    write_csv(tmp_path, "people.csv", "First,Last,Mail", "Ada,Lovelace,ada@x.org")
    with pytest.raises(ConfigError, match=r"mapping\.email: column 'Email' is not in the file"):
        run_pipeline(pipeline(tmp_path, PEOPLE, rally), transport=rally.transport)


TWO_STEPS = (
    """\
name: two
steps:
  - name: companies
    object: companies
    source: {kind: csv, path: companies.csv}
    mapping: {name: Name, domain: Website}
  - name: people
    object: contacts
    source: {kind: csv, path: people.csv}
    mapping: {firstName: First, lastName: Last, email: Email}
"""
    + DESTINATION
)


def test_a_later_step_that_cannot_start_stops_the_run_before_the_first_writes(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    write_csv(tmp_path, "companies.csv", "Name,Website", "Acme,acme.com")
    write_csv(tmp_path, "people.csv", "First,Last,E-mail address", "Ada,Lovelace,ada@acme.com")
    config = pipeline(tmp_path, TWO_STEPS, rally)
    with pytest.raises(ConfigError, match=r"mapping\.email: column 'Email' is not in the file"):
        run_pipeline(config, transport=rally.transport)
    assert rally.write_requests() == 0
    assert rally.records("companies") == []


def test_an_unreachable_destination_stops_the_run_in_seconds_naming_host_and_cause(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    write_csv(tmp_path, "people.csv", "First,Last,Email", "Ada,Lovelace,ada@x.org")
    config = pipeline(tmp_path, TWO_STEPS.replace("companies.csv", "people.csv"), rally)
    refused = Refused()
    started = time.monotonic()
    with pytest.raises(UnreachableError) as info:
        run_pipeline(config, transport=refused)
    assert time.monotonic() - started < 5
    assert refused.requests == 2  # one try and one retry, not a run's worth of retries
    message = str(info.value)
    assert f"cannot reach Rally at {rally.base_url}" in message
    assert "Connection refused" in message


def test_a_base_url_that_is_no_api_root_is_said_before_anything_is_sent(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    """A 404 for the list every tenant has: the URL names no Rally API (a path too many),
    said as such instead of a bare HTTP error."""
    write_csv(tmp_path, "people.csv", "First,Last,Email", "Ada,Lovelace,ada@x.org")
    config = pipeline(tmp_path, ONE_STEP, rally)

    def nowhere(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"error": "Not Found"})

    with pytest.raises(UnreachableError) as info:
        run_pipeline(config, transport=httpx.MockTransport(nowhere))
    message = str(info.value)
    assert f"no Rally API at {rally.base_url} (nothing was sent)" in message
    assert "should be the tenant's root URL" in message


def test_a_dry_run_without_lookups_needs_no_key_and_one_with_lookups_does(
    tmp_path: Path,
) -> None:
    write_csv(tmp_path, "people.csv", "First,Last,Email,Company", "Ada,Lovelace,ada@x.org,Acme")
    path = tmp_path / "pipeline.yaml"
    path.write_text(ONE_STEP)
    with pytest.raises(ConfigError, match="RALLY_BASE_URL is not set"):
        load_pipeline(path, env={})  # a real run's loading refuses it at once
    said = _Said()
    config = load_pipeline(path, env={}, destination_optional=True)
    dry = run_pipeline(config, RunOptions(dry_run=True), observer=said)
    assert dry.summary.planned == 1
    assert "RALLY_BASE_URL is not set" in said.warnings[0]
    with pytest.raises(ConfigError, match="RALLY_BASE_URL is not set"):
        run_pipeline(config)  # a real run needs the destination
    lookup = "  companyId: {lookup: {object: companies, by: [name: Company]}}\n"
    path.write_text(
        "name: people\nobject: contacts\nsource: {kind: csv, path: people.csv}\nmapping:\n"
        "  firstName: First\n  lastName: Last\n  email: Email\n" + lookup + DESTINATION
    )
    config = load_pipeline(path, env={}, destination_optional=True)
    with pytest.raises(ConfigError, match=r"RALLY_BASE_URL is not set \(this run reads Rally\)"):
        run_pipeline(config, RunOptions(dry_run=True))


def test_a_missing_source_file_is_said_before_rally_is_asked(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    config = pipeline(tmp_path, TWO_STEPS, rally)
    refused = Refused()
    with pytest.raises(SourceError, match=r"companies\.csv: file not found"):
        run_pipeline(config, transport=refused)
    assert refused.requests == 0


class _ReadSeen(RunObserver):
    """Sets `read` when the run says it has read its source."""

    def __init__(self) -> None:
        self.read = threading.Event()

    def stage(self, name: str, detail: str) -> None:
        if name == "read":
            self.read.set()


class _AnswersAfterTheRead(httpx.AsyncBaseTransport):
    """Rally, but the first request (the destination's check) is held until the source has
    been read: a check that came before the read would hold for nothing, then say so."""

    def __init__(self, rally: InProcessSandbox, read: threading.Event) -> None:
        self._rally = rally.transport
        self._read = read
        self.held: list[bool] = []  # per held request: whether the read came meanwhile

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not self.held:
            self.held.append(await asyncio.to_thread(self._read.wait, 10))
        return await self._rally.handle_async_request(request)


def test_rally_is_asked_whether_it_answers_while_the_source_is_read(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    write_csv(tmp_path, "people.csv", "First,Last,Email", "Ada,Lovelace,ada@x.org")
    seen = _ReadSeen()
    transport = _AnswersAfterTheRead(rally, seen.read)
    result = run_pipeline(pipeline(tmp_path, ONE_STEP, rally), observer=seen, transport=transport)
    assert transport.held == [True]  # the check was still waiting when the read was done
    assert result.summary.created == 1


def test_a_refused_key_is_said_before_a_file_that_cannot_be_read(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    write_csv(tmp_path, "people.csv", "First,Last,Email", '"Ada,Lovelace,ada@x.org')
    path = tmp_path / "pipeline.yaml"
    path.write_text(ONE_STEP)
    config = load_pipeline(path, env={"RALLY_BASE_URL": rally.base_url, "RALLY_API_KEY": "no"})
    with pytest.raises(AuthError):
        run_pipeline(config, transport=rally.transport)
    write_csv(tmp_path, "people.csv", "First,Last,Email", "Ada,Lovelace,ada@x.org")
    with pytest.raises(AuthError):  # and the file read well, as before
        run_pipeline(config, transport=rally.transport)
    assert rally.write_requests() == 0


def test_a_dry_run_that_never_needs_rally_still_says_it_is_unreachable(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    write_csv(tmp_path, "people.csv", "First,Last,Email", "Ada,Lovelace,not-an-email")
    refused = Refused()
    with pytest.raises(UnreachableError, match="Connection refused"):
        run_pipeline(
            pipeline(tmp_path, ONE_STEP, rally), RunOptions(dry_run=True), transport=refused
        )
    assert refused.requests == 2


def test_a_file_read_in_pieces_is_not_read_when_rally_is_unreachable(
    rally: InProcessSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_stream, "STREAM_BYTES", 0)  # every file is big
    write_csv(tmp_path, "people.csv", "First,Last,Email", "Ada,Lovelace,ada@x.org")
    seen = _ReadSeen()
    with pytest.raises(UnreachableError):
        run_pipeline(pipeline(tmp_path, ONE_STEP, rally), observer=seen, transport=Refused())
    assert not seen.read.is_set()
