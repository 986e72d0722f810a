"""Writing a frame to a file, atomically (`crmsync.atomic`), in the format its suffix names."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import polars as pl

from crmsync.atomic import replacing

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
    with replacing(path) as out:
        if fmt == "csv":
            csv_ready(frame).write_csv(out)
        elif fmt == "parquet":
            frame.write_parquet(out)
        else:
            frame.write_ndjson(out)
