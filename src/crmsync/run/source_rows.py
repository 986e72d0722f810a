"""The source's rows as read, kept from the transform to the report.

Only the report reads them again: errors.csv and merged.csv carry the original cells of the
rows that failed or merged, and the run's page shows a few of them. A million-row file's text
columns are some 300 MB, held through the whole load for a few thousand rows. So a big read
is written to a Parquet file beside the report once it is transformed (LZ4, a tenth of its
size in memory, in row groups the report's read decodes one by one), let go of, and the rows
the report needs are read back at the end; a small one stays in memory.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import Self

import polars as pl

from crmsync.report.outcomes import IDENTITY

SPILL_BYTES = 64 * 1024 * 1024  # a read this big (polars' estimate) goes to disk
SPILL_PREFIX = ".source-rows-"  # .source-rows-<pid>-<random>.parquet beside the report
SPILL_SUFFIX = ".parquet"
ROW_GROUP = 100_000  # rows decoded at a time when the report reads them back


class SourceRows:
    """The rows of one step's read; `rows` gives those the report asks for."""

    def __init__(self, frame: pl.DataFrame | None, path: Path | None = None) -> None:
        self._frame = frame  # in memory: kept; spilled: held until it is written
        self._path = path
        self._writer: threading.Thread | None = None

    @classmethod
    def keep(
        cls, frame: pl.DataFrame, folder: Path, *, spill_bytes: int | None = SPILL_BYTES
    ) -> Self:
        """`frame` kept in memory, or written into `folder` when it is bigger than
        `spill_bytes` (None: never). The file is written on a thread of its own while the
        step goes on (polars lets go of the interpreter lock), and the frame let go of once
        it is; a file that cannot be written keeps it in memory: a full disk costs memory,
        not the run."""
        if spill_bytes is None or frame.estimated_size() <= spill_bytes:
            return cls(frame)
        _remove_orphans(folder)
        prefix = f"{SPILL_PREFIX}{os.getpid()}-"
        try:
            descriptor, name = tempfile.mkstemp(prefix=prefix, suffix=SPILL_SUFFIX, dir=folder)
        except OSError:
            return cls(frame)
        os.close(descriptor)
        kept = cls(frame, Path(name))
        kept._writer = threading.Thread(target=kept._write, name="source-rows", daemon=True)
        kept._writer.start()
        return kept

    def _write(self) -> None:
        assert self._frame is not None and self._path is not None
        try:  # to the path: polars writes it as it goes (to a Python file it buffers it all)
            self._frame.write_parquet(
                self._path, compression="lz4", row_group_size=ROW_GROUP, statistics=False
            )
        except OSError:
            self._path.unlink(missing_ok=True)
            self._path = None
            return
        self._frame = None

    @property
    def spilled(self) -> bool:
        """The rows go to disk: whoever held the read may let go of it."""
        return self._writer is not None

    def rows(self, wanted: pl.DataFrame) -> pl.DataFrame:
        """The rows whose (_source, _row) are in `wanted` (all of them when in memory: the
        report joins what it needs)."""
        self._written()
        if self._path is None:
            assert self._frame is not None
            return self._frame
        keys = wanted.select(
            pl.col("_source").cast(pl.String), pl.col("_row").cast(pl.Int64)
        ).unique()
        scan = pl.scan_parquet(self._path).with_columns(
            pl.col("_source").cast(pl.String), pl.col("_row").cast(pl.Int64)
        )
        return scan.join(keys.lazy(), on=list(IDENTITY), how="semi").collect()

    def _written(self) -> None:
        if self._writer is not None:
            self._writer.join()

    def close(self) -> None:
        self._written()
        if self._path is not None:
            self._path.unlink(missing_ok=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _remove_orphans(folder: Path) -> None:
    """Files a killed run left behind: their process is gone."""
    for path in folder.glob(f"{SPILL_PREFIX}*{SPILL_SUFFIX}"):
        pid = path.name.removeprefix(SPILL_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        return True
    return True
