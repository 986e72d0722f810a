"""A domain read off emails that companies of different names share is nobody's company."""

from __future__ import annotations

import polars as pl

from crmsync.transform.mail_domains import FROM_EMAIL, unshared


def _frame(rows: list[tuple[str, str | None, bool]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "_source": ["c.csv"] * len(rows),
            "_row": list(range(2, len(rows) + 2)),
            "name": [name for name, _, _ in rows],
            "domain": [domain for _, domain, _ in rows],
            FROM_EMAIL: [email for _, _, email in rows],
        }
    )


def test_an_email_domain_of_different_names_is_taken_off_with_a_warning() -> None:
    frame = _frame(
        [
            ("Alpha Bakery", "someisp.net", True),
            ("Beta Roofing", "someisp.net", True),
            ("Acme Inc.", "acme.io", True),
            ("ACME", "acme.io", True),  # one company, however written: kept
            ("Gamma", "gamma.com", False),  # its website's domain
            ("Gamma Labs", "gamma.com", True),  # an email at its parent's: taken off
            ("Delta", None, True),
        ]
    )
    kept, issues = unshared(frame)
    assert kept["domain"].to_list() == [
        None, None, "acme.io", "acme.io", "gamma.com", None, None,
    ]  # fmt: skip
    assert FROM_EMAIL not in kept.columns
    assert kept.columns == ["_source", "_row", "name", "domain"]
    assert issues["_row"].to_list() == [2, 3, 7]
    assert set(issues["severity"]) == {"warning"}
    assert issues["error"][0] == (
        'the email domain "someisp.net" is shared by companies of different names '
        "(Alpha Bakery, Beta Roofing): not taken as a company's domain; this company is "
        "found by its name"
    )


def test_without_email_domains_nothing_changes() -> None:
    frame = _frame([("A", "a.com", False), ("B", "a.com", False)])
    kept, issues = unshared(frame)
    assert kept.equals(frame.drop(FROM_EMAIL)) and issues.height == 0
