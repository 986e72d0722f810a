"""A JSON array read element by element, for a document one of whose records nests too deeply
for the parser (Python's raises RecursionError some thousand levels down).

The whole document cannot be parsed then, but its other records can: each element is parsed
on its own, and one the parser cannot take is stepped over by matching its brackets (strings
skipped whole), to become a rejected row while the others load. `too_deep` finds the records
whose values nest deeper than crmsync reads (MAX_VALUE_DEPTH), before polars is given them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from crmsync.errors import SourceError

# a string (escapes included) or a bracket: what matching brackets must see
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_SPACE = re.compile(r"[ \t\r\n]*")


class TooDeep:
    """An element of the array nested too deeply to parse."""

    __slots__ = ()


TOO_DEEP_ELEMENT = TooDeep()
# A record whose values nest deeper than this is a reject: nothing a CRM export holds is that
# deep, and neither polars nor turning it back into text copes (a minute, or out of stack).
MAX_VALUE_DEPTH = 100
Scan = Callable[[str, int], tuple[Any, int]]


def array_elements(text: str, scan: Scan, source: str) -> list[Any]:
    """The elements of the top-level array `text`, each parsed by `scan` (a JSON decoder's
    scan_once); TOO_DEEP_ELEMENT for one the parser cannot take. SourceError when `text` is
    not an array, or not JSON."""
    pos = _skip(text, 0)
    if not text.startswith("[", pos):
        raise SourceError("a JSON document nested too deeply to read", source=source)
    pos = _skip(text, pos + 1)
    elements: list[Any] = []
    if text.startswith("]", pos):
        return _ended(text, pos + 1, elements, source)
    while True:
        try:
            value, end = scan(text, pos)
        except RecursionError:
            value, end = TOO_DEEP_ELEMENT, _value_end(text, pos, source)
        except StopIteration:
            raise _invalid(text, pos, source) from None
        elements.append(value)
        pos = _skip(text, end)
        if text.startswith(",", pos):
            pos = _skip(text, pos + 1)
        elif text.startswith("]", pos):
            return _ended(text, pos + 1, elements, source)
        else:
            raise _invalid(text, pos, source)


def _ended(text: str, pos: int, elements: list[Any], source: str) -> list[Any]:
    if _skip(text, pos) != len(text):
        raise _invalid(text, _skip(text, pos), source)
    return elements


def _value_end(text: str, start: int, source: str) -> int:
    """Where the array or object opening at `start` ends."""
    depth = 0
    for token in _TOKEN.finditer(text, start):
        bracket = token.group()
        if bracket.startswith('"'):
            continue
        depth += 1 if bracket in "[{" else -1
        if depth == 0:
            return token.end()
    raise _invalid(text, len(text), source)


def _skip(text: str, pos: int) -> int:
    match = _SPACE.match(text, pos)
    return match.end() if match else pos


def _invalid(text: str, pos: int, source: str) -> SourceError:
    line = text.count("\n", 0, pos) + 1
    return SourceError(
        f"invalid JSON (column {pos - text.rfind(chr(10), 0, pos)})", source=source, line=line
    )


def too_deep(value: Any, limit: int = MAX_VALUE_DEPTH) -> bool:
    """True when `value` nests containers deeper than `limit` (walked without recursion)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth >= limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False
