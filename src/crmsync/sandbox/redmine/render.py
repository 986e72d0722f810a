"""Contacts as Redmine CRM writes them: JSON and XML, list and show, current and older XML shapes.

Key names and omissions follow the plugin's views: `avatar`, `author`, `assigned_to` are left
out when null; `phones`/`emails` when empty; `country_code` when the address is blank. XML
carries the same names, `tag_list` as one `", "`-joined string, and list metadata as attributes
of `<contacts type="array">`. The older XML shape (`<phone>text</phone>`, `<tags>`) is written only
for sample files, to test the readers against it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal
from xml.etree import ElementTree
from xml.etree.ElementTree import Element, SubElement

from crmsync.extract.redmine.model import Contact, CustomField, Note, UserRef

XmlShape = Literal["current", "older"]
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
XML_INDENT = "  "
TAG_JOIN = ", "


def list_meta(*, total: int, offset: int, limit: int) -> dict[str, int]:
    return {"total_count": total, "offset": offset, "limit": limit}


# -- JSON ----------------------------------------------------------------------------------------


def contact_json(
    contact: Contact,
    *,
    show: bool = False,
    notes: Sequence[Note] | None = None,
    people: Sequence[tuple[int, str]] | None = None,
    project_identifiers: bool = False,
) -> dict[str, Any]:
    """One contact: the list item, or with `show` the `GET /contacts/:id` body (projects).

    `notes` / `people` add `include=notes` / `include=contacts`; `project_identifiers` keeps the
    project slugs (the sandbox's own storage, not the wire).
    """
    c = contact
    body: dict[str, Any] = {"id": c.id}
    if c.avatar_id is not None:
        body["avatar"] = {"attachment_id": c.avatar_id}
    body.update(
        is_company=c.is_company,
        first_name=c.first_name,
        last_name=c.last_name,
        middle_name=c.middle_name,
        company=c.company,
        website=c.website,
        skype_name=c.skype_name,
        birthday=c.birthday,
        job_title=c.job_title,
        background=c.background,
    )
    if c.author is not None:
        body["author"] = _user_json(c.author)
    if c.assigned_to is not None:
        body["assigned_to"] = _user_json(c.assigned_to)
    if c.address is not None:
        a = c.address
        address: dict[str, Any] = {
            "full_address": a.full_text(),
            "street": a.street,
            "city": a.city,
            "region": a.region,
            "country": a.country,
        }
        if not a.is_blank():
            address["country_code"] = a.country_code
        address["postcode"] = a.postcode
        body["address"] = address
    if c.phones:
        body["phones"] = [{"number": number} for number in c.phones]
    if c.emails:
        body["emails"] = [{"address": address} for address in c.emails]
    body["tag_list"] = list(c.tags)
    body["custom_fields"] = [_custom_field_json(field) for field in c.custom_fields]
    body["created_on"] = c.created_on
    body["updated_on"] = c.updated_on
    if show:
        body["projects"] = [
            {"id": p.id, "name": p.name}
            | ({"identifier": p.identifier} if project_identifiers and p.identifier else {})
            for p in c.projects
        ]
    if notes is not None:
        body["notes"] = [note_json(note) for note in notes]
    if people is not None:
        body["contacts"] = [{"id": pid, "name": name} for pid, name in people]
    return body


def note_json(note: Note) -> dict[str, Any]:
    body: dict[str, Any] = {"id": note.id, "content": note.content, "type_id": note.type_id}
    if note.author is not None:
        body["author"] = _user_json(note.author)
    body["created_on"] = note.created_on
    body["updated_on"] = note.updated_on
    return body


def _user_json(user: UserRef) -> dict[str, Any]:
    return {"id": user.id, "name": user.name}


def _custom_field_json(field: CustomField) -> dict[str, Any]:
    body: dict[str, Any] = {"id": field.id, "name": field.name}
    if field.multiple:
        body["multiple"] = True
        value = field.value
        body["value"] = list(value) if isinstance(value, tuple) else [value] if value else []
    else:
        body["value"] = field.value
    return body


# -- XML -----------------------------------------------------------------------------------------


def contacts_xml(items: Sequence[Element], *, meta: dict[str, int] | None) -> bytes:
    """`<contacts type="array" total_count=.. offset=.. limit=..>` around the items."""
    root = Element("contacts", {"type": "array"})
    for name, value in (meta or {}).items():
        root.set(name, str(value))
    root.extend(items)
    return xml_bytes(root)


def xml_bytes(root: Element) -> bytes:
    ElementTree.indent(root, space=XML_INDENT)
    body: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=False)
    return XML_DECLARATION + body


def contact_xml(
    contact: Contact,
    *,
    show: bool = False,
    notes: Sequence[Note] | None = None,
    people: Sequence[tuple[int, str]] | None = None,
    shape: XmlShape = "current",
) -> Element:
    c = contact
    elem = Element("contact")
    _leaf(elem, "id", str(c.id))
    if c.avatar_id is not None:
        SubElement(elem, "avatar", {"attachment_id": str(c.avatar_id)})
    _leaf(elem, "is_company", "true" if c.is_company else "false")
    for name in (
        "first_name",
        "last_name",
        "middle_name",
        "company",
        "website",
        "skype_name",
        "birthday",
    ):
        _leaf(elem, name, getattr(c, name))
    if c.address is not None:
        a = c.address
        address = SubElement(elem, "address")
        _leaf(address, "full_address", a.full_text())
        for name in ("street", "city", "region", "country"):
            _leaf(address, name, getattr(a, name))
        if not a.is_blank():
            _leaf(address, "country_code", a.country_code)
        _leaf(address, "postcode", a.postcode)
    _leaf(elem, "job_title", c.job_title)
    _leaf(elem, "background", c.background)
    _user_xml(elem, "author", c.author)
    _user_xml(elem, "assigned_to", c.assigned_to)
    _entries_xml(elem, "phones", "phone", "number", c.phones, shape)
    _entries_xml(elem, "emails", "email", "address", c.emails, shape)
    _leaf(elem, "tag_list" if shape == "current" else "tags", TAG_JOIN.join(c.tags))
    fields = SubElement(elem, "custom_fields", {"type": "array"})
    for field in c.custom_fields:
        _custom_field_xml(fields, field)
    _leaf(elem, "created_on", c.created_on)
    _leaf(elem, "updated_on", c.updated_on)
    if show:
        projects = SubElement(elem, "projects", {"type": "array"})
        for project in c.projects:
            SubElement(projects, "project", {"id": str(project.id), "name": project.name or ""})
    if notes is not None:
        container = SubElement(elem, "notes", {"type": "array"})
        for note in notes:
            container.append(note_xml(note))
    if people is not None:
        container = SubElement(elem, "contacts", {"type": "array"})
        for pid, name in people:
            SubElement(container, "contact", {"id": str(pid), "name": name})
    return elem


def note_xml(note: Note) -> Element:
    elem = Element("note")
    _leaf(elem, "id", None if note.id is None else str(note.id))
    _leaf(elem, "content", note.content)
    _leaf(elem, "type_id", None if note.type_id is None else str(note.type_id))
    _user_xml(elem, "author", note.author)
    _leaf(elem, "created_on", note.created_on)
    _leaf(elem, "updated_on", note.updated_on)
    return elem


def errors_xml(messages: Sequence[str]) -> bytes:
    root = Element("errors", {"type": "array"})
    for message in messages:
        _leaf(root, "error", message)
    return xml_bytes(root)


def _leaf(parent: Element, name: str, text: str | None) -> None:
    SubElement(parent, name).text = text or None


def _user_xml(parent: Element, name: str, user: UserRef | None) -> None:
    if user is not None:
        attrs = {"id": "" if user.id is None else str(user.id), "name": user.name or ""}
        SubElement(parent, name, attrs)


def _entries_xml(
    parent: Element, group: str, item: str, key: str, values: Sequence[str], shape: XmlShape
) -> None:
    if not values:
        return
    container = SubElement(parent, group, {"type": "array"})
    for value in values:
        if shape == "current":
            _leaf(SubElement(container, item), key, value)
        else:
            _leaf(container, item, value)


def _custom_field_xml(parent: Element, field: CustomField) -> None:
    attrs = {"id": "" if field.id is None else str(field.id), "name": field.name}
    if field.multiple:
        attrs["multiple"] = "true"
    elem = SubElement(parent, "custom_field", attrs)
    value = field.value
    if field.multiple:
        values = SubElement(elem, "value", {"type": "array"})
        for part in value if isinstance(value, tuple) else (value,) if value else ():
            _leaf(values, "value", part)
    else:
        _leaf(elem, "value", value if isinstance(value, str) else None)
