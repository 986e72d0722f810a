"""Replacing a file atomically: written beside it under a temporary name, flushed to disk,
then renamed over it, so a reader (or a backup job) never sees half a file and a run killed
mid-write leaves the previous file as it was."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


@contextmanager
def replacing(path: Path) -> Iterator[BinaryIO]:
    """A binary file to write `path`'s new content into; it takes `path`'s place only when the
    block ends without an error (the temporary file is removed otherwise). Opened by name, so
    the file gets the umask's mode like any other crmsync writes."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
