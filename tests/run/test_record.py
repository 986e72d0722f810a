"""RowValues: a planned row's key, hash and identities found by its `_row`, a batch at a time."""

from __future__ import annotations

import polars as pl
import pytest

from crmsync.run.artifacts import HASH, KEY
from crmsync.run.ids import identities, identity_frame
from crmsync.run.stages.record import RowValues
from crmsync.schema import OBJECTS


def test_rows_are_found_in_any_order_of_frame_and_request() -> None:
    frame = pl.DataFrame({"_row": [7, 2, 5], KEY: ["c", "a", "b"], HASH: ["h7", "h2", "h5"]})
    values = RowValues(frame)
    assert values.pop([5, 7]) == {KEY: {5: "b", 7: "c"}, HASH: {5: "h5", 7: "h7"}}
    assert values.pop([2]) == {KEY: {2: "a"}, HASH: {2: "h2"}}
    assert values.pop([]) == {KEY: {}, HASH: {}}


def test_rows_remembered_on_their_way_out_are_forgotten_once_popped() -> None:
    frame = pl.DataFrame({"_row": [2, 5, 7], KEY: ["a", "b", "c"]})
    values = RowValues(frame)
    values.remember(pl.Series([7, 2]))
    assert values.pop([7], forget=False) == {KEY: {7: "c"}}
    assert values.pop([2, 7, 5]) == {KEY: {2: "a", 7: "c", 5: "b"}}
    assert values._cache == {}  # nothing held once settled


@pytest.mark.parametrize("rows", [[3], [1, 9], [0]])
def test_a_row_that_was_not_planned_is_a_key_error(rows: list[int]) -> None:
    values = RowValues(pl.DataFrame({"_row": [1, 2], KEY: ["a", "b"]}))
    with pytest.raises(KeyError):
        values.pop(rows)
    with pytest.raises(KeyError):
        RowValues(
            pl.DataFrame({"_row": [], KEY: []}, schema={"_row": pl.Int64, KEY: pl.String})
        ).pop(rows)


def test_identity_frame_holds_what_identities_maps() -> None:
    frame = pl.DataFrame(
        {
            "_row": [1, 2, 3, 4],
            "email": ["Ada@Example.com", None, "", " bob@example.org "],
            HASH: ["h1", "h2", "h3", "h4"],
        }
    )
    table = identity_frame(frame, OBJECTS["contacts"])
    assert table.columns == ["_row", "id:email", "id:fingerprint"]
    assert identities(frame, OBJECTS["contacts"]) == {
        "email": {1: "ada@example.com", 4: "bob@example.org"},
        "fingerprint": {2: "h2", 3: "h3"},
    }
