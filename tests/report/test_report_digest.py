"""A step's digest groups failures, merges and warnings by field and reason, with the first
source rows of each group."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crmsync.report import outcome_frame
from crmsync.report.digest import SAMPLE_ROWS, reason_of, reasons, step_digest, warning_samples


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ('"a@@b" is not a valid email address: x', "… is not a valid email address: x"),
        ("email is missing (required)", "email is missing (required)"),
        ("duplicate of row 161 by john@x.co", "duplicate"),
        ('"1"2" odd', '…2" odd'),
    ],
    ids=["quoted-cell", "no-cell", "merge", "unbalanced"],
)
def test_a_reason_leaves_out_the_cells_it_quotes(message: str, reason: str) -> None:
    assert reason_of(message) == reason
    assert pl.select(reasons(pl.lit(message))).item() == reason


PIECES = st.sampled_from(
    ['"', '\\"', "\\", " ", "\n", "\t", "\u00a0", "duplicate of row ", "7", "٣", " by ", "é",
     "x@y", ": ", "\u2028", "a"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(PIECES, max_size=12).map("".join) | st.text(max_size=30), max_size=20))
@example(["duplicate of row 7 by \n"])  # `$` before a last line feed: Python's matches there
def test_reasons_in_polars_agree_with_reason_of(messages: list[str]) -> None:
    """The vectorized reasons are reason_of's, message for message (reason_of is the oracle)."""
    found = pl.DataFrame({"m": messages}, schema={"m": pl.String}).select(reasons(pl.col("m")))
    assert found.to_series().to_list() == [reason_of(m) for m in messages]


def test_failures_are_grouped_largest_first_with_their_first_rows_and_cells() -> None:
    bad = [(f'"x{n}" is not a valid email address', "email", "validate") for n in range(7)]
    bad.append(("lastName is missing (required)", "lastName", "validate"))
    rows = list(range(2, 2 + len(bad)))
    outcomes = outcome_frame(
        pl.DataFrame(
            {
                "_source": ["a.csv"] * len(bad),
                "_row": rows,
                "error": [b[0] for b in bad],
                "field": [b[1] for b in bad],
                "stage": [b[2] for b in bad],
            }
        ),
        outcome="failed",
    )
    source = pl.DataFrame(
        {"_source": ["a.csv"] * len(rows), "_row": rows, "Email": [f"<b>{n}</b>" for n in rows]}
    )
    warnings = pl.DataFrame(
        {"_source": ["a.csv"], "_row": [2], "field": ["phone"], "error": ["kept as written"]}
    )
    digest = step_digest(outcomes, warnings, source, ["Email", "Missing column"])
    assert digest["columns"] == ["Email"]
    first, second = digest["failures"]
    assert (first["stage"], first["field"], first["count"]) == ("validate", "email", 7)
    assert first["reason"] == "… is not a valid email address"
    assert len(first["rows"]) == SAMPLE_ROWS
    assert first["rows"][0] == {
        "source": "a.csv",
        "row": 2,
        "detail": '"x0" is not a valid email address',
        "cells": ["<b>2</b>"],
    }
    assert (second["field"], second["count"]) == ("lastName", 1)
    assert digest["merges"] == []
    assert digest["warnings"][0]["field"] == "phone" and digest["warnings"][0]["count"] == 1


def test_the_digest_needs_the_source_rows_of_its_warning_samples_alone() -> None:
    rows = list(range(2, 32))
    warnings = pl.DataFrame(
        {
            "_source": ["a.csv"] * 30,
            "_row": rows,
            "field": ["phone"] * 20 + ["website"] * 10,
            "error": [f'"{n}" kept as written' for n in rows],
        }
    )
    source = pl.DataFrame(
        {"_source": ["a.csv"] * 30, "_row": rows, "Phone": [str(n) for n in rows]}
    )
    wanted = warning_samples(warnings)
    assert wanted["_row"].to_list() == [*rows[:SAMPLE_ROWS], *rows[20 : 20 + SAMPLE_ROWS]]
    empty = outcome_frame(source.clear(), outcome="failed")
    whole = step_digest(empty, warnings, source, ["Phone"])
    sampled = source.join(wanted, on=["_source", "_row"], how="semi")
    assert step_digest(empty, warnings, sampled, ["Phone"]) == whole
    assert [group["count"] for group in whole["warnings"]] == [20, 10]
    assert warning_samples(warnings.clear()).is_empty()
