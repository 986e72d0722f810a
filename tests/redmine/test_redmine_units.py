"""Units of the Redmine sandbox's query rules that HTTP tests reach only indirectly."""

from __future__ import annotations

import pytest

from crmsync.sandbox.redmine.middleware import api_format, path_template
from crmsync.sandbox.redmine.query import QueryError, normalize_time, parse_query, ruby_to_i


@pytest.mark.parametrize(
    ("text", "value"),
    [("12", 12), ("12abc", 12), (" 7", 7), ("-3", -3), ("abc", 0), ("", 0), (None, 0)],
)
def test_ruby_to_i(text: str | None, value: int) -> None:
    assert ruby_to_i(text) == value


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("2025-01-02", "2025-01-02T00:00:00Z"),
        ("2025-01-02T03:04:05Z", "2025-01-02T03:04:05Z"),
        ("2025-01-02T03:04:05+02:00", "2025-01-02T01:04:05Z"),
        ("2025-01-02 03:04:05", "2025-01-02T03:04:05Z"),
    ],
    ids=["day", "utc", "offset", "naive"],
)
def test_times_compare_in_one_format(text: str, normalized: str) -> None:
    assert normalize_time(text) == normalized


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("id", (("id", False),)),
        ("id:desc", (("id", True),)),
        ("last_name:desc,id", (("last_name", True), ("id", False))),
        ("password", (("last_name", False), ("first_name", False))),
        ("", (("last_name", False), ("first_name", False))),
    ],
    ids=["id", "id-desc", "two", "unknown-column", "default"],
)
def test_sort(sort: str, order: tuple[tuple[str, bool], ...]) -> None:
    assert parse_query({"sort": sort}).order == order


def test_time_range_forms() -> None:
    between = parse_query({"updated_on": "><2025-01-01|2025-01-31"}).times["updated_on"]
    assert (between.low, between.high) == ("2025-01-01T00:00:00Z", "2025-01-31T23:59:59Z")
    day = parse_query({"created_on": "2025-02-03"}).times["created_on"]
    assert (day.low, day.high) == ("2025-02-03T00:00:00Z", "2025-02-03T23:59:59Z")
    with pytest.raises(QueryError, match="Created is not a valid date"):
        parse_query({"created_on": ">=yesterday"})


@pytest.mark.parametrize(
    ("path", "query", "fmt"),
    [
        ("/contacts.json", {}, "json"),
        ("/contacts/4.xml", {}, "xml"),
        ("/contacts", {"format": ["json"]}, "json"),
        ("/contacts.csv", {}, None),
        ("/contacts", {}, None),
        ("/projects/a.b/contacts", {}, None),
    ],
)
def test_api_format(path: str, query: dict[str, list[str]], fmt: str | None) -> None:
    assert api_format(path, query) == fmt


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/contacts/12.json", "/contacts/{id}.json"),
        ("/projects/sales/contacts.xml", "/projects/{id}/contacts.xml"),
        ("/contacts.json", "/contacts.json"),
    ],
)
def test_stats_path_template(path: str, template: str) -> None:
    assert path_template(path) == template
