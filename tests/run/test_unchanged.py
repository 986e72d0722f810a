"""A big file's rerun sets aside the rows whose source fingerprints Rally's records vouch for,
and checks only the others; what it ends with is what checking every row gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from crmsync.extract import csv_stream
from crmsync.run import RunObserver, RunOptions, run_pipeline
from crmsync.run.stages import partitions, unchanged
from crmsync.run.undo import undo_run
from crmsync.sandbox.testing import InProcessSandbox

from .conftest import DESTINATION, counted_checks, pipeline

pytestmark = pytest.mark.usefixtures("both_backends")  # the fingerprints live in the state

STEP = (
    "name: people\nobject: contacts\nsource: {kind: csv, path: people.csv}\n"
    "mapping: {firstName: First, lastName: Last, email: Email, phone: Phone}\n"
    "normalize: {default_region: US}\n"
    "sync: {unreadable: rewrite}\n" + DESTINATION
)
ROWS = 120


def people(rows: int = ROWS) -> list[str]:
    """Lines of a contacts file: every 10th row a duplicate (in other case) of the row
    above, every 17th an email that fails, every 13th a phone that is warned about."""
    lines = ["First,Last,Email,Phone"]
    for i in range(rows):
        email = f"P{i - 1}@X.org" if i % 10 == 9 else f"p{i}@x.org"
        if i % 17 == 3:
            email = "not-an-email"
        phone = "call me" if i % 13 == 4 else f"+1 415 555 {i:04d}"
        lines.append(f"Ann{i},Lee,{email},{phone}")
    return lines


class Said(RunObserver):
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def stage(self, name: str, detail: str) -> None:
        self.lines.append((name, detail))


@pytest.fixture
def in_pieces(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Files read in pieces of some 200 bytes into some 5 partitions: the heights of the
    pieces' rows that were checked (mapped, normalized, validated), as they were."""
    monkeypatch.setattr(csv_stream, "STREAM_BYTES", 0)
    monkeypatch.setattr(csv_stream, "PIECE_BYTES", 200)
    monkeypatch.setattr(partitions, "SOURCE_BYTES", 800)
    return counted_checks(monkeypatch)


def _run(
    folder: Path, rally: InProcessSandbox, lines: list[str], step: str = STEP, **options: Any
) -> tuple[Any, Said]:
    (folder / "people.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    said = Said()
    result = run_pipeline(
        pipeline(folder, step, rally), RunOptions(**options), said, transport=rally.transport
    )
    return result, said


def _counts(result: Any) -> tuple[int, ...]:
    s = result.steps[0].summary
    return (s.rows_read, s.created, s.updated, s.unchanged, s.merged, s.failed, s.warnings)


def _reports(result: Any, folder: Path) -> dict[str, str]:
    files = result.steps[0].files
    return {
        kind: files[kind].read_text("utf-8").replace(str(folder), "<>")
        for kind in ("errors", "merged", "warnings")
    }


@pytest.mark.slow  # whole pipeline runs, both state backends
def test_a_rerun_checks_only_the_rows_it_cannot_vouch_for(
    rally: InProcessSandbox, tmp_path: Path, in_pieces: list[int]
) -> None:
    lines = people()
    first, _ = _run(tmp_path, rally, lines)
    assert sum(in_pieces) == ROWS
    in_pieces.clear()
    lines[1 + 21] = lines[1 + 21].replace("Ann21,", "Anne21,")  # one row changed
    rerun, _ = _run(tmp_path, rally, lines)
    # 120 rows: 7 fail; 11 merge into the row above them (22 rows share a key: the twelfth
    # duplicate's row above failed); 9 are warned about, 2 of them sharing a key too. The
    # 120 - 7 - 22 - 7 = 84 that stand alone are set aside unchecked on the rerun, but for
    # the one changed
    assert _counts(first) == (120, 102, 0, 0, 11, 7, 9)
    assert _counts(rerun) == (120, 0, 1, 101, 11, 7, 9)
    assert sum(in_pieces) == 120 - 83
    assert _reports(rerun, tmp_path) == _reports(first, tmp_path)
    in_pieces.clear()
    again, _ = _run(tmp_path, rally, lines)  # the changed row stored its new fingerprint
    assert _counts(again) == (120, 0, 0, 102, 11, 7, 9)
    assert sum(in_pieces) == 120 - 84


@pytest.mark.slow  # whole pipeline runs, both state backends
def test_a_rerun_that_sets_every_row_aside_checks_none(
    rally: InProcessSandbox, tmp_path: Path, in_pieces: list[int]
) -> None:
    """Nothing failed, warned or merged: the rerun has no row to check in any piece."""
    lines = ["First,Last,Email,Phone"]
    lines += [f"Ann{i},Lee,p{i}@x.org,+1 415 555 {i:04d}" for i in range(60)]
    first, _ = _run(tmp_path, rally, lines)
    assert _counts(first) == (60, 60, 0, 0, 0, 0, 0)
    in_pieces.clear()
    rerun, _ = _run(tmp_path, rally, lines)
    assert _counts(rerun) == (60, 0, 0, 60, 0, 0, 0)
    assert in_pieces == [0]  # one check, of no rows: what follows has the columns


@pytest.mark.slow  # whole pipeline runs, both state backends
def test_a_new_duplicate_of_a_known_row_reads_the_file_again(
    rally: InProcessSandbox,
    tmp_path: Path,
    in_pieces: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lines = people()
    _run(tmp_path, rally, lines)
    in_pieces.clear()
    # a later row of a known row's email, with the mobile the first has not: the two merge
    lines.append("Ann0,Lee,P0@x.ORG,")
    rerun, said = _run(tmp_path, rally, lines)
    assert ("read", "a row known unchanged has a new duplicate: read again") in said.lines
    assert sum(in_pieces) > ROWS  # the first read set rows aside; the second checked all
    assert _counts(rerun) == (121, 0, 0, 102, 12, 7, 9)
    # as a file read whole says it
    whole = tmp_path / "whole"
    whole.mkdir()
    rally.reset()
    monkeypatch.setattr(csv_stream, "STREAM_BYTES", 1 << 40)
    _run(whole, rally, lines[:-1])
    again, _ = _run(whole, rally, lines)
    assert _counts(again) == _counts(rerun)
    assert _reports(again, whole) == _reports(rerun, tmp_path)


@pytest.mark.slow  # whole pipeline runs, both state backends
def test_a_known_row_copied_whole_is_a_new_duplicate_too(
    rally: InProcessSandbox, tmp_path: Path, in_pieces: list[int]
) -> None:
    lines = people()
    _run(tmp_path, rally, lines)
    lines.append(lines[1])  # both copies have the fingerprint row 0's record keeps
    rerun, said = _run(tmp_path, rally, lines)
    assert ("read", "a row known unchanged has a new duplicate: read again") in said.lines
    assert _counts(rerun) == (121, 0, 0, 102, 12, 7, 9)


@pytest.mark.slow  # whole pipeline runs, both state backends
def test_a_changed_pipeline_file_or_a_full_run_checks_every_row(
    rally: InProcessSandbox, tmp_path: Path, in_pieces: list[int]
) -> None:
    lines = people()
    _run(tmp_path, rally, lines)
    in_pieces.clear()
    _run(tmp_path, rally, lines, full=True)
    assert sum(in_pieces) == ROWS
    in_pieces.clear()
    other = STEP.replace("default_region: US", "default_region: GB")
    dry, _ = _run(tmp_path, rally, lines, other, dry_run=True)
    assert sum(in_pieces) == ROWS
    in_pieces.clear()
    rerun, _ = _run(tmp_path, rally, lines, other)  # the dry run stored nothing
    assert sum(in_pieces) == ROWS
    assert _counts(rerun) == (120, 0, 0, 102, 11, 7, 9) and _counts(dry)[0] == 120
    in_pieces.clear()
    _run(tmp_path, rally, lines, other)  # the unchanged rows stored their fingerprints
    assert sum(in_pieces) == ROWS - 84
    in_pieces.clear()
    # a new update policy applies to every record once: no row is set aside under it
    kept = other.replace("firstName: First", "firstName: {column: First, update: if_empty}")
    _run(tmp_path, rally, lines, kept)
    assert sum(in_pieces) == ROWS


@pytest.mark.slow  # whole pipeline runs, both state backends
def test_a_row_whose_update_was_undone_is_sent_again(
    rally: InProcessSandbox, tmp_path: Path, in_pieces: list[int]
) -> None:
    lines = people()
    _run(tmp_path, rally, lines)
    lines[1 + 21] = lines[1 + 21].replace("Ann21,", "Anne21,")
    updated, _ = _run(tmp_path, rally, lines)
    assert _counts(updated)[2] == 1
    undo_run(pipeline(tmp_path, STEP, rally), updated.run_id, transport=rally.transport)
    assert _first_name(rally, "p21@x.org") == "Ann21"
    again, _ = _run(tmp_path, rally, lines)
    assert _counts(again)[2:4] == (1, 101)
    assert _first_name(rally, "p21@x.org") == "Anne21"


def _first_name(rally: InProcessSandbox, email: str) -> str:
    (record,) = [r for r in rally.records("contacts") if r["email"] == email]
    return str(record["firstName"])


@pytest.mark.slow  # whole pipeline runs, both state backends
def test_a_dry_run_sets_known_rows_aside_and_makes_no_fingerprints_with_nothing_stored(
    rally: InProcessSandbox, tmp_path: Path, in_pieces: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[int] = []
    real = unchanged.fingerprints

    def counted(frame: pl.DataFrame, *args: Any) -> Any:
        made.append(frame.height)
        return real(frame, *args)

    monkeypatch.setattr(unchanged, "fingerprints", counted)
    lines = people()
    dry, _ = _run(tmp_path, rally, lines, dry_run=True)
    assert made == []  # nothing stored to find them in, and a dry run keeps none
    assert _counts(dry) == (120, 0, 0, 0, 11, 7, 9) and sum(in_pieces) == ROWS
    _run(tmp_path, rally, lines)
    assert sum(made) == ROWS  # a real first load makes them all, to store
    in_pieces.clear()
    again, _ = _run(tmp_path, rally, lines, dry_run=True)
    assert _counts(again) == (120, 0, 0, 102, 11, 7, 9)
    assert sum(in_pieces) == ROWS - 84  # the dry run still sets the known rows aside
