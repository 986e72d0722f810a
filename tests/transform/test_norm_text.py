"""Names, free text and tags."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from tests.transform.conftest import run_expr, run_one

from crmsync.transform.normalizers import clean_text, normalize_tags, split_full_name
from crmsync.transform.normalizers.names import (
    EDGES,
    WHITESPACE_TO_COLLAPSE,
    blank_as_null,
    trimmed,
)

TEXT = [
    ("  Mary   Ann  ", True, "Mary Ann"),
    ("Mary\t\nAnn", True, "Mary Ann"),
    ("line one\n  line two  ", False, "line one\n  line two"),
    ("   ", True, None),
    ("", False, None),
    (None, True, None),
    ("Zoë  Ångström", True, "Zoë Ångström"),
    ("\u200bAcme\ufeff\x01", True, "Acme"),  # copy-paste leaves these at the ends
    ("\u200b\u2060", False, None),
    ("\U0001f469\u200d\U0001f4bb", True, "\U0001f469\u200d\U0001f4bb"),  # a joiner spells
]


@pytest.mark.parametrize(
    ("raw", "collapse", "expected"),
    TEXT,
    ids=[
        "spaces",
        "tabs-newlines",
        "free-text",
        "blank",
        "empty",
        "null",
        "unicode",
        "invisible-ends",
        "only-invisible",
        "joiner-kept",
    ],
)
def test_clean_text(raw: str | None, collapse: bool, expected: str | None) -> None:
    assert run_one(lambda e: clean_text(e, collapse=collapse), raw) == expected


NAMES = [
    ("John Smith", "John", "Smith"),
    ("  Mary   Ann Lee ", "Mary Ann", "Lee"),
    ("Dr. Jane Doe", "Jane", "Doe"),
    ("Smith, John", "John", "Smith"),
    ("Ludwig van Beethoven", "Ludwig", "van Beethoven"),
    ("Anna De La Cruz", "Anna", "De La Cruz"),
    ("John Smith Jr.", "John", "Smith Jr."),
    ("John Smith, Jr.", "John", "Smith Jr."),
    ("Cher", "Cher", None),
    (None, None, None),
]


@pytest.mark.parametrize(("full", "first", "last"), NAMES, ids=[str(n[0]) for n in NAMES])
def test_split_full_name(full: str | None, first: str | None, last: str | None) -> None:
    frame = pl.DataFrame({"fullName": pl.Series([full], dtype=pl.String)})
    result = split_full_name(frame, "fullName")
    assert result.select("firstName", "lastName").row(0) == (first, last)


def test_split_full_name_keeps_given_parts() -> None:
    frame = pl.DataFrame(
        {
            "fullName": ["John Smith", "John Smith", "John Smith"],
            "firstName": ["Johnny", None, "  "],
            "lastName": [None, "Smyth", None],
        }
    )
    result = split_full_name(frame, "fullName").select("firstName", "lastName").rows()
    assert result == [("Johnny", "Smith"), ("John", "Smyth"), ("John", "Smith")]


def test_split_full_name_without_the_column_is_a_no_op() -> None:
    frame = pl.DataFrame({"firstName": ["A"]})
    assert split_full_name(frame, "fullName").equals(frame)


TAGS = [
    ("a, b;c|a", "a,b,c", ["a", "b", "c"]),
    (" VIP ; vip | big   deal ", "VIP,big deal", ["VIP", "big deal"]),
    ("enterprise,tech", "enterprise,tech", ["enterprise", "tech"]),
    ("vip\nnews letter\r\npartner\n", "vip,news letter,partner", ["vip", "news letter", "partner"]),
    (",;|", None, None),
    ("", None, None),
    (None, None, None),
]


@pytest.mark.parametrize(
    ("raw", "text", "listed"),
    TAGS,
    ids=["mixed", "case-dupes", "canonical", "per-line", "only-separators", "empty", "null"],
)
def test_normalize_tags(raw: str | None, text: str | None, listed: list[str] | None) -> None:
    assert run_one(lambda e: normalize_tags(e, as_list=False), raw) == text
    assert run_one(lambda e: normalize_tags(e, as_list=True), raw) == listed


_TEXTISH = st.text(alphabet="ab ,;|\tÄ\n", max_size=15)


@pytest.mark.slow  # a property sweep: the whole suite runs it
@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.none(), _TEXTISH), min_size=1, max_size=10))
def test_text_normalizers_are_idempotent(values: list[str | None]) -> None:
    for fn in (
        lambda e: clean_text(e, collapse=True),
        lambda e: clean_text(e, collapse=False),
        lambda e: normalize_tags(e, as_list=False),
    ):
        once = run_expr(fn, values)
        assert run_expr(fn, once) == once
    listed = run_expr(lambda e: normalize_tags(e, as_list=True), values)
    joined = [None if tags is None else ",".join(tags) for tags in listed]
    assert run_expr(lambda e: normalize_tags(e, as_list=True), joined) == listed


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.text(alphabet="ab ,.D", max_size=14)), min_size=1, max_size=8)
)
def test_split_full_name_is_idempotent(names: list[str | None]) -> None:
    frame = pl.DataFrame({"fullName": pl.Series(names, dtype=pl.String)})
    once = split_full_name(frame, "fullName")
    assert split_full_name(once, "fullName").equals(once)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text(alphabet=st.sampled_from(" \t\n\r\u00a0\u2003\u3000\x0bab"), max_size=10),
        ),
        max_size=20,
    )
)
def test_collapsing_matches_replacing_every_whitespace_run(cells: list[str | None]) -> None:
    """Only runs and lone non-space whitespace are rewritten: the same text as r"\\s+" -> " "."""
    frame = pl.DataFrame({"c": cells}, schema={"c": pl.String})
    everything = pl.col("c").str.replace_all(r"\s+", " ").str.strip_chars()
    expected = frame.select(pl.when(everything.str.len_bytes() > 0).then(everything))
    assert (
        frame.select(clean_text(pl.col("c"))).to_series().to_list()
        == expected.to_series().to_list()
    )


_EDGY = st.sampled_from([*EDGES, " ", "  ", "a", "Ä", "b c", "\u200d", "x\ty"])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text(alphabet="abÄ", min_size=1, max_size=4),  # clean: most cells are
            st.lists(_EDGY, max_size=6).map("".join),
        ),
        max_size=30,
    ),
    st.booleans(),
)
@example(["a  a", "b", "b", None], True)  # a run among clean cells
@example(["a\tb", "b", "b"], True)
@example(["\u200bb", "", "b", "b", "b"], False)
def test_cleaning_only_unclean_values_changes_nothing(
    cells: list[str | None], collapse: bool
) -> None:
    """Rewriting only the values `_UNCLEAN` finds gives what cleaning every value gives,
    whatever share of a column is unclean (both ways through are taken)."""
    frame = pl.DataFrame({"c": cells}, schema={"c": pl.String})
    text = pl.col("c")
    if collapse:
        text = text.str.replace_all(WHITESPACE_TO_COLLAPSE, " ")
    expected = frame.select(blank_as_null(trimmed(text))).to_series().to_list()
    assert frame.select(clean_text(pl.col("c"), collapse=collapse))["c"].to_list() == expected


@pytest.mark.parametrize(
    ("cell", "as_list", "expected"),
    [
        ('"VIP","Customer"', False, "VIP,Customer"),
        ('"Big, Important","VIP"', True, ["Big, Important", "VIP"]),  # a company's list keeps it
        ('"Big, Important","VIP"', False, "Big,Important,VIP"),  # a contact's text cannot
        ('"Gold"', True, ["Gold"]),
        ('Gold "Plus" tier', True, ['Gold "Plus" tier']),  # quotes inside a tag stay
    ],
)
def test_quoted_tags_lose_their_quotes(cell: str, as_list: bool, expected: object) -> None:
    frame = pl.DataFrame({"t": [cell]})
    assert frame.select(normalize_tags(pl.col("t"), as_list=as_list))["t"].to_list() == [expected]
