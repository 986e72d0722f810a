"""The outcome ledger: every row read ends in exactly one outcome, or the run is a bug."""

from __future__ import annotations

import polars as pl
import pytest

from crmsync.report import RunSummary, outcome_frame
from crmsync.run.ledger import LedgerError, OutcomeLedger


def rows(*numbers: int) -> pl.DataFrame:
    return pl.DataFrame({"_source": ["f.csv"] * len(numbers), "_row": list(numbers)})


def issues(*pairs: tuple[int, str]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "_source": ["f.csv"] * len(pairs),
            "_row": [row for row, _ in pairs],
            "field": [field for _, field in pairs],
            "error": ["bad"] * len(pairs),
        }
    )


def test_rows_without_an_outcome_fail_with_the_reason_given_at_close() -> None:
    ledger = OutcomeLedger(rows(2, 3, 4, 5))
    ledger.fail(issues((2, "email"), (2, "phone")), stage="validate")  # one row, two fields
    ledger.record(outcome_frame(rows(3), outcome="created", rally_id="c-3"))
    closed = ledger.close(unsettled="interrupted")
    summary = RunSummary(name="s", object="contacts", source="f", dry_run=False, started_at="")
    summary.count(closed.per_outcome, closed.failed_by_stage)
    assert ledger.rows_read == 4
    assert (summary.created, summary.failed) == (1, 3)
    assert summary.failed_by_stage["validate"] == 1
    assert summary.failed_by_stage["load"] == 2
    unsettled = closed.said.filter(pl.col("error") == "interrupted")
    assert sorted(unsettled["_row"]) == [4, 5]
    # the created row has nothing more to say: it is counted, not kept as an outcome row
    assert sorted(closed.said["_row"]) == [2, 2, 4, 5]


def test_rows_without_an_outcome_are_in_doubt_or_unsent_by_their_number() -> None:
    ledger = OutcomeLedger(rows(2, 3, 4, 5, 6))
    ledger.record(outcome_frame(rows(2), outcome="created", rally_id="c-2"))
    closed = ledger.close(unsettled="in doubt", unsent="never sent", in_doubt={3, 4, 99})
    errors = dict(closed.said.select("_row", "error").iter_rows())
    assert errors == {3: "in doubt", 4: "in doubt", 5: "never sent", 6: "never sent"}
    assert set(closed.said["stage"]) == {"load"}


def test_without_outcome_is_what_is_left_to_settle() -> None:
    ledger = OutcomeLedger(rows(2, 3, 4))
    ledger.fail(issues((3, "email")), stage="validate")
    assert ledger.without_outcome(rows(2, 3, 4))["_row"].to_list() == [2, 4]


def test_two_different_outcomes_for_one_row_are_a_bug() -> None:
    ledger = OutcomeLedger(rows(2))
    ledger.fail(issues((2, "email")), stage="validate")
    ledger.record(outcome_frame(rows(2), outcome="created"))
    with pytest.raises(LedgerError, match="two outcomes"):
        ledger.close(unsettled="x")


def test_an_outcome_for_a_row_never_read_is_a_bug() -> None:
    ledger = OutcomeLedger(rows(2))
    ledger.record(outcome_frame(rows(2, 9), outcome="unchanged"))
    with pytest.raises(LedgerError, match="never read"):
        ledger.close(unsettled="x")


def test_an_empty_step_closes_empty() -> None:
    closed = OutcomeLedger(rows()).close(unsettled="x")
    assert closed.said.height == 0 and not any(closed.per_outcome.values())


def test_rows_of_two_sources_with_the_same_numbers_are_different_rows() -> None:
    read = pl.DataFrame({"_source": ["a.csv", "a.csv", "b.csv"], "_row": [2, 3, 2]})
    ledger = OutcomeLedger(read)
    ledger.record(outcome_frame(read.slice(0, 1), outcome="created"))
    assert ledger.without_outcome(read).rows() == [("a.csv", 3), ("b.csv", 2)]
    closed = ledger.close(unsettled="x")
    assert closed.said.sort(["_source", "_row"]).select("_source", "_row", "outcome").rows() == [
        ("a.csv", 3, "failed"),
        ("b.csv", 2, "failed"),
    ]
    assert (closed.per_outcome["created"], closed.per_outcome["failed"]) == (1, 2)
    stranger = OutcomeLedger(read)
    stranger.record(
        outcome_frame(pl.DataFrame({"_source": ["c.csv"], "_row": [2]}), outcome="created")
    )
    with pytest.raises(LedgerError, match=r"never read: \[\('c.csv', 2\)\]"):
        stranger.close(unsettled="x")


def test_a_row_read_twice_is_one_row() -> None:
    assert OutcomeLedger(rows(2, 2, 3)).rows_read == 2


def test_rows_the_delivery_settled_are_named_by_their_number() -> None:
    read = pl.DataFrame({"_source": ["a.csv", "a.csv", "b.csv"], "_row": [2, 3, 4]})
    ledger = OutcomeLedger(read)
    settled = pl.DataFrame(
        {
            "_row": [2, 3, 4],
            "outcome": ["created", "failed", "unchanged"],
            "error": [None, "refused", None],
            "rally_id": ["r-2", None, "r-4"],
        }
    )
    ledger.settle(settled)
    closed = ledger.close(unsettled="x")
    assert closed.said.select("_source", "_row", "stage", "error").rows() == [
        ("a.csv", 3, "load", "refused")
    ]
    assert (closed.per_outcome["created"], closed.per_outcome["unchanged"]) == (1, 1)


def test_a_row_settled_twice_alike_is_one_row_and_differently_a_bug() -> None:
    ledger = OutcomeLedger(rows(2, 3))
    ledger.record(outcome_frame(rows(2, 3), outcome="created"))
    ledger.record(outcome_frame(rows(3), outcome="created"))
    assert ledger.close(unsettled="x").per_outcome["created"] == 2
    twice = OutcomeLedger(rows(2, 3))
    twice.record(outcome_frame(rows(2, 3), outcome="created"))
    twice.record(outcome_frame(rows(3), outcome="unchanged"))
    with pytest.raises(LedgerError, match=r"two outcomes: \[\('f.csv', 3\)\]"):
        twice.close(unsettled="x")
