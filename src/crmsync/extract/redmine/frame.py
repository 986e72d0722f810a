"""The one frame every Redmine reader yields: its columns, and contacts flattened into rows.

All values are text (``pl.String``, blank -> null) so the API, the JSON and XML files and the
CSV export give identical frames for the same data; ``_source``/``_row`` say where each row
came from. Lists are flattened the way people read them: the first email in ``email`` and the
rest in ``other_emails`` (``", "``-joined), tags ``", "``-joined, custom fields as one compact
JSON object ``{"name": value or [values]}`` with blank values left out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Literal

import polars as pl

from crmsync.extract.redmine.model import Contact, CustomField, Note
from crmsync.extract.redmine.parse import join_list
from crmsync.extract.result import ROW_COL, SOURCE_COL, Extracted, make_rejects

Entity = Literal["contacts", "notes"]
ENTITIES: tuple[Entity, ...] = ("contacts", "notes")

CONTACT_COLUMNS = (
    "id",
    "is_company",
    "first_name",
    "middle_name",
    "last_name",
    "company",
    "job_title",
    "email",
    "other_emails",
    "phone",
    "other_phones",
    "website",
    "skype_name",
    "birthday",
    "background",
    "street",
    "city",
    "region",
    "postcode",
    "country",
    "country_code",
    "tags",
    "assigned_to_id",
    "assigned_to_name",
    "author_name",
    "custom_fields",
    "created_on",
    "updated_on",
)

NOTE_COLUMNS = (
    "id",
    "contact_id",
    "contact_is_company",
    "contact_email",
    "contact_name",
    "content",
    "type_id",
    "author_name",
    "created_on",
    "updated_on",
)

Row = dict[str, str | None]


def columns_of(entity: Entity) -> tuple[str, ...]:
    if entity == "contacts":
        return CONTACT_COLUMNS
    if entity == "notes":
        return NOTE_COLUMNS
    raise ValueError(f"unknown Redmine entity {entity!r}: expected contacts or notes")


def flag(value: bool | None) -> str | None:
    """is_company as text: "true"/"false" (None: the source does not say)."""
    return None if value is None else ("true" if value else "false")


def custom_fields_json(fields: Sequence[CustomField]) -> str | None:
    """`{"License": "x", "Industries": ["a", "b"]}`, keys sorted; None when all are blank."""
    values: dict[str, str | list[str]] = {}
    for field in fields:
        if field.is_blank():
            continue
        value = field.value
        values[field.name] = list(value) if isinstance(value, tuple) else value or ""
    return custom_fields_text(values)


def custom_fields_text(values: Mapping[str, str | list[str]]) -> str | None:
    if not values:
        return None
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def contact_row(contact: Contact) -> Row:
    """One contacts-frame row (values not yet blank-nulled)."""
    address = contact.address
    author, assignee = contact.author, contact.assigned_to
    return {
        "id": str(contact.id),
        "is_company": flag(contact.is_company),
        "first_name": contact.first_name,
        "middle_name": contact.middle_name,
        "last_name": contact.last_name,
        "company": contact.company,
        "job_title": contact.job_title,
        "email": contact.emails[0] if contact.emails else None,
        "other_emails": join_list(contact.emails[1:]),
        "phone": contact.phones[0] if contact.phones else None,
        "other_phones": join_list(contact.phones[1:]),
        "website": contact.website,
        "skype_name": contact.skype_name,
        "birthday": contact.birthday,
        "background": contact.background,
        "street": address.street if address else None,
        "city": address.city if address else None,
        "region": address.region if address else None,
        "postcode": address.postcode if address else None,
        "country": address.country if address else None,
        "country_code": address.country_code if address else None,
        "tags": join_list(contact.tags),
        "assigned_to_id": _id_text(assignee.id if assignee else None),
        "assigned_to_name": assignee.name if assignee else None,
        "author_name": author.name if author else None,
        "custom_fields": custom_fields_json(contact.custom_fields),
        "created_on": contact.created_on,
        "updated_on": contact.updated_on,
    }


def note_rows(contact: Contact) -> list[Row]:
    """The notes-frame rows of one contact, in the order the source gave its notes."""
    return [note_row(contact, note) for note in contact.notes or ()]


def note_row(contact: Contact, note: Note) -> Row:
    """One notes-frame row: the note, and who it is about."""
    return {
        "id": _id_text(note.id),
        "contact_id": str(contact.id),
        "contact_is_company": flag(contact.is_company),
        "contact_email": contact.emails[0] if contact.emails else None,
        "contact_name": contact.name,
        "content": note.content,
        "type_id": _id_text(note.type_id),
        "author_name": note.author.name if note.author else None,
        "created_on": note.created_on,
        "updated_on": note.updated_on,
    }


def _id_text(value: int | None) -> str | None:
    return None if value is None else str(value)


class FrameBuilder:
    """Collects rows and rejects in source order, then makes the Extracted."""

    def __init__(self, entity: Entity) -> None:
        self.columns = columns_of(entity)
        self._values: dict[str, list[str | None]] = {name: [] for name in self.columns}
        self._sources: list[str] = []
        self._rows: list[int] = []
        self._reject_sources: list[str] = []
        self._reject_rows: list[int] = []
        self._errors: list[str] = []
        self._raws: list[str] = []

    def add(self, row: Row, *, source: str, position: int) -> None:
        for name in self.columns:
            value = row.get(name)
            self._values[name].append(value if value else None)  # "" -> null, as in a CSV
        self._sources.append(source)
        self._rows.append(position)

    def reject(self, *, source: str, position: int, error: str, raw: str) -> None:
        self._reject_sources.append(source)
        self._reject_rows.append(position)
        self._errors.append(error)
        self._raws.append(raw)

    def build(self, *, encoding: str = "utf-8", delimiter: str | None = None) -> Extracted:
        schema: dict[str, pl.DataType] = {name: pl.String() for name in self.columns}
        schema[SOURCE_COL] = pl.String()
        schema[ROW_COL] = pl.Int64()
        data: dict[str, list[str | None] | list[str] | list[int]] = dict(self._values)
        data[SOURCE_COL] = self._sources
        data[ROW_COL] = self._rows
        frame = pl.DataFrame(data, schema=schema)
        rejects = make_rejects("", [], [], [])
        if self._errors:
            rejects = make_rejects("", self._reject_rows, self._errors, self._raws)
            rejects = rejects.with_columns(pl.Series(SOURCE_COL, self._reject_sources))
        return Extracted(
            frame=frame,
            rejects=rejects,
            columns=self.columns,
            encoding=encoding,
            delimiter=delimiter,
        )
