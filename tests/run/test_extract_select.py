"""`where:` and `where_filled:`: the rows of a source that are this step's."""

from __future__ import annotations

import polars as pl

from crmsync.extract.result import Extracted, empty_rejects
from crmsync.run.stages.extract import select


def _extracted(flags: list[str | None], companies: list[str | None]) -> Extracted:
    frame = pl.DataFrame(
        {
            "IsDeleted": flags,
            "Company": companies,
            "_source": ["f.csv"] * len(flags),
            "_row": list(range(2, len(flags) + 2)),
        },
        schema_overrides={"IsDeleted": pl.String, "Company": pl.String, "_row": pl.Int64},
    )
    return Extracted(frame, empty_rejects(), ("IsDeleted", "Company"), "utf-8", ",")


def test_where_matches_ignoring_case_and_the_spaces_around_a_value() -> None:
    read = _extracted(["false", " FALSE ", "true", None], ["a", "b", "c", "d"])
    kept = select(read, limit=None, where={"IsDeleted": "false"}, source="f.csv")
    assert kept.frame["_row"].to_list() == [2, 3]  # a blank flag is no "false"


def test_where_filled_keeps_the_rows_with_a_value() -> None:
    read = _extracted(["false"] * 4, ["Acme", None, "n/a", "Self-employed"])
    kept = select(read, limit=None, where={}, source="f.csv", filled=["Company"])
    assert kept.frame["_row"].to_list() == [2]
