"""Mapping: header matching and the projection to Rally wire fields."""

from __future__ import annotations

import polars as pl
import pytest

from crmsync.errors import ConfigError
from crmsync.transform.mapping import (
    FieldRule,
    apply_mapping,
    header_key,
    resolve_columns,
    template_columns,
)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("E-mail Address", "email address"),
        ("First Name", "first_name"),
        ("ZIP/Postal", "zip postal"),
    ],
    ids=["dash-space", "underscore", "slash"],
)
def test_headers_match_ignoring_case_spaces_and_punctuation(a: str, b: str) -> None:
    assert header_key(a) == header_key(b)


def test_resolve_prefers_exact_then_loose() -> None:
    mapping = {"email": ["email address"], "title": ["Title"]}
    assert resolve_columns(mapping, ["E-mail Address", "Title"], source="f.csv") == {
        "email": ["E-mail Address"],
        "title": ["Title"],
    }


def test_missing_column_is_config_error_with_hint() -> None:
    mapping = {"email": ["Emial"]}
    with pytest.raises(ConfigError) as info:
        resolve_columns(mapping, ["Email", "Name"], source="f.csv")
    message = str(info.value)
    assert "mapping.email: column 'Emial' is not in the file (did you mean 'Email'?)" in message
    assert "f.csv" in message


def test_apply_mapping_column_default_constant() -> None:
    frame = pl.DataFrame(
        {
            "_source": ["f", "f"],
            "_row": [2, 3],
            "Stage": ["customer", "  "],
            "Mail": ["a@b.co", None],
        }
    )
    mapping = {
        "email": FieldRule(columns=("Mail",)),
        "lifecycleStage": FieldRule(columns=("Stage",), default="lead"),
        "leadSource": FieldRule(constant="import"),
        "leadScore": FieldRule(default="10"),
    }
    out = apply_mapping(frame, mapping, {"email": ["Mail"], "lifecycleStage": ["Stage"]})
    assert out.columns == ["_source", "_row", "email", "lifecycleStage", "leadSource", "leadScore"]
    assert out.to_dicts() == [
        {
            "_source": "f",
            "_row": 2,
            "email": "a@b.co",
            "lifecycleStage": "customer",
            "leadSource": "import",
            "leadScore": "10",
        },
        {
            "_source": "f",
            "_row": 3,
            "email": None,
            "lifecycleStage": "lead",
            "leadSource": "import",
            "leadScore": "10",
        },
    ]


def test_column_list_takes_the_first_non_empty() -> None:
    frame = pl.DataFrame(
        {
            "_source": ["f"] * 3,
            "_row": [2, 3, 4],
            "web": ["acme.com", " ", None],
            "mail": ["a@b.co", "c@d.co", None],
        }
    )
    mapping = {"domain": FieldRule(columns=("web", "mail"))}
    out = apply_mapping(frame, mapping, {"domain": ["web", "mail"]})
    assert out["domain"].to_list() == ["acme.com", "c@d.co", None]


@pytest.mark.parametrize(
    ("first", "middle", "expected"),
    [
        ("Ann", "Marie", "Ann Marie"),
        ("Ann", None, "Ann"),
        (None, None, None),
        ("  Ann ", "", "Ann"),
    ],
    ids=["both", "no-middle", "neither", "spaces"],
)
def test_template_drops_empty_placeholders(
    first: str | None, middle: str | None, expected: str | None
) -> None:
    frame = pl.DataFrame(
        {"_source": ["f"], "_row": [2], "first_name": [first], "middle_name": [middle]}
    )
    spec = FieldRule(template="{first_name} {middle_name}")
    assert template_columns("{first_name} {middle_name}") == ["first_name", "middle_name"]
    out = apply_mapping(frame, {"firstName": spec}, {"firstName": ["first_name", "middle_name"]})
    assert out["firstName"].to_list() == [expected]


def test_values_translate_ignoring_case_with_default_for_empty() -> None:
    frame = pl.DataFrame(
        {
            "_source": ["f"] * 4,
            "_row": [2, 3, 4, 5],
            "type_id": ["1", "2", None, "7"],
            "user": ["1", "9", None, "1"],
        }
    )
    owner = "11111111-1111-1111-1111-111111111111"
    mapping = {
        "activityType": FieldRule(
            columns=("type_id",), values={"0": "note", "1": "call", "2": "meeting"}, default="note"
        ),
        "ownerId": FieldRule(columns=("user",), values={"1": owner}, keep_unmatched=False),
    }
    out = apply_mapping(frame, mapping, {"activityType": ["type_id"], "ownerId": ["user"]})
    assert out["activityType"].to_list() == ["call", "meeting", "note", "7"]
    assert out["ownerId"].to_list() == [owner, None, None, owner]


@pytest.mark.parametrize(
    "cell", ["null", "NULL", " n/a ", "-", "none", "None", "-None-", "#N/A"], ids=str.strip
)
def test_a_cell_that_says_no_value_is_read_as_empty_in_every_origin(cell: str) -> None:
    frame = pl.DataFrame(
        {"_source": ["f"], "_row": [2], "Phone": [cell], "Work": ["555-0100"], "Note": [cell]}
    )
    rules = {
        "phone": FieldRule(columns=("Phone", "Work")),  # the next column is read instead
        "notes": FieldRule(template="{Note}; call {Work}"),
        "lifecycleStage": FieldRule(columns=("Phone",), default="lead"),
    }
    columns = {"phone": ["Phone", "Work"], "notes": ["Note", "Work"], "lifecycleStage": ["Phone"]}
    out = apply_mapping(frame, rules, columns)
    assert out.select("phone", "notes", "lifecycleStage").row(0) == (
        "555-0100",
        "call 555-0100",
        "lead",
    )


def test_words_that_are_values_stay() -> None:
    frame = pl.DataFrame({"_source": ["f"] * 3, "_row": [2, 3, 4], "C": ["NA", "Nonesuch", "-5"]})
    out = apply_mapping(frame, {"country": FieldRule(columns=("C",))}, {"country": ["C"]})
    assert out["country"].to_list() == ["NA", "Nonesuch", "-5"]  # Namibia, a name, a number


def test_an_email_from_several_columns_is_the_first_that_holds_an_address() -> None:
    """Outlook's first address of an Exchange user is "/o=ExchangeLabs/...": the second
    column's SMTP address is taken; with no address anywhere, the first value (which then
    fails with its own message)."""
    exchange = "/o=ExchangeLabs/ou=Exchange Administrative Group/cn=Recipients/cn=tk"
    frame = pl.DataFrame(
        {
            "E-mail Address": [exchange, "ann@x.org", None, "not an address"],
            "E-mail 2 Address": ["t.k@nordlicht.de", "ann2@x.org", "bob@y.org", None],
            "_source": ["f.csv"] * 4,
            "_row": [2, 3, 4, 5],
        }
    )
    rule = {"email": FieldRule(columns=("E-mail Address", "E-mail 2 Address"))}
    columns = {"email": ["E-mail Address", "E-mail 2 Address"]}
    out = apply_mapping(frame, rule, columns)
    assert out["email"].to_list() == [
        "t.k@nordlicht.de",
        "ann@x.org",
        "bob@y.org",
        "not an address",
    ]


def test_headers_of_other_scripts_match_by_their_own_letters() -> None:
    """A name the file lacks never reads another column: every Cyrillic header once had the
    key "", so a mapped "Телефон" the file did not have read its first Cyrillic column."""
    columns = ["Имя", "Фамилия", "Prénom", "E-mail"]
    found = resolve_columns(
        {"firstName": ["имя"], "lastName": ["ФАМИЛИЯ"], "title": ["Prenom"], "email": ["email"]},
        columns,
        source="f.csv",
    )
    assert found == {
        "firstName": ["Имя"],
        "lastName": ["Фамилия"],
        "title": ["Prénom"],
        "email": ["E-mail"],
    }
    with pytest.raises(ConfigError, match="'Телефон' is not in the file"):
        resolve_columns({"phone": ["Телефон"]}, columns, source="f.csv")
    assert header_key("***") == "" and header_key("Straße") == "strasse"


def test_an_exchange_path_is_passed_over_even_with_an_at_sign_and_for_a_domain() -> None:
    exchange = "/O=ExchangeLabs/ou=Exchange/cn=Recipients/cn=tk@nordlicht"
    frame = pl.DataFrame(
        {
            "Web Page": [None],
            "E-mail Address": [exchange],
            "E-mail 2 Address": ["t.k@nordlicht.de"],
            "_source": ["f.csv"],
            "_row": [2],
        }
    )
    emails = ["E-mail Address", "E-mail 2 Address"]
    rules = {
        "email": FieldRule(columns=tuple(emails)),
        "domain": FieldRule(columns=("Web Page", *emails)),
    }
    out = apply_mapping(frame, rules, {"email": emails, "domain": ["Web Page", *emails]})
    assert out.row(0, named=True)["email"] == "t.k@nordlicht.de"
    assert out.row(0, named=True)["domain"] == "t.k@nordlicht.de"  # its domain is taken later
