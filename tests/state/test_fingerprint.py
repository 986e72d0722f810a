"""Source fingerprints: one per distinct row of source values, SHA-256 as hashlib makes it,
and salted with all that decides the payload."""

from __future__ import annotations

import hashlib

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync.state import fingerprint, hashing
from crmsync.state.fingerprint import FP_DIGITS, fingerprints, salt

VALUES = st.one_of(
    st.none(),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12),
)


def _oracle(salted: str, row: tuple[str | None, ...]) -> str:
    """The text the module documents, hashed by hashlib."""
    masks = [
        str(sum(1 << bit for bit, value in enumerate(row[start : start + 64]) if value is None))
        for start in range(0, len(row), 64)
    ]
    present = [value for value in row if value is not None]
    text = "\x00".join([*masks, salted, *present])
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:FP_DIGITS]


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.tuples(VALUES, VALUES, VALUES), min_size=1, max_size=20))
def test_a_fingerprint_is_sha256_of_the_documented_text(
    rows: list[tuple[str | None, ...]],
) -> None:
    frame = pl.DataFrame(rows, schema=["a", "b", "c"], orient="row")
    made = fingerprints(frame, ["a", "b", "c"], "salt")
    assert made is not None
    assert made.to_list() == [_oracle("salt", row) for row in rows]


@settings(max_examples=25, deadline=None)
@given(data=st.data(), width=st.integers(60, 140))
def test_a_wide_row_marks_its_nulls_64_columns_to_a_number(width: int, data: st.DataObject) -> None:
    rows = data.draw(st.lists(st.tuples(*[VALUES] * width), min_size=1, max_size=4))
    names = [f"c{index}" for index in range(width)]
    frame = pl.DataFrame(rows, schema=names, orient="row")
    made = fingerprints(frame, names, "salt")
    assert made is not None
    assert made.to_list() == [_oracle("salt", row) for row in rows]


def test_rows_that_differ_anywhere_differ_in_their_fingerprints() -> None:
    frame = pl.DataFrame(
        {
            "a": ["ab", "a", None, "", "x", "x"],
            "b": ["c", "bc", "", None, "y", "y"],
        }
    )
    made = fingerprints(frame, ["a", "b"], "salt")
    assert made is not None
    # a value's end is not the next one's start, and null is not the empty string
    assert made.n_unique() == 5 and made[4] == made[5]
    assert fingerprints(frame, ["a", "b"], "other salt")[0] != made[0]  # type: ignore[index]


def test_without_sha256_in_polars_no_row_has_a_fingerprint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fingerprint, "sha256_column", None)
    assert fingerprints(pl.DataFrame({"a": ["x"]}), ["a"], "salt") is None
    assert hashing.sha256_column is not None  # the payload hashes keep theirs


def test_the_salt_changes_with_the_settings_the_columns_and_the_libraries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = salt({"mapping": {"email": "Email"}}, ["Email"])
    assert base == salt({"mapping": {"email": "Email"}}, ["Email"])
    assert base != salt({"mapping": {"email": "E-mail"}}, ["Email"])
    assert base != salt({"mapping": {"email": "Email"}}, ["Email", "Phone"])
    monkeypatch.setattr(fingerprint, "_version", lambda name: "99.0")
    assert base != salt({"mapping": {"email": "Email"}}, ["Email"])
