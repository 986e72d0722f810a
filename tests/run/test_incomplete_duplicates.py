"""A row that only lacks required fields, beside a complete row of its key, is that row's
duplicate: it merges with it (or, kept first, takes its values) instead of failing, read
whole or in pieces, and a rerun leaves it so."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from crmsync.extract import csv_stream, read_source
from crmsync.run import run_pipeline
from crmsync.run.stages import partitions
from crmsync.run.stages.transform import source_columns, transform
from crmsync.sandbox.testing import InProcessSandbox

from .conftest import DESTINATION, pipeline, write_csv

STEP = (
    "name: news\nobject: contacts\nsource: {kind: csv, path: people.csv}\n"
    "mapping: {firstName: first, lastName: last, email: email, leadScore: score}\n" + DESTINATION
)
ROWS = (
    ",Lee,ann@x.org,",  # 2: no first name; row 3 has one: kept first, takes it
    "Ann,Lee,ANN@x.org,",  # 3: merged into row 2
    "Bob,Ray,bob@x.org,",  # 4
    "Bob,,bob@x.org,",  # 5: no last name: merged into row 4
    ",Cy,cy@x.org,",  # 6 and 7: no first name either of them: both fail
    ",Cy,cy@x.org,",
    ",Dee,dee@x.org,abc",  # 8: a score that is no number as well: fails
    "Dee,Dee,dee@x.org,",  # 9
)


def test_a_row_lacking_names_merges_with_its_complete_duplicate(
    tmp_path: Path, rally: InProcessSandbox
) -> None:
    write_csv(tmp_path, "people.csv", "first,last,email,score", *ROWS)
    (step,) = pipeline(tmp_path, STEP, rally).steps
    extracted = read_source("csv", tmp_path / "people.csv")
    out = transform(extracted, step, source_columns(step, extracted, "people.csv"), tmp_path)
    kept = out.frame.select("_row", "firstName", "lastName", "email").rows()
    assert kept == [
        (2, "Ann", "Lee", "ann@x.org"),
        (4, "Bob", "Ray", "bob@x.org"),
        (9, "Dee", "Dee", "dee@x.org"),
    ]
    outcomes = out.outcomes.sort("_row", "field").select("_row", "outcome", "field").rows()
    assert outcomes == [
        (3, "merged", "email"),
        (5, "merged", "email"),
        (6, "failed", "firstName"),
        (7, "failed", "firstName"),
        (8, "failed", "firstName"),
        (8, "failed", "leadScore"),
    ]
    assert out.failed_rows == 3 and out.merged_rows == 2


def _run(folder: Path, rally: InProcessSandbox, text: str) -> list[object]:
    """A first load and an unchanged rerun: their counts, errors and Rally's records."""
    folder.mkdir()
    (folder / "people.csv").write_text(text, encoding="utf-8")
    seen: list[object] = []
    for _ in ("first", "rerun"):
        result = run_pipeline(pipeline(folder, STEP, rally), transport=rally.transport)
        (step,) = result.steps
        s = step.summary
        seen.append((s.rows_read, s.created, s.unchanged, s.failed, s.merged))
        errors = pl.read_csv(step.files["errors"], infer_schema=False)
        seen.append(sorted(errors["row"].unique().to_list()))
    seen.append(
        sorted((r["email"], r["firstName"], r["lastName"]) for r in rally.records("contacts"))
    )
    rally.reset()
    return seen


@pytest.mark.slow  # two runs read whole, two in pieces
def test_read_in_pieces_the_same_rows_merge(
    rally: InProcessSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the pairs far apart: another piece and, in pieces, one partition by their key
    filler = [f"P{i},Q,p{i}@x.org," for i in range(300)]
    text = "\n".join(["first,last,email,score", *ROWS[::2], *filler, *ROWS[1::2]]) + "\n"
    whole = _run(tmp_path / "whole", rally, text)
    monkeypatch.setattr(csv_stream, "STREAM_BYTES", 0)
    monkeypatch.setattr(csv_stream, "PIECE_BYTES", 500)
    monkeypatch.setattr(partitions, "SOURCE_BYTES", 1_000)
    assert _run(tmp_path / "pieces", rally, text) == whole
    first, first_errors, rerun, rerun_errors, records = whole
    assert first == (308, 303, 0, 3, 2)  # read, created, unchanged, failed, merged
    assert rerun == (308, 0, 303, 3, 2) and rerun_errors == first_errors
    assert ("ann@x.org", "Ann", "Lee") in records and ("bob@x.org", "Bob", "Ray") in records


def _nightly(folder: Path, rally: InProcessSandbox, rows: list[str]) -> tuple[int, ...]:
    """A first load of `rows`, then a run with a nameless duplicate of one of them added:
    the second run's counts."""
    folder.mkdir()
    people = folder / "people.csv"
    people.write_text("\n".join(["first,last,email,score", *rows]) + "\n", encoding="utf-8")
    run_pipeline(pipeline(folder, STEP, rally), transport=rally.transport)
    with people.open("a", encoding="utf-8") as file:
        file.write(",Q,P5@x.org,\n")
    result = run_pipeline(pipeline(folder, STEP, rally), transport=rally.transport)
    s = result.steps[0].summary
    rally.reset()
    return s.rows_read, s.created, s.updated, s.unchanged, s.failed, s.merged


@pytest.mark.slow  # two runs read whole, two in pieces
def test_a_new_nameless_duplicate_of_a_row_known_unchanged_merges(
    rally: InProcessSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In pieces its complete row is set aside unchecked as known unchanged: meeting its key,
    the file is read again with every row checked, so the two merge as read whole."""
    rows = [f"P{i},Q,p{i}@x.org," for i in range(300)]
    whole = _nightly(tmp_path / "whole", rally, rows)
    assert whole == (301, 0, 0, 300, 0, 1)
    monkeypatch.setattr(csv_stream, "STREAM_BYTES", 0)
    monkeypatch.setattr(csv_stream, "PIECE_BYTES", 500)
    monkeypatch.setattr(partitions, "SOURCE_BYTES", 1_000)
    assert _nightly(tmp_path / "pieces", rally, rows) == whole
