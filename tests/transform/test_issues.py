"""Issue messages: worded only in the rows that fail, in frame order, whatever the frame's
chunks."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from crmsync.extract import read_source
from crmsync.schema import OBJECTS
from crmsync.transform import NormalizeOptions, normalize
from crmsync.transform.issues import Message, issues_from_messages, issues_where


def _chunked(name: str, *parts: list[object]) -> pl.Series:
    return pl.concat([pl.Series(name, part) for part in parts], rechunk=False)


def _chunked_apart() -> tuple[pl.DataFrame, pl.Expr]:
    """Columns whose chunks do not line up (polars 2.1 panics on a filter then a format of
    such columns), and a message quoting one of them."""
    frame = pl.DataFrame(
        [
            _chunked("a", ["1", "x", "2"], ["y", "3"], ["z", "4", "w"]),
            _chunked("b", [1, None, 2, None], [3, None, 4, None]),
            pl.Series("_source", ["s"] * 8),
            pl.Series("_row", range(2, 10)),
        ]
    )
    return frame, pl.format("{} is not {}", pl.format('"{}"', pl.col("a")), pl.lit("a number"))


def test_columns_chunked_apart_are_worded_row_for_row() -> None:
    frame, worded = _chunked_apart()
    issues = issues_from_messages(
        frame,
        {
            "a": Message(pl.col("b").is_null(), worded),
            "c": Message(pl.lit(True), pl.lit("c is missing (required)")),
        },
    )
    rows = issues.filter(pl.col("field") == "a").select("_row", "error").rows()
    assert rows == [
        (3, '"x" is not a number'),
        (5, '"y" is not a number'),
        (7, '"z" is not a number'),
        (9, '"w" is not a number'),
    ]
    assert issues.filter(pl.col("field") == "c")["_row"].to_list() == list(range(2, 10))
    assert issues["_row"].is_sorted()


def test_issues_where_words_columns_chunked_apart_too() -> None:
    frame, worded = _chunked_apart()
    issues = issues_where(frame, pl.col("b").is_null(), "a", worded, "warning")
    assert issues.select("_row", "error", "severity").rows() == [
        (3, '"x" is not a number', "warning"),
        (5, '"y" is not a number', "warning"),
        (7, '"z" is not a number', "warning"),
        (9, '"w" is not a number', "warning"),
    ]
    assert issues_where(frame.clear(), pl.col("b").is_null(), "a", worded).schema == dict(
        issues.schema
    )


def test_a_read_file_with_bad_values_is_worded(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    rows = [f"Ann{i},Lee,ann{i}@x.org,{'abc' if i % 997 == 0 else i % 100}" for i in range(5000)]
    path.write_text("firstName,lastName,email,leadScore\n" + "\n".join(rows) + "\n", "utf-8")
    frame = read_source("csv", path).frame
    _, issues = normalize(frame, OBJECTS["contacts"], NormalizeOptions())
    worded = issues.filter(pl.col("field") == "leadScore")
    assert worded["error"].to_list() == ['"abc" is not a whole number'] * 6
    assert worded["_row"].to_list() == [2 + i for i in range(0, 5000, 997)]


def test_a_long_value_is_quoted_by_its_start_and_length() -> None:
    frame = pl.DataFrame(
        {"_source": ["s", "s"], "_row": [2, 3], "leadScore": ["x" * 100_000, "ab c "]}
    )
    normalized, issues = normalize(frame, OBJECTS["contacts"])
    errors = issues["error"].to_list()
    assert errors[0] == f'"{"x" * 80}..." (100000 characters) is not a whole number'
    assert errors[1] == '"ab c " is not a whole number'
    assert normalized["leadScore"].null_count() == 2


def test_a_whole_number_too_large_to_hold_is_said_so() -> None:
    frame = pl.DataFrame(
        {"_source": ["s"] * 2, "_row": [2, 3], "leadScore": ["1180591620717411303424", "1.5"]}
    )
    _, issues = normalize(frame, OBJECTS["contacts"])
    assert issues["error"].to_list() == [
        '"1180591620717411303424" is a number too large to hold',
        '"1.5" is not a whole number',
    ]
