"""The no-value regex against what it replaced: trim, lower-case, compare with the words."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync.transform.placeholders import (
    NO_VALUE_WORDS,
    is_no_value,
    no_value_to_null,
    without_text_mark,
)

SPACES = st.sampled_from([" ", "\t", "\n", "\u00a0", "\u2003", "\u3000", "\r", ""])
CASED = st.sampled_from(sorted(NO_VALUE_WORDS)).flatmap(
    lambda word: st.lists(st.booleans(), min_size=len(word), max_size=len(word)).map(
        lambda upper: "".join(c.upper() if u else c for c, u in zip(word, upper, strict=True))
    )
)
TRICKY = st.sampled_from(["NİL", "UNKNOWN", "\u212aNOWN", "n/a.", "nulll", "-none", "na", "n /a"])
CELLS = st.one_of(
    st.none(),
    st.text(max_size=8),
    st.tuples(SPACES, st.one_of(CASED, TRICKY), SPACES).map("".join),
)


def _trim_and_lower(expr: pl.Expr) -> pl.Expr:
    """The expression it replaced: the oracle."""
    folded = expr.str.strip_chars().str.to_lowercase()
    empty = expr.is_null() | (folded == "") | folded.is_in(list(NO_VALUE_WORDS))
    return pl.when(empty).then(None).otherwise(expr)


@settings(max_examples=400, deadline=None)
@given(st.lists(CELLS, max_size=20))
def test_the_regex_reads_as_empty_exactly_what_trimming_and_lower_casing_did(
    cells: list[str | None],
) -> None:
    frame = pl.DataFrame({"c": cells}, schema={"c": pl.String})
    assert frame.select(no_value_to_null(pl.col("c"))).equals(
        frame.select(_trim_and_lower(pl.col("c")))
    )


def test_each_word_in_any_case_and_padding_is_no_value() -> None:
    cells = [f"  {word.upper()}\t" for word in sorted(NO_VALUE_WORDS)] + ["", "   "]
    frame = pl.DataFrame({"c": [*cells, "Ada", "nana", "n/a b"]})
    kept = frame.select(no_value_to_null(pl.col("c"))).to_series().to_list()
    assert kept == [None] * len(cells) + ["Ada", "nana", "n/a b"]
    assert all(is_no_value(cell) for cell in cells)


@pytest.mark.parametrize(
    ("cell", "read"),
    [
        ("'02110", "02110"),  # Shopify's zip, its zero kept from Excel
        ("'+15125550199", "+15125550199"),  # Shopify's and Apollo's phones
        ("'+1 (512) 555-0100", "+1 (512) 555-0100"),
        ("'7012345678901", "7012345678901"),  # Shopify's customer id
        ("'Tis the Season", "'Tis the Season"),  # an apostrophe starting a word stays
        ("O'Connell", "O'Connell"),
        ("'", "'"),
        ("12'", "12'"),
    ],
    ids=["zip", "phone", "formatted-phone", "id", "word", "inside", "alone", "after"],
)
def test_excel_s_apostrophe_before_a_number_is_no_part_of_it(cell: str, read: str) -> None:
    frame = pl.DataFrame({"c": [cell]})
    assert frame.select(without_text_mark(pl.col("c")))["c"][0] == read


def test_eventbrite_s_info_requested_is_no_name() -> None:
    assert is_no_value("Info Requested")
