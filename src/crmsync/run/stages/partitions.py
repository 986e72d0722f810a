"""A big file's checked rows, kept by key partition until dedupe and plan take them.

Rows that share a match key land in one partition (by a hash of the key, the same for every
piece of the read), so each partition dedupes alone and plans alone: a million rows are
deduped and planned some 170,000 at a time. Rows stay in memory until `held_bytes` of them
gather (the pipeline's `work_memory`), then all go to Parquet files in a hidden folder
beside the report, removed when the step ends (or, after a kill, by the next run). A folder
or file that cannot be written keeps its rows in memory: a full disk costs memory, not the
run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from crmsync.closing import Closing
from crmsync.run.source_rows import remove_orphans
from crmsync.run.stages.spool import Spool, read_back, write_out
from crmsync.transform.issues import MATCH_KEY

SOURCE_BYTES = 24 * 1024 * 1024  # a partition for every this much of the source file
MAX_PARTITIONS = 256
FOLDER_PREFIX = ".partitions-"  # .partitions-<pid>-<random>/ beside the report
_PART = "_partition"
_SEED = 0x5EED
NOTHING_SENT = "nothing was sent: run again"


class Partitions(Closing):
    """Checked rows by key partition: `add` them piece by piece, take them back with `parts`."""

    def __init__(self, folder: Path, count: int, held_bytes: int) -> None:
        remove_orphans(folder, FOLDER_PREFIX)
        self._count = count
        self._budget = held_bytes  # rows held in memory before all of them are written
        self._buffers: list[list[pl.DataFrame]] = [[] for _ in range(count)]
        self._held = 0  # estimated bytes of the rows in memory
        self._files: list[list[Path]] = [[] for _ in range(count)]
        self._empty: pl.DataFrame | None = None
        try:
            self._dir: Path | None = Path(
                tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-", dir=folder)
            )
        except OSError:
            self._dir = None

    def add(self, rows: pl.DataFrame) -> None:
        """One piece's checked rows, each into the partition of its match key (rows without
        a key, or of an object without one, by their line)."""
        if self._empty is None:
            self._empty = rows.clear()
        key = MATCH_KEY if MATCH_KEY in rows.columns else "_row"
        part = (rows[key].hash(seed=_SEED) % self._count).alias(_PART)
        split = rows.with_columns(part).partition_by(_PART, as_dict=True, maintain_order=True)
        for (index,), frame in split.items():
            at = int(index)
            frame = frame.drop(_PART)
            self._buffers[at].append(frame)
            self._held += int(frame.estimated_size())
        if self._held > self._budget:
            for index in range(self._count):
                self._flush(index)

    def _flush(self, index: int) -> None:
        if self._dir is None or not self._buffers[index]:
            return
        path = self._dir / f"{index}-{len(self._files[index])}.parquet"
        if not write_out(pl.concat(self._buffers[index], how="diagonal_relaxed"), path):
            return
        self._files[index].append(path)
        self._held -= sum(int(part.estimated_size()) for part in self._buffers[index])
        self._buffers[index] = []

    def parts(self) -> Iterator[pl.DataFrame]:
        """Each partition's rows, in the order they were added, one partition at a time
        (one empty frame when nothing was added); each is let go of once taken."""
        given = False
        for index in range(self._count):
            frames = [read_back(path, NOTHING_SENT) for path in self._files[index]]
            frames += self._buffers[index]
            for path in self._files[index]:
                path.unlink(missing_ok=True)
            self._files[index], self._buffers[index] = [], []
            if frames:
                given = True
                yield pl.concat(frames, how="diagonal_relaxed")
        if not given and self._empty is not None:
            yield self._empty

    def spool(self, name: str) -> Spool:
        """A spool whose files go in this step's working folder (and go with it), with the
        same budget."""
        return Spool(self._dir, self._budget, name)

    def close(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)


def partition_count(source_bytes: int) -> int:
    """Partitions for a source file of this size: some 170,000 rows each."""
    return max(1, min(MAX_PARTITIONS, -(-source_bytes // SOURCE_BYTES)))
