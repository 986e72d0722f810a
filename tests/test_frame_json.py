"""frame_json against its oracle: json.dumps of each row's dict, nulls (and empties) left out."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync import sliced
from crmsync.frame_json import field_counts, has_empty, json_objects
from crmsync.report.changes import NEW, ChangeLog
from crmsync.run.merge import written_fields
from crmsync.spreadsheet import escape_row

TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12
) | st.sampled_from(["", '"', "\\", "\n\r\t\b\f", "\x00\x1f\x7f", "jürgen", "=1+1", "\u2028"])
SCHEMA: dict[str, Any] = {
    "name": pl.String,
    "n": pl.Int64,
    "small": pl.Int8,
    "flag": pl.Boolean,
    "tags": pl.List(pl.String),
    "ids": pl.List(pl.Int64),
    "score": pl.Float64,
    "day": pl.Date,
    'we"ird key': pl.String,
}
VALUES: dict[str, st.SearchStrategy[Any]] = {
    "name": TEXT,
    "n": st.integers(-(2**63), 2**63 - 1),
    "small": st.integers(-128, 127),
    "flag": st.booleans(),
    "tags": st.lists(st.one_of(st.none(), TEXT), max_size=3),
    "ids": st.lists(st.one_of(st.none(), st.integers(-(2**40), 2**40)), max_size=3),
    "score": st.floats(allow_nan=True, allow_infinity=True),
    "day": st.dates(),
    'we"ird key': TEXT,
}
ROWS = st.lists(
    st.fixed_dictionaries(
        {name: st.one_of(st.none(), strategy) for name, strategy in VALUES.items()}
    ),
    max_size=8,
)


def _frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


def _dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, default=str)


@pytest.mark.slow  # 300 generated frames against json.dumps
@settings(max_examples=300, deadline=None)
@given(ROWS, st.permutations(list(SCHEMA)))
def test_each_row_is_json_dumps_of_its_values(rows: list[dict[str, Any]], order: list[str]) -> None:
    frame = _frame(rows)
    expected = [
        _dumps({name: row[name] for name in order if row[name] is not None})
        for row in frame.to_dicts()
    ]
    assert json_objects(frame, order).to_list() == expected


@pytest.mark.slow  # 300 generated frames against json.dumps
@settings(max_examples=300, deadline=None)
@given(ROWS)
def test_drop_empty_keeps_the_fields_a_record_written_whole_sets(
    rows: list[dict[str, Any]],
) -> None:
    frame = _frame(rows)
    columns = list(SCHEMA)
    written = [written_fields(row) for row in frame.to_dicts()]
    assert json_objects(frame, columns, drop_empty=True).to_list() == [_dumps(w) for w in written]
    assert field_counts(frame, columns, drop_empty=True).to_list() == [len(w) for w in written]
    payloads = [{k: v for k, v in row.items() if v is not None} for row in frame.to_dicts()]
    # compared as text: NaN is not equal to itself
    assert has_empty(frame, columns) == ([*map(_dumps, written)] != [*map(_dumps, payloads)])


@settings(max_examples=40, deadline=None)
@given(ROWS)
def test_a_frame_run_in_slices_gives_the_rows_in_order(rows: list[dict[str, Any]]) -> None:
    frame = _frame(rows)
    whole = json_objects(frame, list(SCHEMA)).to_list()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sliced, "SLICE_ROWS", 1)  # as many slices as the pool has threads
        in_slices = json_objects(frame, list(SCHEMA)).to_list()
    assert (
        in_slices
        == whole
        == [
            _dumps({name: value for name, value in row.items() if value is not None})
            for row in frame.to_dicts()
        ]
    )


def test_no_columns_and_no_rows() -> None:
    frame = pl.DataFrame({"a": [1, 2]})
    assert json_objects(frame, []).to_list() == ["{}", "{}"]
    assert json_objects(frame.clear(), ["a"]).to_list() == []
    assert json_objects(pl.DataFrame({"a": [None]}, schema={"a": pl.String}), ["a"]).item() == "{}"
    with pytest.raises(KeyError):
        json_objects(frame, ["b"])


def test_categorical_and_nested_values() -> None:
    frame = pl.DataFrame(
        {
            "stage": pl.Series(["lead", None], dtype=pl.Categorical),
            "at": [dt.datetime(2026, 1, 2, 3, 4, 5), None],
            "meta": [{"k": "v"}, None],
        }
    )
    expected = [_dumps({k: v for k, v in row.items() if v is not None}) for row in frame.to_dicts()]
    assert json_objects(frame, frame.columns).to_list() == expected


def test_created_lines_are_what_csv_writer_writes(tmp_path: Any) -> None:
    """plan.csv's lines for records to create, written by polars, are byte for byte those
    csv.writer wrote for them one by one (escaped source cells included)."""
    frame = pl.DataFrame(
        {
            "_source": ["a.csv", "=cmd.csv", "b,c.csv"],
            "_row": [1, 2, 3],
            "email": ['x"y@example.com', None, "=SUM(A1)"],
            "tags": [["a", "b"], [], None],
        }
    )
    columns = ["email", "tags"]
    with ChangeLog(tmp_path) as log:
        log.add_created(
            frame.select(
                "_source",
                "_row",
                json_objects(frame, columns, drop_empty=True).alias("to"),
                field_counts(frame, columns, drop_empty=True).alias("fields"),
            )
        )
    assert log.fields == 3
    expected = io.StringIO()
    writer = csv.writer(expected)
    writer.writerow(escape_row(("source", "row", "rally_id", "field", "from", "to", "why")))
    for row in frame.to_dicts():
        fields = written_fields({name: row[name] for name in columns})
        writer.writerow(escape_row((row["_source"], row["_row"], "", "", "", _dumps(fields), NEW)))
    assert log.plan_path.read_bytes().decode() == expected.getvalue()
