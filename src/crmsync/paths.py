"""Paths the user gives, made absolute."""

from __future__ import annotations

import os
from pathlib import Path


def resolved(path: Path) -> Path:
    """`path` made absolute with its symlinks followed. A symlink loop (`a -> a`) stays as it
    is, absolute: `Path.resolve` raises RuntimeError for it, which would end the run as a
    crash, while opening the path later fails with the system's own "too many levels of
    symbolic links", which the reader, the report and the state each say as a clear error."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        return Path(os.path.abspath(path))
