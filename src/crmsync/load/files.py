"""Writing a frame to a file atomically: a temporary file in the same folder, flushed to disk,
then renamed over the target, so a reader (or a backup job) never sees half a file, and a run
killed mid-write leaves the previous file as it was."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Literal

import polars as pl

FileFormat = Literal["ndjson", "csv", "parquet"]
LIST_SEPARATOR = ", "  # a list cell in a CSV, as the tag normalizer splits it when read back


def csv_ready(frame: pl.DataFrame) -> pl.DataFrame:
    """CSV holds no lists: a list of strings becomes one cell, "a, b"."""
    lists = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.List)]
    if not lists:
        return frame
    return frame.with_columns(
        pl.col(name).cast(pl.List(pl.String)).list.join(LIST_SEPARATOR) for name in lists
    )


def write_atomically(frame: pl.DataFrame, path: Path, fmt: FileFormat) -> None:
    """Write `frame` to `path` in `fmt`, replacing any file there only once it is complete.
    OSError when the folder cannot take it (the temporary file is removed)."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            if fmt == "csv":
                csv_ready(frame).write_csv(out)
            elif fmt == "parquet":
                frame.write_parquet(out)
            else:
                frame.write_ndjson(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
