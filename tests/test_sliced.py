"""An expression run on slices side by side gives what one select gives, row for row."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync import sliced
from crmsync.sliced import select_sliced
from crmsync.state.fingerprint import fingerprints
from crmsync.state.hashing import payload_hashes


@pytest.fixture
def small_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sliced, "SLICE_ROWS", 1)  # a slice per polars thread from 2 rows


@settings(max_examples=50, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=8)), max_size=40))
def test_slices_keep_the_rows_in_order(values: list[str | None]) -> None:
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    expr = pl.concat_str([pl.lit("<"), pl.col("v"), pl.lit(">")]).alias("out")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sliced, "SLICE_ROWS", 1)
        got = select_sliced(frame, expr)
    assert got.to_list() == frame.select(expr).to_series().to_list()
    assert got.name == "out"


@pytest.mark.usefixtures("small_slices")
def test_fingerprints_and_payload_hashes_in_slices_are_the_same() -> None:
    frame = pl.DataFrame(
        {"a": [f"a{i}" if i % 3 else None for i in range(101)], "b": [str(i) for i in range(101)]}
    )
    in_slices = fingerprints(frame, ["a", "b"], "salt"), payload_hashes(frame, ["a", "b"])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sliced, "SLICE_ROWS", 10**9)  # one select
        whole = fingerprints(frame, ["a", "b"], "salt"), payload_hashes(frame, ["a", "b"])
    assert in_slices[0] is not None and whole[0] is not None
    assert in_slices[0].to_list() == whole[0].to_list()
    assert in_slices[1].to_list() == whole[1].to_list()
