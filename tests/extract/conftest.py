"""Shared helpers for the extract tests: write a file, read it, check the contract."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from crmsync.extract import REJECT_SCHEMA, Extracted

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "extract"


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """Write bytes (or text as UTF-8) to a file under tmp_path and return its path."""

    def _write(content: bytes | str, name: str = "source.csv") -> Path:
        path = tmp_path / name
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return path

    return _write


@pytest.fixture
def contract() -> Callable[[Extracted, str], None]:
    """A checker of what every reader promises, whatever the file."""
    return check_contract


def check_contract(result: Extracted, source: str) -> None:
    """What every reader promises, whatever the file."""
    frame = result.frame
    assert frame.columns == [*result.columns, "_source", "_row"]
    for name in result.columns:
        assert frame.schema[name] == pl.String
    assert frame.schema["_row"] == pl.Int64
    assert frame.schema["_source"] == pl.String
    assert dict(result.rejects.schema) == REJECT_SCHEMA
    assert set(frame["_source"].to_list()) <= {source}
    assert set(result.rejects["_source"].to_list()) <= {source}
    rows = frame["_row"].to_list() + result.rejects["_row"].to_list()
    assert len(rows) == len(set(rows)), "a record appears twice"
    assert result.rows_read == frame.height + result.rejects.height
