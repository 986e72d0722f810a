"""A big file goes through the step a piece at a time and ends as if read whole: the same
counts, report files and records in Rally; a file the pieces cannot read is read whole."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from crmsync.config.sizes import DEFAULT_WORK_MEMORY
from crmsync.extract import csv_stream, sources
from crmsync.run import run_pipeline
from crmsync.run import step as step_module
from crmsync.run.stages import partitions, spool
from crmsync.run.stages import pieces as pieces_module
from crmsync.sandbox.testing import InProcessSandbox

from .conftest import DESTINATION, counted_checks, pipeline

MAPPING = (
    "mapping: {firstName: First, lastName: Last, email: Email, phone: Phone, mobile: Mobile, "
    "notes: Notes}\n"
)
STEP = (
    "name: people\nobject: contacts\nsource: {kind: csv, path: people.csv}\n"
    + MAPPING
    + "normalize: {default_region: US}\nsync: {unreadable: rewrite}\n"
    + DESTINATION
)
TWO_STEPS = f"""\
name: twice
steps:
  - name: people
    object: contacts
    source: {{kind: csv, path: people.csv}}
    {MAPPING}  - name: again
    object: contacts
    source: {{kind: csv, path: people.csv}}
    {MAPPING}{DESTINATION}"""
REPORTS = ("errors", "merged", "warnings")


def people(rows: int) -> str:
    """Duplicates in other case, bad emails, a record of the wrong width, notes over two
    lines, and now and then a cell with two phones (the second fills the mobile: a column
    only some pieces have)."""
    lines = ["First,Last,Email,Phone,Mobile,Notes"]
    for i in range(rows):
        email = f"p{i}@x.org" if i % 7 or i == 0 else f"P{i - 1}@X.org"  # the row above's
        if i % 23 == 5:
            email = "not-an-email"
        phone = "(415) 555-0164; +44 20 7946 0018" if i % 41 == 3 else f"+1 415 555 {i:04d}"
        notes = f'"met at\nevent {i}"' if i % 5 == 0 else f"plain {i}"
        lines.append(f"Ann{i},Lee,{email},{phone},,{notes}")
        if i % 97 == 50:
            lines.append("too,few")
    return "\n".join(lines) + "\n"


def _run(
    folder: Path, rally: InProcessSandbox, text: str, work_memory: int = DEFAULT_WORK_MEMORY
) -> dict[str, object]:
    """A first load, then a rerun with one row changed: what each left (`work_memory` may be
    below what a pipeline file can ask, to spill a few rows)."""
    folder.mkdir()
    (folder / "people.csv").write_text(text, encoding="utf-8")
    seen: dict[str, object] = {}
    for run in ("first", "rerun"):
        loaded = pipeline(folder, STEP, rally).model_copy(update={"work_memory": work_memory})
        result = run_pipeline(loaded, transport=rally.transport)
        (step,) = result.steps
        files = step.files
        for kind in REPORTS:
            seen[f"{run} {kind}"] = files[kind].read_text("utf-8").replace(str(folder), "<>")
        s = step.summary
        seen[f"{run} counts"] = (s.rows_read, s.created, s.updated, s.unchanged, s.failed)
        seen[f"{run} merged, warned"] = (s.merged, s.warnings)
        assert not [p.name for p in (folder / "reports").iterdir() if p.name.startswith(".")]
        (folder / "people.csv").write_text(text.replace("Ann3,", "Anne3,"), encoding="utf-8")
    seen["rally"] = sorted(
        (r["email"], r.get("phone"), r.get("mobile"), r.get("firstName"))
        for r in rally.records("contacts")
    )
    rally.reset()
    return seen


def _heights(
    monkeypatch: pytest.MonkeyPatch, owner: type, method: str, name: str | None = None
) -> list[int]:
    """The heights of the frames `owner.method` yields from now on, as they are taken (of
    the spools of that `name` only, if given)."""
    heights: list[int] = []
    real = getattr(owner, method)

    def counted(self: object) -> Iterator[pl.DataFrame]:
        for rows in real(self):
            if name is None or getattr(self, "_name", None) == name:
                heights.append(rows.height)
            yield rows

    monkeypatch.setattr(owner, method, counted)
    return heights


@pytest.mark.slow  # the whole pipeline twice, read whole and in pieces
def test_a_file_read_in_pieces_ends_as_if_read_whole(
    rally: InProcessSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = people(400)
    whole = _run(tmp_path / "whole", rally, text)
    read_whole: list[str] = []
    monkeypatch.setattr(csv_stream, "STREAM_BYTES", 0)
    monkeypatch.setattr(csv_stream, "PIECE_BYTES", 700)  # some 40 pieces
    monkeypatch.setattr(
        sources.FileSourceReader, "_parse", lambda self: read_whole.append("read") or None
    )
    monkeypatch.setattr(partitions, "SOURCE_BYTES", 2_000)  # some 15 partitions
    parts = _heights(monkeypatch, partitions.Partitions, "parts")  # planned
    sent = _heights(monkeypatch, spool.Spool, "frames", name="planned")  # delivered
    monkeypatch.setattr(pieces_module, "CHECKED_AT_ONCE", 60)
    checked = counted_checks(monkeypatch)
    pieces = _run(tmp_path / "pieces", rally, text, work_memory=4_000)  # written as they gather
    assert read_whole == []  # never read whole
    # the rows of some 40 pieces of each run checked some 60 at a time: 400, then the 130 the
    # rerun did not set aside (below)
    assert sum(checked) == 400 + 130 and len(checked) <= 12
    assert sum(1 for rows in checked if rows < 60) <= 2  # each run's last
    # both runs by partition: the first load sends its 330 records a partition at a time
    # (the 52 merged and the 18 that failed validation are not sent), the rerun one record.
    # The first load checks its 400 rows; the rerun sets aside the 270 known unchanged by
    # their fingerprints and checks the 130 others: the 52 merged and the rows they merged
    # into, the rows that failed or were warned about (the changed row among them)
    assert len(parts) >= 20 and sum(parts) == 400 + 130
    assert len(sent) >= 10 and sum(sent) == 330 + 1
    assert pieces == whole
    assert whole["first counts"] == (
        404,
        330,
        0,
        0,
        22,
    )  # read, created, updated, unchanged, failed
    assert whole["rerun counts"] == (404, 0, 1, 329, 22)
    assert whole["first merged, warned"] == (52, 10)
    errors = str(whole["first errors"])
    assert "too,few" in errors and "not-an-email" in errors


def test_a_big_file_the_pieces_cannot_read_is_read_whole(
    rally: InProcessSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows-1252 bytes: the pieces give up, the whole read detects the encoding."""
    monkeypatch.setattr(csv_stream, "STREAM_BYTES", 0)
    monkeypatch.setattr(csv_stream, "PIECE_BYTES", 64)
    folder = tmp_path / "cp1252"
    folder.mkdir()
    rows = "".join(f"Ren\xe9{i},Lee,r{i}@x.org,,,\n" for i in range(30))
    text = "First,Last,Email,Phone,Mobile,Notes\n" + rows
    (folder / "people.csv").write_bytes(text.encode("cp1252"))
    result = run_pipeline(pipeline(folder, STEP, rally), transport=rally.transport)
    assert result.steps[0].summary.created == 30
    assert {r["firstName"] for r in rally.records("contacts")} == {f"René{i}" for i in range(30)}


def test_a_file_another_step_reads_too_is_read_whole_once(
    rally: InProcessSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two steps of one source: the read is kept for the second, not read in pieces twice."""
    monkeypatch.setattr(csv_stream, "STREAM_BYTES", 0)
    pieced: list[bool] = []
    real = step_module.read_in_pieces
    monkeypatch.setattr(step_module, "read_in_pieces", lambda *a: pieced.append(True) or real(*a))
    (tmp_path / "people.csv").write_text(people(30), encoding="utf-8")
    result = run_pipeline(pipeline(tmp_path, TWO_STEPS, rally), transport=rally.transport)
    assert [s.summary.rows_read for s in result.steps] == [30, 30]
    assert pieced == [True]  # the last step to read it may take it in pieces
