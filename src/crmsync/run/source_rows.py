"""The source's rows as read, kept from the transform to the report.

Only the report reads them again: errors.csv and merged.csv carry the original cells of the
rows that failed or merged, and the run's page shows a few of them. A million-row file's text
columns are some 300 MB, held through the whole load for a few thousand rows. So a big read
is written to Parquet files beside the report (LZ4, a tenth of its size in memory, in row
groups the report's read decodes one by one), as a whole once it is transformed or a part at a
time as a file read in pieces comes in, and let go of; the rows the report needs are read back
at the end. A small read stays in memory.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Self

import polars as pl

from crmsync.closing import Closing

SPILL_PREFIX = ".source-rows-"  # .source-rows-<pid>-<random>.parquet beside the report
SPILL_SUFFIX = ".parquet"
ROW_GROUP = 100_000  # rows decoded at a time when the report reads them back
WAITING_PARTS = 2  # parts handed over and not yet written: what a slow disk may hold up


class SourceRows(Closing):
    """The rows of one step's read, whole or in parts; `rows` gives those the report asks for."""

    def __init__(self, frames: list[pl.DataFrame], folder: Path | None = None) -> None:
        self._frames = frames  # in memory: kept, or not written
        self._folder = folder  # None: kept in memory
        self._paths: list[Path] = []
        self._empty = frames[0].clear() if frames else None  # the rows' columns
        self._queue: queue.Queue[pl.DataFrame | None] = queue.Queue(WAITING_PARTS)
        self._writer: threading.Thread | None = None
        if folder is not None:
            remove_orphans(folder)
            self._writer = threading.Thread(target=self._write, name="source-rows", daemon=True)
            self._writer.start()

    @classmethod
    def keep(cls, frame: pl.DataFrame, folder: Path, *, spill_bytes: int | None) -> Self:
        """`frame` kept in memory, or written into `folder` when it is bigger than
        `spill_bytes` (None: never)."""
        if spill_bytes is None or frame.estimated_size() <= spill_bytes:
            return cls([frame])
        kept = cls.spill(folder)
        kept.add(frame)
        return kept

    @classmethod
    def spill(cls, folder: Path) -> Self:
        """Rows to be given part by part (`add`), each written into `folder` as it comes, on
        a thread of its own while the step goes on (polars lets go of the interpreter lock).
        A part that cannot be written stays in memory: a full disk costs memory, not the run."""
        return cls([], folder)

    def add(self, frame: pl.DataFrame) -> None:
        """One more part of the rows (after `spill`): waits while the writer is behind."""
        if self._empty is None:
            self._empty = frame.clear()
        self._queue.put(frame)

    def _write(self) -> None:
        assert self._folder is not None
        prefix = f"{SPILL_PREFIX}{os.getpid()}-"
        while (frame := self._queue.get()) is not None:
            path = None
            try:  # to the path: polars writes it as it goes (to a Python file it buffers it all)
                descriptor, name = tempfile.mkstemp(
                    prefix=prefix, suffix=SPILL_SUFFIX, dir=self._folder
                )
                os.close(descriptor)
                path = Path(name)
                frame.write_parquet(
                    path, compression="lz4", row_group_size=ROW_GROUP, statistics=False
                )
            except OSError:
                if path is not None:
                    path.unlink(missing_ok=True)
                self._frames.append(frame)
                continue
            self._paths.append(path)

    @property
    def spilled(self) -> bool:
        """The rows go to disk: whoever held the read may let go of it."""
        return self._writer is not None

    def rows(self, wanted: pl.DataFrame) -> pl.DataFrame:
        """The rows whose (_source, _row) are in `wanted` (all those kept in memory: the
        report joins what it needs)."""
        self._written()
        if not self._paths:
            return pl.concat(self._frames) if len(self._frames) != 1 else self._frames[0]
        keys = wanted.select(pl.col("_source").cast(pl.String), pl.col("_row").cast(pl.Int64))
        rows = keys.group_by("_source").agg("_row")
        chosen = pl.lit(False)
        for source, numbers in rows.iter_rows():  # a filter per source, not a join: read
            is_source = pl.col("_source").cast(pl.String) == source  # a part at a time
            chosen = chosen | (is_source & pl.col("_row").cast(pl.Int64).is_in(numbers))
        scan = (
            pl.scan_parquet(self._paths)
            .filter(chosen)
            .with_columns(pl.col("_source").cast(pl.String), pl.col("_row").cast(pl.Int64))
        )
        try:
            # streamed: the files' million rows never all in memory (a join held them: 300 MB)
            found = scan.collect(engine="streaming")
        except (OSError, pl.exceptions.PolarsError):  # the folder went away under the run
            assert self._empty is not None
            found = self._empty
        return pl.concat([found, *self._frames], how="vertical_relaxed")

    def _written(self) -> None:
        if self._writer is not None and self._writer.is_alive():
            self._queue.put(None)
            self._writer.join()

    def close(self) -> None:
        self._written()
        for path in self._paths:
            with contextlib.suppress(OSError):  # the folder went away under the run
                path.unlink(missing_ok=True)
        self._paths.clear()


def remove_orphans(folder: Path, prefix: str = SPILL_PREFIX) -> None:
    """What killed runs left in `folder` (files or folders named `<prefix><pid>-...`): their
    process is gone."""
    for path in folder.glob(f"{prefix}*"):
        pid = path.name.removeprefix(prefix).split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        return True
    return True
