"""JSON and NDJSON read with `records:`: one row per object nested in a member of each record,
with its record's members as `parent.*` and its place in the file as `found_at`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from crmsync.errors import SourceError
from crmsync.extract import Extracted, read_source

LEADS: list[dict[str, Any]] = [
    {
        "id": "lead_1",
        "name": "Maison Verdier",
        "url": "https://maison-verdier.fr",
        "custom": {"Industry": "Software"},
        "contacts": [
            {
                "name": "Jürgen Rossi",
                "emails": [{"type": "office", "email": "j@maison-verdier.fr"}],
                "phones": [{"type": "office", "phone": "+15555550100"}],
            },
            {"name": "Zoë Becker", "emails": [], "title": "CMO"},
        ],
    },
    {"id": "lead_2", "name": "Empty Co", "contacts": []},
    {"id": "lead_3", "name": "No Contacts Key"},
    {"id": "lead_4", "name": "Cobalt", "contacts": [{"name": "Anaïs", "id": "c3"}]},
]


def _read(
    write: Callable[..., Path], records: Any, *, kind: str = "json", member: str = "contacts"
) -> tuple[Extracted, str]:
    if kind == "json":
        path = write(json.dumps(records, ensure_ascii=False), "leads.json")
    else:
        lines = "\n".join(json.dumps(record, ensure_ascii=False) for record in records)
        path = write(lines + "\n", "leads.ndjson")
    return read_source(kind, path, records=member), str(path)  # type: ignore[arg-type]


def test_each_nested_object_is_a_row_with_its_parents_members_and_place(
    write: Callable[..., Path], contract: Callable[[Extracted, str], None]
) -> None:
    result, source = _read(write, LEADS)
    contract(result, source)
    assert result.columns[:2] == ("found_at", "name")
    assert "emails[0].email" in result.columns
    assert "parent.custom.Industry" in result.columns
    assert "parent.contacts" not in result.columns  # the array itself is no parent member
    rows = result.frame.select(
        "found_at", "name", "emails[0].email", "title", "parent.id", "parent.name", "_row"
    ).rows()
    assert rows == [
        ("record 1, contacts[0]", "Jürgen Rossi", "j@maison-verdier.fr", None, "lead_1",
         "Maison Verdier", 1),
        ("record 1, contacts[1]", "Zoë Becker", None, "CMO", "lead_1", "Maison Verdier", 2),
        ("record 4, contacts[0]", "Anaïs", None, None, "lead_4", "Cobalt", 3),
    ]  # fmt: skip
    assert result.rejects.is_empty()
    assert result.nested is not None
    assert (result.nested.parents, result.nested.without) == (4, 2)


def test_ndjson_nested_rows_say_the_line_of_their_record(
    write: Callable[..., Path], contract: Callable[[Extracted, str], None]
) -> None:
    result, source = _read(write, LEADS, kind="ndjson")
    contract(result, source)
    assert result.frame["found_at"].to_list() == [
        "line 1, contacts[0]",
        "line 1, contacts[1]",
        "line 4, contacts[0]",
    ]
    assert result.frame["parent.url"].to_list() == ["https://maison-verdier.fr"] * 2 + [None]


def test_a_member_of_its_own_wins_over_the_parents_of_the_same_name(
    write: Callable[..., Path],
) -> None:
    records = [{"name": "Acme", "contacts": [{"parent.name": "mine", "name": "Ada"}]}]
    result, _ = _read(write, records)
    assert result.frame.select("name", "parent.name").rows() == [("Ada", "mine")]


BAD_ITEMS = [
    ("string", "a@x.com", "record 1, contacts[1]: a JSON string, not an object", '"a@x.com"'),
    ("number", 7, "record 1, contacts[1]: a JSON number, not an object", "7"),
    ("null", None, "record 1, contacts[1]: a JSON null, not an object", "null"),
    ("array", [1], "record 1, contacts[1]: a JSON array, not an object", "[1]"),
]


@pytest.mark.parametrize(
    ("item", "error", "raw"), [b[1:] for b in BAD_ITEMS], ids=[b[0] for b in BAD_ITEMS]
)
def test_a_nested_item_that_is_no_object_is_a_reject_naming_its_place(
    write: Callable[..., Path],
    contract: Callable[[Extracted, str], None],
    item: Any,
    error: str,
    raw: str,
) -> None:
    records = [{"name": "Acme", "contacts": [{"name": "Ada"}, item, {"name": "Bo"}]}]
    result, source = _read(write, records)
    contract(result, source)
    assert result.frame.select("name", "_row").rows() == [("Ada", 1), ("Bo", 3)]
    assert result.rejects.select("_source", "_row", "error", "raw").rows() == [
        (source, 2, error, raw)
    ]


NOT_ARRAYS = [
    ("object", {"name": "Ada"}, "a JSON object", '{"name":"Ada"}'),
    ("string", "Ada", "a JSON string", '"Ada"'),
    ("number", 3, "a JSON number", "3"),
]


@pytest.mark.parametrize(
    ("value", "what", "raw"), [n[1:] for n in NOT_ARRAYS], ids=[n[0] for n in NOT_ARRAYS]
)
def test_a_records_member_that_is_no_array_is_one_reject_for_its_record(
    write: Callable[..., Path],
    contract: Callable[[Extracted, str], None],
    value: Any,
    what: str,
    raw: str,
) -> None:
    records = [{"name": "Acme", "contacts": value}, {"name": "Bo", "contacts": [{"name": "B"}]}]
    result, source = _read(write, records)
    contract(result, source)
    assert result.rejects.select("_row", "error", "raw").rows() == [
        (1, f"record 1: 'contacts' holds {what}, not an array of objects", raw)
    ]
    assert result.frame.select("found_at", "_row").rows() == [("record 2, contacts[0]", 2)]


def test_top_level_rejects_keep_their_place_among_the_nested_rows(
    write: Callable[..., Path], contract: Callable[[Extracted, str], None]
) -> None:
    path = write(
        b'{"name": "A", "contacts": [{"name": "a1"}]}\n{broken\n'
        b'{"name": "B", "contacts": [{"name": "b1"}, {"name": "b2"}]}\n',
        "leads.ndjson",
    )
    result = read_source("ndjson", path, records="contacts")
    contract(result, str(path))
    assert result.frame.select("name", "_row").rows() == [("a1", 1), ("b1", 3), ("b2", 4)]
    assert result.rejects["_row"].to_list() == [2]
    assert result.rejects["error"][0].startswith("line 2: invalid JSON")


def test_a_member_no_record_has_is_a_source_error_with_the_nearest_name(
    write: Callable[..., Path],
) -> None:
    with pytest.raises(SourceError, match=r"no record has a member 'contact' \(did you mean "):
        _read(write, LEADS, member="contact")


def test_an_empty_file_reads_no_rows(write: Callable[..., Path]) -> None:
    result, _ = _read(write, [])
    assert result.rows_read == 0
    assert result.nested is not None and result.nested.parents == 0


def test_a_nested_object_nested_too_deeply_is_a_reject_the_others_load(
    write: Callable[..., Path], contract: Callable[[Extracted, str], None]
) -> None:
    deep: Any = "x"
    for _ in range(150):
        deep = {"d": deep}
    records = [{"name": "A", "contacts": [{"name": "a1"}, {"name": "a2", "x": deep}]}]
    result, source = _read(write, records)
    contract(result, source)
    assert result.frame["name"].to_list() == ["a1"]
    assert result.rejects["error"].to_list() == [
        "record 1, contacts[1]: JSON nested deeper than 100 levels"
    ]
