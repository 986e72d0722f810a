"""Rewriting only the values that need it gives what rewriting every value gives."""

from __future__ import annotations

import polars as pl
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crmsync.transform.normalizers.email import _library_forms, _plain, normalize_email
from crmsync.transform.normalizers.rewrite import VALUE, only_where


def _everywhere(values: list[str | None]) -> list[str | None]:
    """The email's stored form with its plain rewrite and the library's forms applied to
    every value."""
    frame = pl.DataFrame({VALUE: values}, schema={VALUE: pl.String})
    return _library_forms(frame.select(_plain(pl.col(VALUE))).to_series()).to_list()


def _normalized(values: list[str | None]) -> list[str | None]:
    frame = pl.DataFrame({VALUE: values}, schema={VALUE: pl.String})
    return frame.select(normalize_email(pl.col(VALUE))).to_series().to_list()


def test_every_ascii_character_anywhere_in_an_address() -> None:
    """Each ASCII character at the start, inside and at the end of an address, among plain
    addresses (so the values that need it are rewritten one by one)."""
    values: list[str | None] = []
    for code in range(128):
        char = chr(code)
        values += [f"{char}ann@acme.com", f"an{char}n@acme.com", f"ann@acme.com{char}", char]
    values += ["plain@acme.com"] * (2 * len(values))  # most values need nothing
    assert _normalized(values) == _everywhere(values)


_PLAIN = st.from_regex(r"[a-z0-9._+-]{1,6}@[a-z0-9-]{1,6}\.[a-z]{2,3}", fullmatch=True)
_MESSY = st.text(alphabet=' \t\u00a0\u200bAaZz@.:éÉΣσ<>"mailtoMAILTO', max_size=16)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), _PLAIN, _MESSY), max_size=30))
@example([" Mailto:ANN@acme.com", "ann@acme.com", "bob@acme.com", "cy@acme.com"])
@example(["mailto:ann@acme.com", "a@b.co", "c@d.co", "e@f.co"])  # lower case, ASCII
@example(["ann@xn--bcher-kva.de", "a@b.co", "c@d.co", "e@f.co"])  # shown in Unicode
@example(["<jane@acme.com>", "a@b.co", "c@d.co", "e@f.co"])  # a display name, no space
@example(["ΑΣ@acme.com", "", "a@b.co", "c@d.co", "e@f.co"])
def test_email_stored_form_rewrites_only_what_needs_it(values: list[str | None]) -> None:
    assert _normalized(values) == _everywhere(values)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(alphabet="ab AB", max_size=4)), max_size=20))
def test_only_where_keeps_what_the_pattern_does_not_match(values: list[str | None]) -> None:
    series = pl.Series("name", values, dtype=pl.String)
    lowered = only_where(series, "[A-Z]", pl.col(VALUE).str.to_lowercase())
    assert lowered.name == "name"
    assert lowered.to_list() == series.str.to_lowercase().to_list()
