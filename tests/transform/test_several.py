"""Cells holding several emails or phones: the first is used, the others kept, a warning."""

from __future__ import annotations

import polars as pl
import pytest
from tests.transform.conftest import identity_frame

from crmsync.schema import OBJECTS
from crmsync.transform import NormalizeOptions, normalize
from crmsync.transform.several import first_of, split_several

OPTIONS = NormalizeOptions(default_region="US")


def test_the_first_email_is_used_and_the_others_go_to_the_notes() -> None:
    frame = identity_frame(
        {
            "email": ["a@x.com;b@y.com", "c@x.com ::: d@y.com\ne@z.com", "f@x.com", "g at x.io"],
            "notes": [None, "met at the fair", None, None],
        }
    )
    out, warnings = split_several(frame, OBJECTS["contacts"])
    assert out["email"].to_list() == ["a@x.com", "c@x.com", "f@x.com", "g at x.io"]
    assert out["notes"].to_list() == [
        "Other emails: b@y.com",
        "met at the fair\nOther emails: d@y.com, e@z.com",
        None,
        None,
    ]
    assert warnings.select("_row", "field", "error", "severity").rows() == [
        (2, "email", '"a@x.com;b@y.com" holds 2 addresses: the first is used; the other is '
         "kept in notes", "warning"),
        (3, "email", '"c@x.com ::: d@y.com\ne@z.com" holds 3 addresses: the first is used; the '
         "others are kept in notes", "warning"),
    ]  # fmt: skip


def test_a_json_array_of_emails_or_phones_is_read_as_several_values() -> None:
    """How a JSON file's list of addresses reads: not split inside its brackets and quotes."""
    frame = identity_frame(
        {
            "email": ['["a@x.com", "b@y.com"]', '["c@x.com"]', "[d@x.com]", "[]", None],
            "phone": ['["+1 415 555 0100","+1 415 555 0101"]', None, None, None, None],
        }
    )
    out, warnings = split_several(frame, OBJECTS["contacts"])
    assert out["email"].to_list() == ["a@x.com", "c@x.com", "[d@x.com]", "", None]
    assert out["phone"].to_list() == ["+1 415 555 0100", None, None, None, None]
    assert out["mobile"].to_list() == ["+1 415 555 0101", None, None, None, None]
    assert out["notes"].to_list() == ["Other emails: b@y.com", None, None, None, None]
    assert warnings.select("_row", "field").rows() == [(2, "email"), (2, "phone")]


def test_a_second_phone_becomes_the_mobile_when_that_is_empty() -> None:
    frame = identity_frame(
        {
            "phone": ["+91 98765 43210 ::: +91 91234 56789", "555-0100, ext. 12", "1;2;3"],
            "mobile": [None, None, None],
        }
    )
    out, warnings = split_several(frame, OBJECTS["contacts"])
    assert out.select("phone", "mobile").rows() == [
        ("+91 98765 43210", "+91 91234 56789"),
        ("555-0100, ext. 12", None),  # an extension is no second number
        ("1;2;3", None),
    ]
    assert warnings["error"].to_list() == [
        '"+91 98765 43210 ::: +91 91234 56789" holds 2 numbers: the first is used; the second '
        "is the mobile"
    ]


def test_a_mobile_already_given_sends_the_second_phone_to_the_notes() -> None:
    frame = identity_frame(
        {"phone": ["(555) 010-0000; (555) 010-0001"], "mobile": ["(555) 010-0099"]}
    )
    out, _ = split_several(frame, OBJECTS["contacts"])
    assert out.select("phone", "mobile", "notes").row(0) == (
        "(555) 010-0000",
        "(555) 010-0099",
        "Other phones: (555) 010-0001",
    )


def test_companies_keep_their_other_phones_in_the_notes() -> None:
    frame = identity_frame({"name": ["Acme"], "phone": ["+1 212 555 0100; +1 212 555 0101"]})
    out, _ = split_several(frame, OBJECTS["companies"])
    assert "mobile" not in out.columns
    assert out.select("phone", "notes").row(0) == (
        "+1 212 555 0100",
        "Other phones: +1 212 555 0101",
    )


def test_several_values_never_fail_a_row_and_normalizing_again_changes_nothing() -> None:
    frame = identity_frame(
        {
            "firstName": ["Ann"],
            "lastName": ["Lee"],
            "email": ["Ann@X.com, ann.lee@gmail.com"],
            "phone": ["(212) 555-0100 ::: (212) 555-0199"],
        }
    )
    once, issues = normalize(frame, OBJECTS["contacts"], OPTIONS)
    assert set(issues["severity"]) == {"warning"}
    assert once.select("email", "phone", "mobile").row(0) == (
        "ann@x.com",
        "+12125550100",
        "+12125550199",
    )
    twice, again = normalize(once.drop("_match_key"), OBJECTS["contacts"], OPTIONS)
    assert twice.equals(once) and again.is_empty()


def test_a_company_domain_read_from_a_cell_of_emails_is_the_first_ones() -> None:
    frame = identity_frame(
        {
            "name": ["Blue Heron", "Acme"],
            "domain": ["elena@blueheron.net ::: elena@eklund.family", "www.acme.com"],
        }
    )
    out, warnings = normalize(frame, OBJECTS["companies"], OPTIONS)
    assert out["domain"].to_list() == ["blueheron.net", "acme.com"]
    assert warnings.is_empty()


@pytest.mark.parametrize(
    ("cell", "separator", "first"),
    [
        ("1234;5678", ";", "1234"),
        ("1234", ";", "1234"),
        (" ; 99 ;5", ";", "99"),  # blank parts are no value
        (";", ";", None),
        ("", ";", None),
        (None, ";", None),
        ("a | b", "|", "a"),
        ("1234;5678", ",", "1234;5678"),  # another separator: one value
    ],
    ids=["two", "one", "blank-first", "only-separators", "empty", "null", "pipe", "other-sep"],
)
def test_first_of_gives_the_first_value_a_cell_holds(
    cell: str | None, separator: str, first: str | None
) -> None:
    frame = pl.DataFrame({"c": [cell]}, schema={"c": pl.String})
    assert frame.select(first_of(pl.col("c"), separator)).item() == first
