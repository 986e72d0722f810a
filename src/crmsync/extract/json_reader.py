"""JSON (an array of objects) and NDJSON (one object per line) sources.

Values become text exactly as they were written: strings as they are (``""`` -> null, as an
empty CSV cell), numbers in their JSON spelling (``1.10`` stays ``1.10``, a 20-digit id keeps
every digit), ``true``/``false``, nested objects and arrays as compact JSON; each member of a
nested object is also a column of its own, ``address.city`` (``json_members``). Columns are the
union of keys, in first-seen order.

Row identity: JSON ``_row`` is the 1-based position in the array; NDJSON ``_row`` is the
physical line (blank lines skipped but counted).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from itertools import chain
from pathlib import Path
from typing import Any

import polars as pl

from crmsync.errors import SourceError
from crmsync.extract.encoding import decode, read_bytes
from crmsync.extract.json_deep import MAX_VALUE_DEPTH, TOO_DEEP_ELEMENT, array_elements, too_deep
from crmsync.extract.json_members import with_members
from crmsync.extract.json_nested import nested_records
from crmsync.extract.json_values import Number, column, dump, kind
from crmsync.extract.result import (
    ROW_COL,
    SOURCE_COL,
    Extracted,
    column_names,
    empty_rejects,
    gc_paused,
    make_rejects,
)

NOT_OBJECT = "record is a JSON {}, not an object"
INVALID_JSON = "invalid JSON"
TOO_DEEP = f"JSON nested deeper than {MAX_VALUE_DEPTH} levels"
NDJSON_HINT = " (NDJSON holds one JSON object per line; for a JSON document use kind: json)"


_DECODER = json.JSONDecoder(parse_float=Number, parse_int=Number, parse_constant=Number)
_loads: Callable[[str], Any] = _DECODER.decode
# scan_once is the decoder's documented-by-use scanner; typeshed does not declare it.
_scan: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]


def _parse_line(text: str) -> Any:
    """One stripped NDJSON line: the C scanner directly (a third faster than ``decode``'s
    wrapper on a million lines); ``decode`` only to raise the error with its message."""
    try:
        value, end = _scan(text, 0)
    except StopIteration:
        end = -1
    if end == len(text):
        return value
    return _loads(text)  # raises JSONDecodeError: what is wrong, and at which column


def read_json(
    path: str | Path, *, encoding: str | None = None, records: str | None = None
) -> Extracted:
    """A top-level array of objects, or an object with exactly one array member.

    The wrapper form is accepted because exports come that way: Redmine's
    ``{"contacts": [...], "total_count": 3, "offset": 0, "limit": 25}``; its other, scalar
    members are ignored. A non-object element is a reject; invalid JSON is a SourceError with
    the line. With `records`, the rows are the objects nested in that member of each record
    (``json_nested``).
    """
    with gc_paused():
        return _read_json(path, encoding, records)


def read_ndjson(
    path: str | Path, *, encoding: str | None = None, records: str | None = None
) -> Extracted:
    """One JSON object per line; a bad line is a reject with its line number.

    When not a single line holds a JSON object, or the file opens with an unparseable ``[``
    line, it is not NDJSON at all (a pretty-printed JSON document, a CSV given the wrong kind):
    that is a SourceError at the first bad line, rather than a report of rejected lines.
    `records` as for `read_json`.
    """
    with gc_paused():
        return _read_ndjson(path, encoding, records)


def _read_json(path: str | Path, encoding: str | None, records: str | None) -> Extracted:
    source = str(path)
    decoded = decode(read_bytes(path, source), encoding, source)
    text = decoded.data.decode("utf-8")
    if not text.strip():
        return _build(source, [], [], decoded.encoding, empty_rejects())
    try:
        items = _records_of(_loads(text), source)
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"{INVALID_JSON}: {exc.msg} (column {exc.colno})", source=source, line=exc.lineno
        ) from None
    except RecursionError:  # one record too deep for the parser: the others still load
        items = array_elements(text, _scan, source)
    rows: list[int] = []
    objects: list[dict[str, Any]] = []
    bad_rows: list[int] = []
    errors: list[str] = []
    raws: list[str] = []
    for number, item in enumerate(items, start=1):
        if isinstance(item, dict):
            rows.append(number)
            objects.append(item)
        elif item is TOO_DEEP_ELEMENT or too_deep(item):
            bad_rows.append(number)
            errors.append(TOO_DEEP)
            raws.append("")
        else:
            bad_rows.append(number)
            errors.append(NOT_OBJECT.format(kind(item)))
            raws.append(dump(item))
    return _built(
        source, records, "record", (rows, objects), decoded.encoding, (bad_rows, errors, raws)
    )


def _read_ndjson(path: str | Path, encoding: str | None, records: str | None) -> Extracted:
    source = str(path)
    decoded = decode(read_bytes(path, source), encoding, source)
    text = decoded.data.decode("utf-8")
    rows: list[int] = []
    objects: list[dict[str, Any]] = []
    bad_rows: list[int] = []
    errors: list[str] = []
    raws: list[str] = []
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        try:
            item = _parse_line(stripped)
        except json.JSONDecodeError as exc:
            bad_rows.append(number)
            errors.append(f"{INVALID_JSON}: {exc.msg} (column {exc.colno})")
            raws.append(line.rstrip("\r"))
            continue
        except RecursionError:
            bad_rows.append(number)
            errors.append(TOO_DEEP)
            raws.append(line.rstrip("\r"))
            continue
        if isinstance(item, dict):
            rows.append(number)
            objects.append(item)
        else:
            bad_rows.append(number)
            errors.append(NOT_OBJECT.format(kind(item)))
            raws.append(line.rstrip("\r"))
    if bad_rows and (not rows or _opens_a_document(bad_rows, errors, raws, rows)):
        raise SourceError(
            f"not NDJSON: line {bad_rows[0]}: {errors[0]}{NDJSON_HINT}",
            source=source,
            line=bad_rows[0],
        )
    return _built(
        source, records, "line", (rows, objects), decoded.encoding, (bad_rows, errors, raws)
    )


def _built(
    source: str,
    records: str | None,
    word: str,
    top: tuple[list[int], list[dict[str, Any]]],
    encoding: str,
    rejected: tuple[list[int], list[str], list[str]],
) -> Extracted:
    """The top-level records' frame, or with `records` the frame of the records nested in
    them (`word` names a top-level record's number: record, line)."""
    if records is None:
        return _build_checked(source, *top, encoding, rejected)
    rows, objects, nested_rejected, read = nested_records(source, records, word, top, rejected)
    extracted = _build_checked(source, rows, objects, encoding, nested_rejected)
    return dataclasses.replace(extracted, nested=read)


def _build_checked(
    source: str,
    rows: list[int],
    objects: list[dict[str, Any]],
    encoding: str,
    rejected: tuple[list[int], list[str], list[str]],
) -> Extracted:
    """`_build`, after moving the records nested too deeply to the rejects: polars took a
    minute to refuse one value nested 900 deep. Looked for only when some value is an object
    or an array (one pass over the values' types: 0.4 s for ten million)."""
    bad_rows, errors, raws = rejected
    types = set(map(type, chain.from_iterable(item.values() for item in objects)))
    if dict in types or list in types:
        kept_rows: list[int] = []
        kept: list[dict[str, Any]] = []
        for row, item in zip(rows, objects, strict=True):
            if too_deep(item):
                bad_rows.append(row)
                errors.append(TOO_DEEP)
                raws.append("")
            else:
                kept_rows.append(row)
                kept.append(with_members(item))
        rows, objects = kept_rows, kept
    order = sorted(range(len(bad_rows)), key=bad_rows.__getitem__)
    rejects = make_rejects(
        source,
        [bad_rows[i] for i in order],
        [errors[i] for i in order],
        [raws[i] for i in order],
    )
    return _build(source, rows, objects, encoding, rejects)


def _opens_a_document(
    bad_rows: list[int], errors: list[str], raws: list[str], rows: list[int]
) -> bool:
    """The first content line is a bare ``[``-something that is not JSON: a JSON document."""
    first_bad_first = not rows or bad_rows[0] < rows[0]
    return (
        first_bad_first and raws[0].lstrip().startswith("[") and errors[0].startswith(INVALID_JSON)
    )


def _records_of(document: Any, source: str) -> list[Any]:
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        arrays = [key for key, value in document.items() if isinstance(value, list)]
        if len(arrays) == 1:
            return document[arrays[0]]  # type: ignore[no-any-return]
        found = ", ".join(repr(k) for k in arrays) or "none"
        raise SourceError(
            "expected a JSON array of objects, or an object with exactly one array member "
            f"(array members found: {found})",
            source=source,
            line=1,
        )
    raise SourceError(
        f"expected a JSON array of objects, found a {kind(document)}", source=source, line=1
    )


def _build(
    source: str,
    rows: list[int],
    objects: list[dict[str, Any]],
    encoding: str,
    rejects: pl.DataFrame,
) -> Extracted:
    keys = list(dict.fromkeys(chain.from_iterable(objects)))  # union, first-seen order
    names = column_names(keys)
    try:
        # numbers are already text (Number), booleans become "true"/"false": polars
        # transposes the dicts far faster than Python does
        values = pl.from_dicts(objects, schema=dict.fromkeys(keys, pl.String))
    except (pl.exceptions.PolarsError, TypeError, ValueError):
        values = pl.DataFrame(  # nested values: made compact JSON text one by one
            {str(i): pl.Series(column(objects, key), dtype=pl.String) for i, key in enumerate(keys)}
        )
    frame = values.select(
        *[
            pl.when(pl.col(old).str.len_bytes() > 0).then(pl.col(old)).alias(new)
            for old, new in zip(values.columns, names, strict=True)
        ],
        pl.lit(source, pl.String).alias(SOURCE_COL),
        pl.Series(ROW_COL, rows, dtype=pl.Int64),
    )
    return Extracted(frame, rejects, tuple(names), encoding, None)
