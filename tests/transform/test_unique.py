"""on_unique: per distinct value or per row, the answer is the expression's own, row for row."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync.transform.normalizers.names import clean_text
from crmsync.transform.normalizers.tags import normalize_tags
from crmsync.transform.normalizers.unique import SAMPLE_ROWS, _mostly_distinct, on_unique
from crmsync.transform.normalizers.values import parse_datetime, parse_number

CELLS = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "12", " 12 ", "1,200", "45M", "abc", "a, b;A", "x|y", "2025-07-15"]),
    st.text(alphabet=" ,;|abAB0129.-\t", max_size=8),
)


def _both(values: list[str | None], fn: pl.Expr, expected: pl.Expr) -> None:
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    got = frame.select(fn.alias("out"))["out"]
    want = frame.select(expected.alias("out"))["out"]
    assert got.to_list() == want.to_list()


@settings(max_examples=60, deadline=None)
@given(st.lists(CELLS, max_size=40), st.integers(1, 50))
def test_repeating_columns_take_the_per_distinct_path_and_agree(
    cells: list[str | None], repeat: int
) -> None:
    values = cells * repeat  # repeats: judged not mostly distinct
    column = pl.col("v")
    _both(values, on_unique(column, clean_text, pl.String), clean_text(column))
    _both(
        values,
        parse_number(column, integer=True, clean=True),
        parse_number(clean_text(column), integer=True),
    )


def test_per_distinct_path_is_taken_for_repeats_and_not_for_distinct_values() -> None:
    assert _mostly_distinct(pl.Series([f"v{i}" for i in range(100)]))
    assert not _mostly_distinct(pl.Series(["a", "b", None] * 100))
    assert _mostly_distinct(pl.Series([], dtype=pl.String)) is False


@pytest.mark.parametrize("as_list", [False, True])
def test_list_answers_are_looked_up_by_position(as_list: bool) -> None:
    values = ["a, b;A", None, "x|y", "a, b;A", "", "x|y"] * 10
    frame = pl.DataFrame({"v": values})
    out = frame.select(normalize_tags(pl.col("v"), as_list=as_list))["v"].to_list()
    first = ["a", "b"] if as_list else "a,b"
    second = ["x", "y"] if as_list else "x,y"
    assert out[:6] == [first, None, second, first, None, second]


def test_a_column_longer_than_the_sample_is_judged_on_its_head() -> None:
    # distinct at the head, repeating after: evaluated row by row, the answer is the same
    values = [f" {i} " for i in range(SAMPLE_ROWS)] + [" 7 "] * 1000
    frame = pl.DataFrame({"v": values})
    out = frame.select(parse_number(pl.col("v"), integer=True, clean=True))["v"]
    assert out[-1] == 7 and out[3] == 3 and out.null_count() == 0


def test_datetime_parse_cleans_per_distinct_value() -> None:
    frame = pl.DataFrame({"v": ["2025-07-15\t 10:00", None, "2025-07-15\t 10:00"] * 5})
    out = frame.select(parse_datetime(pl.col("v"), clean=True))["v"]
    assert out[0] is not None and out[1] is None and out[0] == out[2]


@pytest.mark.parametrize("repeat", [1, 50])  # mostly distinct (rows), and repeating
def test_a_prepared_step_runs_once_on_the_values_the_expression_reads(repeat: int) -> None:
    """`prepare` is applied once per evaluation, to the distinct values (or the rows), not
    once per use of its result inside the expression."""
    seen: list[int] = []

    def prepare(series: pl.Series) -> pl.Series:
        seen.append(series.len())
        return series.str.strip_chars()

    def uses_it_thrice(text: pl.Expr) -> pl.Expr:
        return pl.concat_str(text, pl.lit("|"), text.str.to_uppercase(), text.str.len_chars())

    values = [f" {n} " for n in range(40)] * repeat
    frame = pl.DataFrame({"v": values})
    got = frame.select(on_unique(pl.col("v"), uses_it_thrice, pl.String, prepare=prepare))
    assert seen == [40]
    assert got.to_series().head(2).to_list() == ["0|01", "1|11"]
