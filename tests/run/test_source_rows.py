"""A big read goes to disk once it is transformed, and comes back for the report: the report
is the same as when it stays in memory, and nothing is left behind."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest

from crmsync.config.sizes import DEFAULT_WORK_MEMORY
from crmsync.run import run_pipeline
from crmsync.run import step as step_module
from crmsync.run.source_rows import SPILL_PREFIX, SourceRows
from crmsync.sandbox.testing import InProcessSandbox

from .conftest import DESTINATION, pipeline, write_csv

FRAME = pl.DataFrame(
    {"Email": ["a@x.org", "b@x.org", "=1+1"], "_source": ["f.csv"] * 3, "_row": [2, 3, 4]}
)


def test_a_small_read_stays_in_memory(tmp_path: Path) -> None:
    with SourceRows.keep(FRAME, tmp_path, spill_bytes=DEFAULT_WORK_MEMORY) as kept:
        assert not kept.spilled
        assert kept.rows(FRAME.head(1)).equals(FRAME)
    assert not list(tmp_path.iterdir())


def test_a_big_read_is_read_back_for_the_rows_asked_and_removed(tmp_path: Path) -> None:
    with SourceRows.keep(FRAME, tmp_path, spill_bytes=0) as kept:
        assert kept.spilled
        wanted = pl.DataFrame({"_source": ["f.csv", "f.csv", "g.csv"], "_row": [4, 2, 2]})
        assert kept.rows(wanted).sort("_row").equals(FRAME.filter(pl.col("_row") != 3))
        (spilled,) = tmp_path.iterdir()
        assert spilled.name.startswith(f"{SPILL_PREFIX}{os.getpid()}-")
    assert not list(tmp_path.iterdir())


def test_a_read_given_in_parts_is_written_part_by_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each part gets a file of its own; a part the disk refuses stays in memory, and the
    report's rows come from both."""
    written = pl.DataFrame.write_parquet
    calls = 0

    def second_refused(frame: pl.DataFrame, *args: object, **kwargs: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError(28, "No space left on device")
        written(frame, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pl.DataFrame, "write_parquet", second_refused)
    with SourceRows.spill(tmp_path) as kept:
        for start in range(3):
            kept.add(FRAME.slice(start, 1))
        wanted = pl.DataFrame({"_source": ["f.csv", "f.csv"], "_row": [2, 4]})
        back = kept.rows(wanted).sort("_row")
        assert back["_row"].to_list() == [2, 3, 4]  # 3 was kept in memory: all of it comes
        assert len(list(tmp_path.iterdir())) == 2
    assert not list(tmp_path.iterdir())


def test_what_a_killed_run_left_is_removed_by_the_next(tmp_path: Path) -> None:
    orphan = tmp_path / f"{SPILL_PREFIX}999999999-abc.parquet"  # no such process
    ours = tmp_path / f"{SPILL_PREFIX}{os.getpid()}-abc.parquet"  # a live one's: kept
    orphan.write_bytes(b"x")
    ours.write_bytes(b"x")
    with SourceRows.keep(FRAME, tmp_path, spill_bytes=0):
        assert not orphan.exists() and ours.exists()


def test_an_unwritable_folder_keeps_the_read_in_memory(tmp_path: Path) -> None:
    with SourceRows.keep(FRAME, tmp_path / "missing", spill_bytes=0) as kept:
        assert kept.rows(FRAME).equals(FRAME)


def test_the_report_is_the_same_from_disk(
    rally: InProcessSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [
        "Ada,Lovelace,ada@x.org,+49 30 1234",
        "Bob,Byte,bob@x.org,n/a",
        "Bobby,Byte,BOB@x.org,=cmd",
        "Cy,Nope,not-an-email,555-0164",
    ]
    reports = {}
    spilled: list[bool] = []

    class Watched(SourceRows):
        def close(self) -> None:
            spilled.append(self.spilled)
            super().close()

    monkeypatch.setattr(step_module, "SourceRows", Watched)
    for name, memory in (("memory", DEFAULT_WORK_MEMORY), ("disk", 0)):
        folder = tmp_path / name
        folder.mkdir()
        write_csv(folder, "people.csv", "First,Last,Email,Phone", *rows)
        step = (
            "name: people\nobject: contacts\nsource: {kind: csv, path: people.csv}\n"
            "mapping: {firstName: First, lastName: Last, email: Email, phone: Phone}\n"
            + DESTINATION
        )
        # below the file's least (1MiB), to send these few rows to disk
        loaded = pipeline(folder, step, rally).model_copy(update={"work_memory": memory})
        result = run_pipeline(loaded, transport=rally.transport)
        files = result.steps[0].files
        reports[name] = {
            kind: files[kind].read_text("utf-8").replace(str(folder), "<folder>")
            for kind in ("errors", "merged", "warnings")
        }
        reports[name]["digest"] = str(result.steps[0].digest).replace(str(folder), "<folder>")
        assert not list((folder / "reports").glob(f"{SPILL_PREFIX}*"))
        rally.reset()
    assert spilled == [False, True]
    assert reports["disk"] == reports["memory"]
    assert "not-an-email" in reports["disk"]["errors"] and "Bobby" in reports["disk"]["merged"]


def test_a_file_that_cannot_be_written_keeps_the_rows_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pl.DataFrame, "write_parquet", full)
    with SourceRows.keep(FRAME, tmp_path, spill_bytes=0) as kept:
        assert kept.rows(FRAME.head(1)).equals(FRAME)
    assert not list(tmp_path.iterdir())
