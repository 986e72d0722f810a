"""Redmine CRM export files: the JSON and XML list formats, and the CSV exports.

JSON and XML hold whole contacts (and their notes when the export included them): they are
parsed into the shared model, then flattened. `_row` is the contact's 1-based record number
(entity contacts) or the note's 1-based position among all notes in the file (entity notes; an
unreadable contact takes one position as a reject there). CSV exports carry no notes.
XML goes through the standard library's expat parser, which refuses external entities and,
from expat 2.4.1 on, entity-expansion bombs.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal
from xml.etree import ElementTree

from crmsync.errors import SourceError
from crmsync.extract.encoding import decode, read_bytes
from crmsync.extract.redmine.csv_export import read_csv_export
from crmsync.extract.redmine.frame import (
    Entity,
    FrameBuilder,
    columns_of,
    contact_row,
    note_rows,
)
from crmsync.extract.redmine.parse import Record, RecordError, contact_from_json, contact_from_xml
from crmsync.extract.result import Extracted

log = logging.getLogger(__name__)

ExportFormat = Literal["json", "xml", "csv", "auto"]
SUFFIXES: dict[str, ExportFormat] = {".json": "json", ".xml": "xml", ".csv": "csv", ".txt": "csv"}
SNIFF_BYTES = 512
XML_DECLARATION = re.compile(rb"""^\s*<\?xml[^>]*\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
XML_DEFAULT_ENCODING = "utf-8"
TOO_DEEP = "nested too deeply to be a contact"
NO_NOTES_IN_CSV = (
    "%s: a CSV export has no notes; read notes from the JSON or XML export (with notes inside "
    "each contact) or from the API"
)
NO_NOTES_INCLUDED = (
    "%s: no contact carries notes (a list export leaves them out); export with include=notes "
    "or read notes from the API"
)


def read_redmine_export(
    path: str | Path,
    *,
    entity: Entity = "contacts",
    format: ExportFormat = "auto",
    encoding: str | None = None,
) -> Extracted:
    """Read a Redmine CRM export file into the contacts or notes frame.

    `format="auto"` goes by the suffix (.json, .xml, .csv/.txt), else by the first byte.
    `encoding=None` detects it (CSV and JSON; XML follows its own declaration).
    """
    columns_of(entity)  # an unknown entity fails before the file is read
    source = str(path)
    kind = _format_of(path, format, source)
    if kind == "csv":
        if entity == "notes":
            log.warning(NO_NOTES_IN_CSV, source)
            return FrameBuilder("notes").build()
        return read_csv_export(path, encoding=encoding)
    data = read_bytes(path, source)
    if kind == "json":
        decoded = decode(data, encoding, source)
        records = json_records(decoded.data, source)
        used = decoded.encoding
    else:
        records = xml_records(data, source)
        used = _declared_encoding(data)  # the parser follows the file's own declaration
    return _build(records, entity, source, used)


def _format_of(path: str | Path, format: ExportFormat, source: str) -> ExportFormat:
    if format != "auto":
        if format not in SUFFIXES.values():
            raise ValueError(f"unknown export format {format!r}: expected json, xml, csv or auto")
        return format
    by_suffix = SUFFIXES.get(Path(path).suffix.lower())
    if by_suffix is not None:
        return by_suffix
    head = read_bytes(path, source)[:SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:1] in (b"{", b"["):
        return "json"
    if head[:1] == b"<":
        return "xml"
    return "csv"


def _build(records: Iterator[Record], entity: Entity, source: str, encoding: str) -> Extracted:
    builder = FrameBuilder(entity)
    notes_seen = 0
    any_notes = False
    for number, raw, contact in records:
        if isinstance(contact, RecordError):
            if entity == "notes":
                notes_seen += 1
                number = notes_seen
            builder.reject(source=source, position=number, error=str(contact), raw=raw)
        elif entity == "contacts":
            builder.add(contact_row(contact), source=source, position=number)
        else:
            any_notes = any_notes or contact.notes is not None
            for row in note_rows(contact):
                notes_seen += 1
                builder.add(row, source=source, position=notes_seen)
    if entity == "notes" and not any_notes:
        log.warning(NO_NOTES_INCLUDED, source)
    return builder.build(encoding=encoding)


def json_records(data: bytes, source: str) -> Iterator[Record]:
    try:
        document = json.loads(data)
    except json.JSONDecodeError as exc:
        raise SourceError(f"invalid JSON: {exc.msg}", source=source, line=exc.lineno) from None
    except RecursionError:
        raise SourceError(TOO_DEEP, source=source) from None
    for number, item in enumerate(_json_items(document, source), start=1):
        try:
            raw = json.dumps(item, ensure_ascii=False)
            yield number, raw, contact_from_json(item)
        except RecordError as exc:
            yield number, raw, exc
        except RecursionError:
            yield number, "", RecordError(TOO_DEEP)


def _json_items(document: Any, source: str) -> list[Any]:
    """`{"contacts": [...]}` (the list answer), `{"contact": {...}}`, or a bare array."""
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        if isinstance(document.get("contacts"), list):
            return list(document["contacts"])
        if isinstance(document.get("contact"), dict):
            return [document["contact"]]
    raise SourceError(
        'not a Redmine CRM contacts export: expected {"contacts": [...]} or an array',
        source=source,
    )


def xml_records(data: bytes, source: str) -> Iterator[Record]:
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        line = exc.position[0] if exc.position else None
        raise SourceError(f"invalid XML: {exc}", source=source, line=line) from None
    if root.tag == "contact":
        items = [root]
    elif root.tag == "contacts":
        items = list(root)
    else:
        raise SourceError(
            f"not a Redmine CRM contacts export: the root element is <{root.tag}>, "
            "expected <contacts>",
            source=source,
        )
    for number, item in enumerate(items, start=1):
        try:
            raw = ElementTree.tostring(item, encoding="unicode")
            yield number, raw, contact_from_xml(item)
        except RecordError as exc:
            yield number, raw, exc
        except RecursionError:
            yield number, "", RecordError(TOO_DEEP)


def _declared_encoding(data: bytes) -> str:
    match = XML_DECLARATION.match(data[:SNIFF_BYTES].lstrip(b"\xef\xbb\xbf"))
    return match.group(1).decode("ascii").lower() if match else XML_DEFAULT_ENCODING
