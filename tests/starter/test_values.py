"""What the values say against a header: honorifics, scales, region codes, Google groups, quoted
tags, statuses; and the phone region read from countries and +prefixes."""

from __future__ import annotations

from collections import Counter

import polars as pl
import pytest

from crmsync.schema import OBJECTS
from crmsync.starter import Table, suggest
from crmsync.starter.regions import guess_region, region_of_country, region_of_phone
from crmsync.starter.values import labels_seen, veto

VETOES = [
    ("honorifics", "title", ["Mr.", "Ms.", "Dr.", "Mrs", "CEO"], "honorifics"),
    ("rating", "leadScore", ["1", "2", "5", "3"], "1-5 scale"),
    ("not-a-number", "leadScore", ["high", "12"], "not whole numbers"),
    ("over-100", "leadScore", ["12", "250"], "outside 0-100"),
    ("region-codes", "state", ["NY", "14", "tg", "CA", "03"], "region codes"),
    ("google-groups", "tags", ["* myContacts ::: Friends", "Work"], "Google groups"),
    ("quoted-tags", "tags", ['Gold "Customer" tier', ""], "quoted tags"),
    ("websites-as-linkedin", "linkedInUrl", ["https://acme.com", "globex.io"], "not LinkedIn"),
    ("statuses", "lifecycleStage", ["New", "Open", "In Progress", "Lead"], "statuses"),
]


@pytest.mark.parametrize(
    ("target", "values", "phrase"), [v[1:] for v in VETOES], ids=[v[0] for v in VETOES]
)
def test_values_that_contradict_the_header_veto_it(
    target: str, values: list[str], phrase: str
) -> None:
    reason = veto(target, values)
    assert reason is not None and phrase in reason


FITTING = [
    ("job-titles", "title", ["CTO", "Head of Sales", "Mr. Fixit Ltd owner"]),
    ("score", "leadScore", ["0", "45", "100", "7"]),
    ("states", "state", ["NY", "CA", "Bavaria", "ON"]),
    ("tags", "tags", ["vip, referral", "Kunden;VIP"]),
    ("linkedin-profiles", "linkedInUrl", ["https://www.linkedin.com/in/ada", "linkedin.com/in/bo"]),
    ("json-tag-arrays", "tags", ['["vip","referral"]', "[]", "plain"]),  # read as their items
    ("stages", "lifecycleStage", ["Lead", "Customer", "Marketing Qualified Lead", "n/a"]),
    ("empty", "title", []),
]


@pytest.mark.parametrize(
    ("target", "values"), [v[1:] for v in FITTING], ids=[v[0] for v in FITTING]
)
def test_fitting_values_are_left_alone(target: str, values: list[str]) -> None:
    assert veto(target, values) is None


def test_a_generic_title_of_honorifics_is_not_a_job_title() -> None:
    frame = pl.DataFrame(
        {
            "Title": ["Mr.", "Ms.", "Dr.", None],
            "Name": ["A B", "C D", "E F", "G H"],
            "Email": ["a@x.io", "c@x.io", "e@x.io", "g@x.io"],
        }
    )
    suggestion = suggest(Table(frame.columns, frame), "contacts")
    assert "title" not in suggestion.mapping
    assert (
        "honorifics (Mr. 1, Ms. 1, Dr. 1)"
        in dict((left.column, left.why) for left in suggestion.left)["Title"]
    )


def test_phone_labels_are_seen_without_googles_primary_mark() -> None:
    seen = labels_seen(["Mobile", "* Mobile", " Work ", "Mobile"])
    assert seen == Counter({"Mobile": 3, "Work": 1})


@pytest.mark.parametrize(
    ("value", "region"),
    [
        ("United States", "US"),
        ("U.S.A.", "US"),
        ("usa", "US"),
        ("Deutschland", "DE"),
        ("Österreich", "AT"),
        ("UK", "GB"),
        ("Côte d'Ivoire", "CI"),
        ("de", "DE"),
        ("Atlantis", None),
        ("n/a", None),
    ],
)
def test_country_names_codes_and_aliases(value: str, region: str | None) -> None:
    assert region_of_country(value) == region


@pytest.mark.parametrize(
    ("value", "region"),
    [
        ("+49 30 901820", "DE"),
        ("0049 30 901820", "DE"),
        ("+1 (415) 555-0132", "US"),
        ("+420 601 555 123", "CZ"),
        ("(415) 555-0132", None),
        ("+999 1", None),
    ],
)
def test_phone_prefixes(value: str, region: str | None) -> None:
    assert region_of_phone(value) == region


def test_a_country_majority_wins_and_says_why() -> None:
    guess = guess_region({"Country": ["USA", "United States", "Canada", "US"]}, {})
    assert guess.region == "US"
    assert guess.reason == '3 of the 4 values of "Country" are "USA" / "United States" / "US"'


def test_phone_prefixes_decide_without_a_country() -> None:
    guess = guess_region({}, {"Phone": ["+420 601 555 123", "+420 222 111 000", "602 111 222"]})
    assert guess.region == "CZ"
    assert "2 of the 2 phone numbers written with a country code are +420" in guess.reason


def test_no_majority_no_guess() -> None:
    guess = guess_region({"Country": ["Spain", "France", "Germany", "Spain", "France"]}, {})
    assert guess.region is None
    assert "no country has a majority" in guess.reason
    assert guess_region({}, {}).region is None


def test_a_long_column_is_judged_on_its_first_values() -> None:
    phones = ["+49 30 901820"] * 6000 + ["+1 415 555 0132"] * 9000
    guess = guess_region({}, {"Phone": phones})
    assert guess.region == "DE"
    assert guess.reason.startswith("5000 of the first 5000 phone numbers")


def test_formats_the_values_call_for() -> None:
    """Numbers with a decimal comma and dates day first are set in the starter, with why;
    which fields are numbers or times is the object's schema's to say."""
    from crmsync.starter.values import formats

    activities, companies = OBJECTS["activities"], OBJECTS["companies"]
    given = {
        "callDurationSeconds": ["1.234", "1,5"],
        "dueDate": ["15.07.2025", "03.04.2025"],
        "subject": ["3,5"],  # text: no number, whatever it looks like
    }
    assert [key for key, _ in formats(given, activities)] == ["decimal_comma", "day_first"]
    assert formats({"annualRevenue": ["1.234,50", "2.000"]}, companies)[0][0] == "decimal_comma"
    assert formats({"annualRevenue": ["1,234.50", "12,5"]}, companies) == []
    assert formats({"dueDate": ["07/15/2025"]}, activities) == []
    assert formats({"name": ["1.234,50"]}, companies) == []  # a name is text
