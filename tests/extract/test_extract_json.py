"""JSON arrays and NDJSON: values as their JSON text, rejects per record, errors with lines."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from crmsync.errors import SourceError
from crmsync.extract import Extracted, read_source
from crmsync.extract.json_members import field_member

MIXED = b"""[
  {"email": "a@x.com", "score": 42, "ratio": 1.10, "vip": true, "tags": ["a", "b"],
   "address": {"city": "K\\u00f6ln", "zip": "50667", "geo": [50.9, 6.96]}},
  {"email": "b@x.com", "score": null, "vip": false, "id": 12345678901234567890, "note": ""},
  "not an object",
  {"email": "c@x.com", "score": -1e3, "tags": []},
  [1, 2]
]"""


def test_json_array_mixed_types_and_nested(
    write: Callable[..., Path], contract: Callable[[Extracted, str], None]
) -> None:
    path = write(MIXED, "contacts.json")
    result = read_source("json", path)
    contract(result, str(path))
    assert result.columns == (
        "email", "score", "ratio", "vip", "tags", "address", "address.city", "address.zip",
        "address.geo", "id", "note",
    )  # fmt: skip
    assert result.delimiter is None
    assert result.frame.drop("_source").rows() == [
        (
            "a@x.com",
            "42",
            "1.10",
            "true",
            '["a","b"]',
            '{"city":"Köln","zip":"50667","geo":[50.9,6.96]}',
            "Köln",
            "50667",
            "[50.9,6.96]",
            None,
            None,
            1,
        ),
        ("b@x.com", None, None, "false", None, *[None] * 4, "12345678901234567890", None, 2),
        ("c@x.com", "-1e3", None, None, "[]", *[None] * 4, None, None, 4),
    ]
    assert result.rejects.drop("_source").rows() == [
        (3, "record is a JSON string, not an object", '"not an object"'),
        (5, "record is a JSON array, not an object", "[1,2]"),
    ]


WRAPPED = [
    ("redmine-export", b'{"contacts": [{"id": 1}, {"id": 2}], "total_count": 2, "limit": 25}'),
    ("single-member", b'{"data": [{"id": 1}, {"id": 2}]}'),
    ("plain-array", b'[{"id": 1}, {"id": 2}]'),
]


@pytest.mark.parametrize("content", [w[1] for w in WRAPPED], ids=[w[0] for w in WRAPPED])
def test_json_wrapper_object_with_one_array(write: Callable[..., Path], content: bytes) -> None:
    result = read_source("json", write(content, "c.json"))
    assert result.frame.drop("_source").rows() == [("1", 1), ("2", 2)]


BAD_JSON = [
    ("syntax-error-line", b'[\n  {"a": 1},\n  {"a": 2,}\n]', 3, "invalid JSON"),
    ("truncated", b'[{"a": 1},\n{"a": ', 2, "invalid JSON"),
    ("two-arrays", b'{"a": [], "b": []}', 1, "exactly one array"),
    ("no-array", b'{"a": 1}', 1, "exactly one array"),
    ("scalar", b"42", 1, "found a number"),
]


@pytest.mark.parametrize(
    ("content", "line", "message"), [b[1:] for b in BAD_JSON], ids=[b[0] for b in BAD_JSON]
)
def test_json_invalid_is_a_source_error_with_line(
    write: Callable[..., Path], content: bytes, line: int, message: str
) -> None:
    path = write(content, "c.json")
    with pytest.raises(SourceError, match=message) as caught:
        read_source("json", path)
    assert caught.value.line == line


@pytest.mark.parametrize(
    "content", [b"", b"  \n", b"[]"], ids=["empty", "whitespace", "empty-array"]
)
def test_json_empty(write: Callable[..., Path], content: bytes) -> None:
    result = read_source("json", write(content, "c.json"))
    assert (result.frame.height, result.rejects.height, result.columns) == (0, 0, ())


def test_json_encodings(write: Callable[..., Path]) -> None:
    text = '[{"name": "Jürgen", "city": "Zürich €"}]'
    for content, encoding in [
        (text.encode("utf-16"), "utf-16"),
        (b"\xef\xbb\xbf" + text.encode(), "utf-8-sig"),
        (text.encode("cp1252"), "cp1252"),
    ]:
        result = read_source("json", write(content, "c.json"))
        assert result.encoding == encoding
        assert result.frame.drop("_source").rows() == [("Jürgen", "Zürich €", 1)]


NDJSON = (
    b'{"email": "a@x.com", "n": 1}\n'
    b"\n"
    b'{"email": "b@x.com", "n": 2.50, "x": {"y": null}}\r\n'
    b'{"email": "c@x.com", oops}\n'
    b"   \n"
    b"[1, 2]\n"
    b'{"email": "d@x.com"}'
)


def test_ndjson_bad_lines_are_rejects_with_their_line(
    write: Callable[..., Path], contract: Callable[[Extracted, str], None]
) -> None:
    path = write(NDJSON, "c.ndjson")
    result = read_source("ndjson", path)
    contract(result, str(path))
    assert result.columns == ("email", "n", "x", "x.y")
    assert result.frame.drop("_source").rows() == [
        ("a@x.com", "1", None, None, 1),
        ("b@x.com", "2.50", '{"y":null}', None, 3),
        ("d@x.com", None, None, None, 7),
    ]
    rejects = result.rejects.drop("_source").rows()
    assert [(row, raw) for row, _, raw in rejects] == [
        (4, '{"email": "c@x.com", oops}'),
        (6, "[1, 2]"),
    ]
    assert rejects[0][1].startswith("invalid JSON")
    assert rejects[1][1] == "record is a JSON array, not an object"


@pytest.mark.parametrize(
    ("content", "line"),
    [
        (b'[\n  {\n    "a": 1\n  }\n]\n', 1),
        (b'\n[\n  {"a": 1},\n  {"a": 2}\n]\n', 2),
        (b"\n\nemail,name\na@x.com,Ann\n", 3),
    ],
    ids=["pretty-printed-json", "one-object-per-line-json-array", "csv-given-as-ndjson"],
)
def test_ndjson_with_no_object_at_all_is_a_source_error(
    write: Callable[..., Path], content: bytes, line: int
) -> None:
    with pytest.raises(SourceError, match="use kind: json") as caught:
        read_source("ndjson", write(content, "c.ndjson"))
    assert caught.value.line == line


def test_ndjson_empty_file(write: Callable[..., Path]) -> None:
    result = read_source("ndjson", write(b"\n\n", "c.ndjson"))
    assert (result.frame.height, result.rejects.height) == (0, 0)


@pytest.mark.parametrize("nested_at", [None, 0, 499], ids=["flat", "nested-first", "nested-late"])
def test_json_values_same_whichever_way_columns_are_built(
    write: Callable[..., Path], nested_at: int | None
) -> None:
    records = [
        {"id": i, "ok": i % 2 == 0, "score": 0.5 + i, "name": f"n{i}" if i % 3 else ""}
        for i in range(500)
    ]
    if nested_at is not None:
        records[nested_at]["extra"] = {"k": [1, None]}
    result = read_source("json", write(json.dumps(records), "c.json"))
    frame = result.frame
    assert frame["ok"].to_list()[:2] == ["true", "false"]
    assert frame["id"].to_list()[-1] == "499"
    assert frame["score"].to_list()[1] == "1.5"
    assert frame["name"].to_list()[:2] == [None, "n1"]
    assert frame["_row"].to_list() == list(range(1, 501))
    if nested_at is not None:
        assert frame["extra"].to_list()[nested_at] == '{"k":[1,null]}'
        assert frame["extra"].null_count() == 499


def test_source_is_the_path_as_given(
    write: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(b'{"a": 1}\n', "rel.ndjson")
    monkeypatch.chdir(path.parent)
    result = read_source("ndjson", "rel.ndjson")
    assert result.frame["_source"].to_list() == ["rel.ndjson"]


def test_nested_members_are_columns_named_by_their_path(write: Callable[..., Path]) -> None:
    """An API's record nests its fields (HubSpot's properties): each member is a column of its
    own, deeper ones too; the object stays a column; a key the record spells out wins; an
    array of objects also gives its first object's members."""
    content = (
        b'[{"id": 1, "properties": {"email": "a@x.com", "firstname": "Ada",'
        b' "owner": {"name": "Kim"}}, "properties.email": "given@x.com"},'
        b' {"id": 2, "properties": "not an object here", "tags": [{"k": 1}]}]'
    )
    result = read_source("json", write(content, "c.json"))
    assert result.columns == (
        "id", "properties", "properties.firstname", "properties.owner",
        "properties.owner.name", "properties.email", "tags", "tags[0].k",
    )  # fmt: skip
    rows = result.frame.drop("_source", "_row").rows()
    assert rows[0] == (
        "1",
        '{"email":"a@x.com","firstname":"Ada","owner":{"name":"Kim"}}',
        "Ada",
        '{"name":"Kim"}',
        "Kim",
        "given@x.com",  # spelled out in the record: not its nested member's value
        None,
        None,
    )
    assert rows[1] == ("2", "not an object here", None, None, None, None, '[{"k":1}]', "1")


def test_an_array_of_objects_gives_its_first_objects_members(write: Callable[..., Path]) -> None:
    """Close nests a contact's emails as [{type, email}]: the first is a column of its own,
    `emails[0].email`; an empty array or an array of strings gives none."""
    content = (
        b'[{"name": "Ada", "emails": [{"type": "office", "email": "a@x.com"},'
        b' {"type": "home", "email": "a@home.com"}], "tags": ["x"]},'
        b' {"name": "Bo", "emails": []}]'
    )
    result = read_source("json", write(content, "c.json"))
    assert result.columns == ("name", "emails", "emails[0].type", "emails[0].email", "tags")
    rows = result.frame.select("emails[0].email", "tags").rows()
    assert rows == [("a@x.com", '["x"]'), (None, None)]


FIELD_MEMBERS = [
    ("properties.email", "email"),
    ("emails[0].email", "email"),
    ("phones[0].phone", "phone"),
    ("addresses[0].city", "city"),
    ("emails[0].type", None),
    ("contacts[0].name", None),  # another record's name, not this one's
    ("contacts[0].emails[0].email", None),
    ("properties.emails[0].email", "email"),
    ("Account.Name", None),
    ("name", None),
]


@pytest.mark.parametrize(("column", "field"), FIELD_MEMBERS, ids=[c for c, _ in FIELD_MEMBERS])
def test_field_member_names_the_field_only_where_the_path_holds_the_records_own(
    column: str, field: str | None
) -> None:
    assert field_member(column) == field
