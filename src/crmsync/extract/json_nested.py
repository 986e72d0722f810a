"""The records nested in a member of each JSON record, read one row per nested object.

Exports nest one kind of record in another: Close writes its leads (companies) with their
people in `contacts: [{...}, ...]`, other products an account with its `people`, a deal with
its contacts. With ``records: contacts`` each object of that array is a row of its own:

    its members         as a flat record's, nested ones by path (``emails[0].email``)
    parent.<member>     the scalar members of the record holding it (``parent.name``,
                        ``parent.custom.Industry``), so a lookup can find its company; a
                        member of its own of the same name wins
    found_at            where it is in the file: ``record 3, contacts[0]`` (JSON: the record's
                        1-based number, then the 0-based index in the array, as jq writes it;
                        NDJSON: ``line 3, contacts[0]``)

Invariant: every nested object is one row or one reject, and a reject names its place.
``_row`` numbers rows and rejects together in file order (1, 2, ...): a nested object has no
line of its own, and ``found_at`` says where it is. A record whose array is empty, null or
missing gives no row; they are counted (`NestedRead.without`) for the read line to say.
"""

from __future__ import annotations

import difflib
from typing import Any

from crmsync.errors import SourceError
from crmsync.extract.json_deep import MAX_VALUE_DEPTH, too_deep
from crmsync.extract.json_members import with_members
from crmsync.extract.json_values import dump, kind
from crmsync.extract.result import NestedRead

PARENT = "parent."
PLACE = "found_at"
NOT_OBJECT = "{place}: a JSON {kind}, not an object"
NOT_ARRAY = "{place}: {member!r} holds a JSON {kind}, not an array of objects"
TOO_DEEP = f"{{place}}: JSON nested deeper than {MAX_VALUE_DEPTH} levels"
# What the other JSON readers' rejects look like: parallel lists of row, error, raw text.
Rejected = tuple[list[int], list[str], list[str]]


def nested_records(
    source: str,
    member: str,
    word: str,
    top: tuple[list[int], list[dict[str, Any]]],
    rejected: Rejected,
) -> tuple[list[int], list[dict[str, Any]], Rejected, NestedRead]:
    """The rows nested in `member` of the top-level records `top` (their numbers, as `word`
    names them, and objects), with the top-level `rejected` renumbered among them.
    SourceError when no record has `member` at all: a misspelt name would read nothing."""
    rows, objects = top
    bad_rows, bad_errors, bad_raws = rejected
    events = sorted(
        [(n, i, True) for i, n in enumerate(rows)] + [(n, i, False) for i, n in enumerate(bad_rows)]
    )
    if objects and not any(member in obj for obj in objects):
        raise SourceError(_no_such_member(member, objects), source=source)
    out = _Rows()
    without = 0
    for number, index, is_object in events:
        place = f"{word} {number}"
        if not is_object:
            out.reject(f"{place}: {bad_errors[index]}", bad_raws[index])
            continue
        record = objects[index]
        value = record.get(member)
        if value is None or value == []:
            without += 1
        elif not isinstance(value, list):
            out.reject(NOT_ARRAY.format(place=place, member=member, kind=kind(value)), dump(value))
        elif too_deep({key: item for key, item in record.items() if key != member}):
            out.reject(TOO_DEEP.format(place=place), "")  # its own members: no parent to give
        else:
            parent = _parent_members(record, member)
            for position, item in enumerate(value):
                where = f"{place}, {member}[{position}]"
                if not isinstance(item, dict):
                    out.reject(NOT_OBJECT.format(place=where, kind=kind(item)), dump(item))
                elif too_deep(item):
                    out.reject(TOO_DEEP.format(place=where), "")
                else:
                    out.row({PLACE: where, **item, **_free(parent, item)})
    read = NestedRead(member=member, parents=len(objects), without=without)
    return out.rows, out.objects, (out.bad_rows, out.errors, out.raws), read


class _Rows:
    """Rows and rejects numbered together, in the order they are found."""

    def __init__(self) -> None:
        self.rows: list[int] = []
        self.objects: list[dict[str, Any]] = []
        self.bad_rows: list[int] = []
        self.errors: list[str] = []
        self.raws: list[str] = []
        self._next = 1

    def row(self, item: dict[str, Any]) -> None:
        self.rows.append(self._take())
        self.objects.append(item)

    def reject(self, error: str, raw: str) -> None:
        self.bad_rows.append(self._take())
        self.errors.append(error)
        self.raws.append(raw)

    def _take(self) -> int:
        self._next += 1
        return self._next - 1


def _parent_members(record: dict[str, Any], member: str) -> dict[str, Any]:
    """The record's scalar members (nested ones by path), prefixed, without `member`'s own."""
    own = (f"{member}.", f"{member}[")
    return {
        PARENT + key: value
        for key, value in with_members(record).items()
        if key != member and not key.startswith(own) and not isinstance(value, dict | list)
    }


def _free(parent: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """`parent`'s members whose names the nested object does not use itself."""
    if not any(key.startswith(PARENT) for key in item):
        return parent
    return {key: value for key, value in parent.items() if key not in item}


def _no_such_member(member: str, objects: list[dict[str, Any]]) -> str:
    arrays = list(
        dict.fromkeys(key for obj in objects for key, value in obj.items() if _array(value))
    )
    close = difflib.get_close_matches(member, arrays, n=1, cutoff=0.5)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    found = ", ".join(repr(key) for key in arrays) or "none"
    return (
        f"records: no record has a member {member!r}{hint}; the records' arrays of objects: {found}"
    )


def _array(value: Any) -> bool:
    return isinstance(value, list) and any(isinstance(item, dict) for item in value)
