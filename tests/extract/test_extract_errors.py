"""Files that cannot be read as a whole: a SourceError naming the file and the line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from crmsync.errors import SourceError
from crmsync.extract import SourceKind, read_source

KINDS: list[SourceKind] = ["csv", "json", "ndjson"]


@pytest.mark.parametrize("kind", KINDS)
def test_missing_file(tmp_path: Path, kind: SourceKind) -> None:
    path = tmp_path / "nope.csv"
    with pytest.raises(SourceError, match="file not found") as caught:
        read_source(kind, path)
    assert caught.value.source == str(path)


@pytest.mark.parametrize("kind", KINDS)
def test_directory(tmp_path: Path, kind: SourceKind) -> None:
    with pytest.raises(SourceError, match="directory"):
        read_source(kind, tmp_path)


UNTERMINATED = [
    ("at-eof", b'a,b\n1,2\n3,"never closed\n4,5\n', 3),
    ("first-record", b'a,b\n"x,1\n', 2),
    ("in-header", b'"a,b\n1,2\n3,4\n', 1),
    ("crlf-after-multiline-record", b'a,b\r\n"x\r\ny",1\r\n2,"open\r\n', 4),
    ("after-stray-quote-fallback", b'a,b\n5\'10",x\n3,"open\n', 3),
]


@pytest.mark.parametrize(
    ("content", "line"), [u[1:] for u in UNTERMINATED], ids=[u[0] for u in UNTERMINATED]
)
def test_unterminated_quote_names_the_line_it_opens(
    write: Callable[..., Path], content: bytes, line: int
) -> None:
    path = write(content)
    with pytest.raises(SourceError, match="never closed") as caught:
        read_source("csv", path)
    assert caught.value.line == line
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("delimiter", ["", ";;"], ids=["empty", "two-chars"])
def test_bad_delimiter(write: Callable[..., Path], delimiter: str) -> None:
    with pytest.raises(SourceError, match="one character"):
        read_source("csv", write(b"a\n1\n"), delimiter=delimiter)


def test_unknown_kind(write: Callable[..., Path]) -> None:
    with pytest.raises(ValueError, match="unknown source kind"):
        read_source("xml", write(b"<a/>"))  # type: ignore[arg-type]
