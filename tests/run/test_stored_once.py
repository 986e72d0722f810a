"""What a rerun holds of the stored records while it reads a file, and what planning takes."""

from __future__ import annotations

import polars as pl

from crmsync.run.stages.unchanged import StoredOnce


def test_the_read_holds_the_codes_and_planning_takes_the_keys() -> None:
    asked: list[bool] = []
    codes = pl.DataFrame({"key_code": [1], "payload_hash": [2], "source_fp": [3]})

    def read(keys: bool) -> pl.DataFrame:
        asked.append(keys)
        return codes.with_columns(match_key=pl.lit("a@x.org")) if keys else codes

    stored = StoredOnce(read)
    assert stored() is stored() and "match_key" not in stored().columns
    assert stored.take()["match_key"].to_list() == ["a@x.org"]
    assert asked == [False, True]
    whole = StoredOnce(lambda keys: codes.with_columns(match_key=pl.lit("b")))
    whole()  # read from the table: the keys came with the codes, and are not read again
    assert whole.take()["match_key"].to_list() == ["b"]
