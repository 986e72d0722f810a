"""Runs that stop after they sent records: a key refused in the middle of a load, a later step
that cannot start, a report folder that cannot be written. Each keeps its true counts in the
report and the history, says what happened, and exits 5, never 2 ("nothing was sent"); a
report folder that is unusable from the start is found before anything is sent."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import polars as pl
import pytest

from crmsync.errors import EXIT_CANNOT_START, EXIT_STOPPED, AuthError, ConfigError, StoppedError
from crmsync.report.history import counts, list_runs, pipeline_state
from crmsync.run import RunObserver, run_pipeline
from crmsync.sandbox.testing import InProcessSandbox

from .conftest import DESTINATION, pipeline, write_csv

pytestmark = pytest.mark.usefixtures("both_backends")

ROWS = 250
STEP = (
    """\
name: people
object: contacts
source: {kind: csv, path: people.csv}
mapping: {firstName: First, lastName: Last, email: Email}
load: {mode: bulk, batch_size: 50, concurrency: 1, max_concurrency: 1}
sync: {unreadable: rewrite}  # updates may rewrite the fields Rally never shows
"""
    + DESTINATION
)


class RevokedAfter(httpx.AsyncBaseTransport):
    """Rally, until the key is revoked after `bulks` bulk requests: then 401 for everything."""

    def __init__(self, inner: httpx.AsyncBaseTransport, *, bulks: int) -> None:
        self._inner = inner
        self._left = bulks

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/bulk"):
            if self._left == 0:
                return httpx.Response(401, json={"error": "the API key was revoked"})
            self._left -= 1
        return await self._inner.handle_async_request(request)


def people(folder: Path, rows: int = ROWS) -> None:
    lines = [f"P{n},Q{n},p{n}@x.org" for n in range(rows)]
    write_csv(folder, "people.csv", "First,Last,Email", *lines)


def test_a_key_refused_mid_run_keeps_the_report_and_the_true_counts(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    people(tmp_path)
    config = pipeline(tmp_path, STEP, rally)
    stopped = run_pipeline(config, transport=RevokedAfter(rally.transport, bulks=2))

    assert stopped.exit_code == EXIT_STOPPED
    summary = stopped.summary
    assert summary.stopped is not None and "the API key was refused" in summary.stopped
    assert "nothing was written" not in summary.stopped
    assert (summary.rows_read, summary.created, summary.failed) == (ROWS, 100, ROWS - 100)
    assert summary.failed_by_stage["load"] == ROWS - 100
    assert summary.requests >= 3
    errors = pl.read_csv(stopped.files["errors"])
    assert errors.height == ROWS - 100
    # the refused bulk's rows are in doubt (the key was refused while it was out), and so
    # are the next bulk's if it left before the load stopped; the last was never sent
    doubt = errors.filter(pl.col("error").str.contains("the load stopped before this record's"))
    unsent = errors.filter(pl.col("error").str.contains("the load stopped before it was sent"))
    assert doubt.height + unsent.height == ROWS - 100 and doubt.height >= 50
    assert set(range(ROWS - 48, ROWS + 2)) <= set(unsent["row"])  # lines of the last bulk
    (run,) = list_runs(pipeline_state(tmp_path / "pipeline.yaml"))
    assert run.status == "interrupted" and "refused" in str(run.summary["error"])
    assert counts(run)["created"] == 100 and counts(run)["failed"] == ROWS - 100

    resumed = run_pipeline(config, transport=rally.transport)
    assert (resumed.summary.unchanged, resumed.summary.created) == (100, ROWS - 100)
    assert resumed.exit_code == 0
    assert len(rally.records("contacts")) == ROWS


class RevokedForUpdates(httpx.AsyncBaseTransport):
    """Rally, but every PUT of a record is refused as a revoked key's."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        self.puts = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            self.puts += 1
            return httpx.Response(401, json={"error": "the API key was revoked"})
        return await self._inner.handle_async_request(request)


def test_a_key_refused_on_updates_stops_the_step_as_on_bulks(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    """Each refused PUT was a failed row and the run went on sending, exit 1."""
    people(tmp_path, rows=120)
    config = pipeline(tmp_path, STEP.replace("mode: bulk", "mode: auto"), rally)
    assert run_pipeline(config, transport=rally.transport).exit_code == 0
    lines = [f"P{n},Q{n}{'-changed' * (n % 4 == 0)},p{n}@x.org" for n in range(120)]
    write_csv(tmp_path, "people.csv", "First,Last,Email", *lines)  # 30 rows change
    revoked = RevokedForUpdates(rally.transport)
    stopped = run_pipeline(config, transport=revoked)
    assert stopped.exit_code == EXIT_STOPPED
    summary = stopped.summary
    assert summary.stopped is not None and "the API key was refused" in summary.stopped
    assert summary.stopped.endswith("so nothing was written")  # every PUT was refused
    assert (summary.updated, summary.failed, summary.unchanged) == (0, 30, 90)
    assert summary.failed_by_stage["load"] == 30


class EmptyAnswerFor(httpx.AsyncBaseTransport):
    """Rally, but the PUT of the record whose body holds `email` is answered `{}`, unsent."""

    def __init__(self, inner: httpx.AsyncBaseTransport, email: str) -> None:
        self._inner = inner
        self._email = email

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT" and self._email.encode() in request.content:
            return httpx.Response(200, json={})
        return await self._inner.handle_async_request(request)


def test_an_update_answered_with_no_record_stops_the_step_and_keeps_the_others(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    """The other updates of its chunk were made and are recorded, not lost with the error:
    the rerun sends only the one whose answer was no record."""
    people(tmp_path, rows=120)
    config = pipeline(tmp_path, STEP.replace("mode: bulk", "mode: auto"), rally)
    assert run_pipeline(config, transport=rally.transport).exit_code == 0
    lines = [f"P{n},Q{n}{'-changed' * (n % 4 == 0)},p{n}@x.org" for n in range(120)]
    write_csv(tmp_path, "people.csv", "First,Last,Email", *lines)  # 30 rows change
    stopped = run_pipeline(config, transport=EmptyAnswerFor(rally.transport, "p8@x.org"))
    assert stopped.exit_code == EXIT_STOPPED
    assert "without an id" in str(stopped.summary.stopped)
    assert (stopped.summary.updated, stopped.summary.failed) == (29, 1)
    again = run_pipeline(config, transport=rally.transport)
    assert (again.summary.updated, again.summary.unchanged) == (1, 119)


def test_a_key_refused_at_the_first_write_still_says_the_load_began(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    people(tmp_path, rows=3)
    config = pipeline(tmp_path, STEP, rally)
    stopped = run_pipeline(config, transport=RevokedAfter(rally.transport, bulks=0))
    assert stopped.exit_code == EXIT_STOPPED
    assert (stopped.summary.created, stopped.summary.failed) == (0, 3)
    assert str(stopped.summary.stopped).endswith("so nothing was written")
    assert rally.records("contacts") == []


class Refused(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "unknown key"})


def test_a_key_refused_before_the_load_began_is_a_run_that_could_not_start(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    people(tmp_path, rows=3)
    with pytest.raises(AuthError) as caught:
        run_pipeline(pipeline(tmp_path, STEP, rally), transport=Refused())
    assert caught.value.exit_code == EXIT_CANNOT_START


class RevokedAfterBulks(httpx.AsyncBaseTransport):
    """Rally until `bulks` bulk requests have been answered, then 401 for every request."""

    def __init__(self, inner: httpx.AsyncBaseTransport, *, bulks: int) -> None:
        self._inner = inner
        self._left = bulks

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._left == 0:
            return httpx.Response(401, json={"error": "the API key was revoked"})
        if request.url.path.endswith("/bulk"):
            self._left -= 1
        return await self._inner.handle_async_request(request)


def test_a_later_step_that_cannot_start_after_an_earlier_one_sent_exits_5(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    people(tmp_path, rows=3)
    write_csv(tmp_path, "firms.csv", "Name,Website", "Acme,acme.com")
    text = (
        """\
name: two
steps:
  - name: people
    object: contacts
    source: {kind: csv, path: people.csv}
    mapping: {firstName: First, lastName: Last, email: Email}
  - name: more-people
    object: contacts
    source: {kind: csv, path: firms.csv}
    mapping:
      firstName: Name
      lastName: Name
      email: {constant: "info@acme.com"}
      companyId: {lookup: {object: companies, by: [domain: Website]}}
"""
        + DESTINATION
    )
    # the second step's first request (a listing of companies, to resolve) is refused
    with pytest.raises(StoppedError, match=r"refused.*the steps before it had sent records"):
        run_pipeline(
            pipeline(tmp_path, text, rally), transport=RevokedAfterBulks(rally.transport, bulks=1)
        )


def test_a_report_folder_that_is_a_file_is_refused_before_anything_is_sent(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    people(tmp_path, rows=3)
    (tmp_path / "reports").write_text("not a folder", encoding="utf-8")
    with pytest.raises(ConfigError, match="the report folder is a file"):
        run_pipeline(pipeline(tmp_path, STEP, rally), transport=rally.transport)
    assert rally.write_requests() == 0
    assert list_runs(pipeline_state(tmp_path / "pipeline.yaml")) == []


class ReportFolderTakenAway(RunObserver):
    """Replaces the report folder with a file once the load has ended: as a full disk or an
    operator's cleanup would, between the check at the start and the writing at the end."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def load_finished(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.write_text("in the way", encoding="utf-8")


def test_a_report_that_cannot_be_written_after_the_load_still_records_the_counts(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    people(tmp_path, rows=3)
    config = pipeline(tmp_path, STEP, rally)
    result = run_pipeline(
        config, observer=ReportFolderTakenAway(tmp_path / "reports"), transport=rally.transport
    )
    assert result.exit_code == EXIT_STOPPED and result.files == {}
    assert result.summary.created == 3
    assert result.stopped is not None and "the report could not be written" in result.stopped
    (run,) = list_runs(pipeline_state(tmp_path / "pipeline.yaml"))
    assert counts(run)["created"] == 3 and run.status == "interrupted"
