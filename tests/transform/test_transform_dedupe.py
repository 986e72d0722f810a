"""dedupe: keep policies, coalescing, accounting for every row."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync.transform import dedupe
from crmsync.transform.dedupe import _repeating

ROWS: dict[str, list[Any]] = {
    "_source": ["a.csv"] * 7,
    "_row": [2, 3, 4, 5, 6, 7, 8],
    "_match_key": ["x", "y", "x", None, "x", "z", None],
    "firstName": ["A", None, None, "D", "E", "F", None],
    "title": [None, "T2", "T3", None, "T5", None, None],
    "updatedAt": [
        "2025-01-01",
        "2025-02-01",
        "2025-03-01T00:00:00Z",
        None,
        "2025-03-01",
        None,
        None,
    ],
    "_note": ["n2", "n3", "n4", "n5", "n6", "n7", "n8"],
}
FRAME = pl.DataFrame(ROWS, schema_overrides={"_row": pl.Int64})


@pytest.mark.parametrize(
    ("keep", "survivor", "first_name", "title"),
    [
        ("first", 2, "A", "T3"),
        ("last", 6, "E", "T5"),
        ("most_complete", 6, "E", "T5"),
        ("newest", 6, "E", "T5"),
    ],
    ids=["first", "last", "most_complete", "newest-tie-goes-to-last"],
)
def test_keep_policy_and_coalescing(keep: Any, survivor: int, first_name: str, title: str) -> None:
    result = dedupe(FRAME, keep=keep, newest_by="updatedAt")
    x = result.kept.filter(pl.col("_match_key") == "x").row(0, named=True)
    assert (x["_row"], x["firstName"], x["title"]) == (survivor, first_name, title)
    assert x["_note"] == f"n{survivor}"  # internal columns are the survivor's own
    merged_rows = {2, 4, 6} - {survivor}
    assert result.merged.filter(pl.col("_match_key") == "x")["_row"].to_list() == sorted(
        merged_rows
    )
    assert set(result.merged["merged_into_row"]) == {survivor}
    assert result.merged.columns == [
        "_source", "_row", "_match_key", "merged_into_source", "merged_into_row",
    ]  # fmt: skip


def test_newest_prefers_latest_time_over_position() -> None:
    frame = FRAME.with_columns(
        pl.Series("updatedAt", ["2025-09-01", None, "2025-03-01", None, "garbage", None, None])
    )
    result = dedupe(frame, keep="newest", newest_by="updatedAt")
    assert result.kept.filter(pl.col("_match_key") == "x")["_row"].item() == 2


def test_first_keeps_frame_order_across_sources() -> None:
    frame = pl.DataFrame(
        {"_source": ["b.csv", "a.csv"], "_row": [9, 2], "_match_key": ["k", "k"], "v": [None, "2"]},
        schema_overrides={"_row": pl.Int64},
    )
    result = dedupe(frame)
    assert result.kept.select("_source", "_row", "v").rows() == [("b.csv", 9, "2")]
    assert result.merged.select("merged_into_source", "merged_into_row").rows() == [("b.csv", 9)]


@pytest.mark.parametrize(
    ("policy", "kept", "missing"), [("fail", 3, 2), ("load", 5, 0)], ids=["fail", "load"]
)
def test_missing_key_policy(policy: Any, kept: int, missing: int) -> None:
    result = dedupe(FRAME, missing_key=policy)
    assert (result.kept.height, result.missing_key.height) == (kept, missing)
    assert result.kept["_row"].is_sorted()
    assert result.missing_key.columns == FRAME.columns


def test_list_columns_coalesce() -> None:
    frame = pl.DataFrame(
        {
            "_source": ["s"] * 2,
            "_row": [1, 2],
            "_match_key": ["k", "k"],
            "tags": [None, ["a", "b"]],
        },
        schema_overrides={"_row": pl.Int64},
    )
    assert dedupe(frame).kept["tags"].to_list() == [["a", "b"]]


def test_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match="newest_by"):
        dedupe(FRAME, keep="newest")
    with pytest.raises(ValueError, match="not in the frame"):
        dedupe(FRAME, key="_nope")


def test_excluded_rows_are_left_out_and_never_fill_others() -> None:
    frame = pl.DataFrame(
        {
            "_source": ["a"] * 5,
            "_row": [1, 2, 3, 4, 5],
            "_match_key": ["x", "x", "y", None, "y"],
            "v": ["from-failed", None, "3", "4", None],
        },
        schema_overrides={"_row": pl.Int64},
    )
    failed = pl.DataFrame({"_source": ["a", "a"], "_row": [1, 4], "field": ["email"] * 2})
    result = dedupe(frame, exclude=failed)
    assert result.kept.select("_row", "v").rows() == [(2, None), (3, "3")]
    assert result.merged.select("_row", "merged_into_row").rows() == [(5, 3)]
    assert result.missing_key.height == 0


@pytest.mark.parametrize(
    ("sources", "failed_source", "kept_rows"),
    [
        (["a", "b", "b"], ["b"], [("a", 1), ("b", 2)]),  # two files: line 1 of b only
        (["a", "a", "a"], ["b"], [("a", 1), ("a", 2)]),  # another file's line 1: none here
        (["a", "a", "a"], ["a"], [("a", 2)]),  # one file: its line 1
    ],
)
def test_excluded_rows_are_named_by_file_and_line(
    sources: list[str], failed_source: list[str], kept_rows: list[tuple[str, int]]
) -> None:
    frame = pl.DataFrame(
        {
            "_source": sources,
            "_row": [1, 2, 1],
            "_match_key": ["x", "y", "x"],
            "v": ["1", "2", "3"],
        },
        schema_overrides={"_row": pl.Int64},
    )
    failed = pl.DataFrame({"_source": failed_source, "_row": [1]})
    result = dedupe(frame, exclude=failed)
    assert result.kept.select("_source", "_row").rows() == kept_rows


@pytest.mark.slow  # a property sweep: the whole suite runs it
@settings(max_examples=150, deadline=None)
@given(
    keys=st.lists(st.one_of(st.none(), st.sampled_from("abcde")), min_size=0, max_size=30),
    keep=st.sampled_from(["first", "last", "most_complete", "newest"]),
    missing=st.sampled_from(["fail", "load"]),
    data=st.data(),
)
def test_every_row_is_accounted_for(
    keys: list[str | None], keep: Any, missing: Any, data: st.DataObject
) -> None:
    height = len(keys)
    cells = st.lists(
        st.one_of(st.none(), st.sampled_from(["1", "2", "2025-01-02", "x"])),
        min_size=height,
        max_size=height,
    )
    frame = pl.DataFrame(
        {
            "_source": ["s.csv"] * height,
            "_row": pl.Series(range(1, height + 1), dtype=pl.Int64),
            "_match_key": pl.Series(keys, dtype=pl.String),
            "a": pl.Series(data.draw(cells), dtype=pl.String),
            "when": pl.Series(data.draw(cells), dtype=pl.String),
        }
    )
    excluded = data.draw(st.sets(st.integers(1, max(height, 1)), max_size=height))
    failed = pl.DataFrame(
        {"_source": ["s.csv"] * len(excluded), "_row": sorted(excluded)},
        schema={"_source": pl.String, "_row": pl.Int64},
    )
    result = dedupe(frame, keep=keep, newest_by="when", missing_key=missing, exclude=failed)
    live = frame.filter(~pl.col("_row").is_in(sorted(excluded)))
    assert result.kept.height + result.merged.height + result.missing_key.height == live.height
    keyed = result.kept["_match_key"].drop_nulls()
    assert keyed.n_unique() == keyed.len() == live["_match_key"].drop_nulls().n_unique()
    accounted = [*result.kept["_row"], *result.merged["_row"], *result.missing_key["_row"]]
    assert sorted(accounted) == live["_row"].to_list()
    assert result.kept.columns == frame.columns
    assert set(result.merged["merged_into_row"]) <= set(result.kept["_row"])
    # Coalescing never invents a value: a kept cell is null only if all its duplicates' are.
    for key in keyed:
        group = live.filter(pl.col("_match_key") == key)
        row = result.kept.filter(pl.col("_match_key") == key)
        assert (row["a"].item() is None) == (group["a"].null_count() == group.height)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(0, 12)), max_size=60))
def test_repeating_hashes_are_what_is_duplicated_says_of_the_non_null(
    values: list[int | None],
) -> None:
    """The sort that finds repeating hashes agrees with polars' hash table on every value
    that is there; a null (a row left out) never repeats."""
    hashes = pl.Series(values, dtype=pl.UInt64)
    found = _repeating(hashes)
    there = hashes.is_not_null()
    assert found.to_list() == (hashes.is_duplicated() & there).to_list()
