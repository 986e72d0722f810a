"""Checked rows by key partition: every row comes back once, rows of one key together and in
the order they came, through files when there are many and from memory when the disk says no."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from crmsync.config.sizes import DEFAULT_WORK_MEMORY
from crmsync.errors import CrmsyncError
from crmsync.run.stages.partitions import FOLDER_PREFIX, Partitions, partition_count


def piece(start: int, rows: int) -> pl.DataFrame:
    """Rows whose keys repeat across pieces (`k0`..`k6`), some without a key."""
    lines = range(start, start + rows)
    return pl.DataFrame(
        {
            "_source": ["f.csv"] * rows,
            "_row": list(lines),
            "_match_key": [None if line % 5 == 0 else f"k{line % 7}" for line in lines],
            "email": [f"p{line}@x.org" for line in lines],
        }
    )


def test_rows_come_back_once_by_key_in_order(tmp_path: Path) -> None:
    with Partitions(tmp_path, 4, held_bytes=200) as parts:  # files every few rows
        for start in range(0, 120, 30):
            parts.add(piece(start, 30))
        written = list(next(tmp_path.glob(f"{FOLDER_PREFIX}*")).iterdir())
        assert len(written) > 4
        taken = list(parts.parts())
    assert len(taken) == 4
    back = pl.concat(taken)
    assert sorted(back["_row"].to_list()) == list(range(120))
    for rows in taken:  # in the order they came
        assert rows["_row"].to_list() == sorted(rows["_row"].to_list())
    keys = [set(rows["_match_key"].drop_nulls().to_list()) for rows in taken]
    assert sum(len(found) for found in keys) == 7  # a key is in one partition only
    assert not list(tmp_path.iterdir())  # the folder goes with the step


def test_an_unwritable_folder_keeps_the_rows_in_memory(tmp_path: Path) -> None:
    with Partitions(tmp_path / "missing", 3, DEFAULT_WORK_MEMORY) as parts:
        parts.add(piece(0, 50))
        assert sorted(pl.concat(list(parts.parts()))["_row"].to_list()) == list(range(50))


def test_nothing_added_gives_one_empty_frame(tmp_path: Path) -> None:
    with Partitions(tmp_path, 3, DEFAULT_WORK_MEMORY) as parts:
        parts.add(piece(0, 0))
        (empty,) = parts.parts()
    assert empty.is_empty() and empty.columns == piece(0, 0).columns


def test_a_folder_a_killed_run_left_is_removed(tmp_path: Path) -> None:
    orphan = tmp_path / f"{FOLDER_PREFIX}999999999-abc"  # no such process
    orphan.mkdir()
    (orphan / "0-0.parquet").write_bytes(b"x")
    with Partitions(tmp_path, 2, DEFAULT_WORK_MEMORY):
        assert not orphan.exists()


@pytest.mark.parametrize(
    ("size", "count"), [(0, 1), (1, 1), (24 * 2**20, 1), (24 * 2**20 + 1, 2), (2**40, 256)]
)
def test_partitions_grow_with_the_file(size: int, count: int) -> None:
    assert partition_count(size) == count


def test_a_file_removed_under_the_run_is_said_not_a_traceback(tmp_path: Path) -> None:
    with Partitions(tmp_path, 2, held_bytes=0) as parts:  # every piece written
        parts.add(piece(0, 20))
        for written in next(tmp_path.glob(f"{FOLDER_PREFIX}*")).iterdir():
            written.unlink()
        with pytest.raises(CrmsyncError, match="removed or damaged during the run"):
            list(parts.parts())
