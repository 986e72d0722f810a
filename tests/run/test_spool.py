"""The spool keeps the frames it holds in memory in buffers of their own, every type intact."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from crmsync.report.outcomes import OUTCOME_CODES
from crmsync.run.stages.spool import Spool, owned

MIXED = pl.DataFrame(
    {
        "_source": ["a.csv", "a.csv", None],
        "_row": [2, 3, 4],
        "email": ["ana@x.org", "ünïcödé-addressee-longer-than-a-view@x.org", None],
        "tags": [["vip", "smb"], [], None],
        "score": [1.5, None, 3.0],
        "ok": [True, False, None],
        "at": [datetime(2026, 1, 2, tzinfo=UTC), None, datetime(2026, 3, 4, tzinfo=UTC)],
        "nested": [{"a": 1, "b": "x"}, {"a": None, "b": None}, None],
    }
).with_columns(
    pl.Series("outcome", ["created", "failed", "merged"], dtype=OUTCOME_CODES),
    pl.col("email").cast(pl.Categorical).alias("category"),
)


def test_an_owned_copy_is_the_same_frame_with_the_same_types() -> None:
    copy = owned(MIXED)
    assert copy.schema == MIXED.schema
    assert_frame_equal(copy, MIXED, categorical_as_str=True)


def test_an_owned_copy_of_rows_cut_from_a_bigger_frame_holds_those_rows() -> None:
    def text(i: int) -> str:
        return f"row {i} of a partition, long enough"

    big = pl.DataFrame({"text": [text(i) for i in range(10_000)]})
    few = big.filter(pl.int_range(pl.len()) % 1_000 == 0)
    copy = owned(few)
    del big, few
    assert copy["text"].to_list() == [text(i) for i in range(0, 10_000, 1_000)]


def test_the_spool_gives_back_what_it_held_in_memory_and_on_disk(tmp_path: Path) -> None:
    spool = Spool(tmp_path, held_bytes=MIXED.estimated_size() + 1, name="planned")
    spool.add(MIXED)  # held
    spool.add(MIXED.head(1))  # past the budget: written
    assert len(list(tmp_path.glob("planned-*.parquet"))) == 1
    back = list(spool.frames())
    assert_frame_equal(back[0], MIXED, categorical_as_str=True)
    assert_frame_equal(back[1], MIXED.head(1), categorical_as_str=True)
