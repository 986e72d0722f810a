"""Names for contacts that have none: the full name, the email if asked, then defaults."""

from __future__ import annotations

import pytest
from tests.transform.conftest import identity_frame, run_expr

from crmsync.schema import OBJECTS
from crmsync.transform import NormalizeOptions, normalize
from crmsync.transform.normalizers.fallback_names import names_from_email


@pytest.mark.parametrize(
    ("email", "first", "last"),
    [
        ("anna.berg@x.com", "Anna", "Berg"),
        ("Anna_Maria.Berg2@x.com", "Anna", "Berg"),
        ("anna.berg+news@x.com", "Anna", "Berg"),
        ("jiqbal1@yahoo.com", "Jiqbal", None),
        ("info@acme.com", None, None),
        ("no-reply@acme.com", None, None),
        ("1234@x.com", None, None),
        (None, None, None),
    ],
    ids=["first.last", "underscores-digits", "plus-tag", "one-word", "role", "no-reply", "digits",
         "none"],
)  # fmt: skip
def test_names_read_from_an_email_address(email: str | None, first: str, last: str) -> None:
    assert run_expr(lambda e: names_from_email(e)[0], [email]) == [first]
    assert run_expr(lambda e: names_from_email(e)[1], [email]) == [last]


def test_each_way_to_a_name_fills_only_what_the_ones_before_left_empty() -> None:
    frame = identity_frame(
        {
            "firstName": ["Ann", None, None, None, "Kristof"],
            "lastName": ["Lee", None, None, None, None],
            "fullName": [None, "Smith, John", None, None, None],
            "email": ["ann@x.com", "js@x.com", "anna.berg@x.com", "info@x.com", "petr.k@x.cz"],
        }
    )
    options = NormalizeOptions(names_from_email=True, name_defaults={"lastName": "(unknown)"})
    out, issues = normalize(frame, OBJECTS["contacts"], options)
    assert out.select("firstName", "lastName").rows() == [
        ("Ann", "Lee"),  # its own columns
        ("John", "Smith"),  # the full name
        ("Anna", "Berg"),  # the email, with a warning
        (None, "(unknown)"),  # a role address gives nothing: the default fills the last name
        ("Kristof", "(unknown)"),  # one name given: the email is someone else's guess, not used
    ]
    assert issues.select("_row", "field", "error", "severity").rows() == [
        (4, "firstName", 'the row has no name: "Anna Berg" taken from the email address '
         '"anna.berg@x.com"', "warning"),
    ]  # fmt: skip


def test_without_names_from_email_the_email_is_never_read_for_a_name() -> None:
    frame = identity_frame({"firstName": [None], "lastName": [None], "email": ["anna.berg@x.com"]})
    out, _ = normalize(frame, OBJECTS["contacts"], NormalizeOptions())
    assert out.select("firstName", "lastName").row(0) == (None, None)
