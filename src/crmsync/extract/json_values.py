"""JSON values as the text a cell holds: what the JSON readers, flat and nested, share.

Numbers keep the spelling they were written in (``1.10`` stays ``1.10``, a 20-digit id keeps
every digit): the decoder makes them `Number`, a str that remembers it was a number.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any


class Number(str):
    """A JSON number kept as the text it was written as."""

    __slots__ = ()


def column(objects: Iterable[dict[str, Any]], key: str) -> list[str | None]:
    """One column of `objects`, each value as its cell's text."""
    return [text(obj.get(key)) for obj in objects]


def text(value: Any) -> str | None:
    """A value as a cell: strings as they are, containers as compact JSON, null as None."""
    if type(value) is str:
        return value
    if value is None:
        return None
    if isinstance(value, Number):
        return str.__str__(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    return dump(value)


def dump(value: Any) -> str:
    """Compact JSON, numbers in their original spelling."""
    if isinstance(value, Number):
        return str.__str__(value)
    if isinstance(value, dict):
        members = (f"{_string(k)}:{dump(v)}" for k, v in value.items())
        return "{" + ",".join(members) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dump(v) for v in value) + "]"
    if isinstance(value, str):
        return _string(value)
    return json.dumps(value)  # true, false, null


def _string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def kind(value: Any) -> str:
    """The JSON type of a value, as messages name it (number, string, array, ...)."""
    if isinstance(value, Number):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    if isinstance(value, list):
        return "array"
    return "object"
