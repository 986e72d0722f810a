"""Redmine CRM contacts from their JSON and XML shapes, current and older, into the model.

Accepted, because real servers and old exports differ: phones and emails as
objects (`{"number": ..}`, `<phone><number>`) or plain strings (`<phone>text</phone>`), or one
comma-separated `phone`/`email` string; `tag_list` as an array or a `", "`-joined string, or
`tags` (older versions); custom fields with one value or `multiple` with an array;
`full_address` as a string or an object. A record that cannot be a contact at all (not an
object, no integer id) raises RecordError with the reason: the reader keeps it as a reject.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from xml.etree.ElementTree import Element

from crmsync.extract.redmine.model import (
    Address,
    Contact,
    CustomField,
    Note,
    Project,
    UserRef,
)

TRUE_WORDS = frozenset({"true", "1", "yes", "t", "y"})
FALSE_WORDS = frozenset({"false", "0", "no", "f", "n", ""})
LIST_SEPARATOR = ","
ADDRESS_PARTS = ("street", "city", "region", "postcode", "country", "country_code")


class RecordError(ValueError):
    """One record is not a readable contact (or note); the message says why."""


# One record of a source: its 1-based position, its raw text, and the contact or why not.
Record = tuple[int, str, Contact | RecordError]


# -- JSON ----------------------------------------------------------------------------------------


def contact_from_json(obj: Any) -> Contact:
    """A contact from a decoded JSON object (a list item, or the body of `{"contact": ..}`)."""
    if not isinstance(obj, dict):
        raise RecordError(f"a contact must be a JSON object, not {_kind(obj)}")
    address = obj.get("address")
    return Contact(
        id=_int(obj.get("id"), "id", required=True),  # type: ignore[arg-type]
        is_company=_bool(obj.get("is_company"), "is_company"),
        first_name=_text(obj.get("first_name"), "first_name"),
        last_name=_text(obj.get("last_name"), "last_name"),
        middle_name=_text(obj.get("middle_name"), "middle_name"),
        company=_text(obj.get("company"), "company"),
        website=_text(obj.get("website"), "website"),
        skype_name=_text(obj.get("skype_name"), "skype_name"),
        birthday=_text(obj.get("birthday"), "birthday"),
        job_title=_text(obj.get("job_title"), "job_title"),
        background=_text(obj.get("background"), "background"),
        avatar_id=_avatar_json(obj.get("avatar")),
        author=_user_json(obj.get("author"), "author"),
        assigned_to=_user_json(obj.get("assigned_to"), "assigned_to"),
        address=_address_json(address) if address is not None else None,
        phones=_entries_json(obj.get("phones"), obj.get("phone"), "number", "phones"),
        emails=_entries_json(obj.get("emails"), obj.get("email"), "address", "emails"),
        tags=_tags_json(obj["tag_list"] if "tag_list" in obj else obj.get("tags")),
        custom_fields=tuple(_custom_field_json(item) for item in _list(obj, "custom_fields")),
        created_on=_text(obj.get("created_on"), "created_on"),
        updated_on=_text(obj.get("updated_on"), "updated_on"),
        projects=tuple(_project_json(item) for item in _list(obj, "projects")),
        notes=tuple(note_from_json(item) for item in obj["notes"] or ())
        if "notes" in obj
        else None,
    )


def note_from_json(obj: Any) -> Note:
    if not isinstance(obj, dict):
        raise RecordError(f"a note must be a JSON object, not {_kind(obj)}")
    return Note(
        id=_int(obj.get("id"), "note id"),
        content=_text(obj.get("content"), "note content"),
        type_id=_int(obj.get("type_id"), "note type_id"),
        author=_user_json(obj.get("author"), "note author"),
        created_on=_text(obj.get("created_on"), "note created_on"),
        updated_on=_text(obj.get("updated_on"), "note updated_on"),
    )


def _list(obj: dict[str, Any], key: str) -> list[Any]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise RecordError(f"{key}: expected an array, found {_kind(value)}")
    return value


def _avatar_json(value: Any) -> int | None:
    if isinstance(value, dict):
        return _int(value.get("attachment_id"), "avatar")
    return None


def _user_json(value: Any, field: str) -> UserRef | None:
    if value is None:
        return None
    if isinstance(value, str):
        return UserRef(id=None, name=value)
    if not isinstance(value, dict):
        raise RecordError(f"{field}: expected an object, found {_kind(value)}")
    return UserRef(id=_int(value.get("id"), f"{field} id"), name=_text(value.get("name"), field))


def _address_json(value: Any) -> Address:
    if not isinstance(value, dict):
        raise RecordError(f"address: expected an object, found {_kind(value)}")
    full = value.get("full_address")
    if isinstance(full, dict):  # some versions nest the whole address record in JSON
        full = full.get("full_address")
    parts = {name: _text(value.get(name), f"address {name}") for name in ADDRESS_PARTS}
    if parts["street"] is None and "street1" in value:
        parts["street"] = _text(value.get("street1"), "address street1")
    return Address(**parts, full_address=_text(full, "address full_address"))


def _entries_json(items: Any, joined: Any, key: str, field: str) -> tuple[str, ...]:
    """Phones or emails: `[{"number": x}]`, `["x"]`, or one comma-separated string."""
    if items is None:
        return split_list(_text(joined, field))
    if isinstance(items, str):
        return split_list(items)
    if not isinstance(items, list):
        raise RecordError(f"{field}: expected an array, found {_kind(items)}")
    values: list[str] = []
    for item in items:
        raw = item.get(key) if isinstance(item, dict) else item
        text = _text(raw, field)
        if text and text.strip():
            values.append(text.strip())
    return tuple(values)


def _tags_json(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return split_list(value)
    if not isinstance(value, list):
        raise RecordError(f"tag_list: expected an array or a string, found {_kind(value)}")
    names = (item.get("name") if isinstance(item, dict) else item for item in value)
    return tuple(text.strip() for text in (_text(n, "tag_list") for n in names) if text)


def _custom_field_json(item: Any) -> CustomField:
    if not isinstance(item, dict):
        raise RecordError(f"custom_fields: expected objects, found {_kind(item)}")
    name = _text(item.get("name"), "custom field name") or f"custom field {item.get('id')}"
    raw = item.get("value")
    multiple = bool(item.get("multiple")) or isinstance(raw, list)
    value: str | tuple[str, ...] | None
    if isinstance(raw, list):
        value = tuple(text for text in (_field_text(v, name) for v in raw) if text is not None)
    else:
        value = _field_text(raw, name)
    return CustomField(
        id=_int(item.get("id"), f"{name} id"), name=name, value=value, multiple=multiple
    )


def _project_json(item: Any) -> Project:
    if not isinstance(item, dict):
        raise RecordError(f"projects: expected objects, found {_kind(item)}")
    return Project(
        id=_int(item.get("id"), "project id", required=True),  # type: ignore[arg-type]
        name=_text(item.get("name"), "project name"),
        identifier=_text(item.get("identifier"), "project identifier"),
    )


# -- XML -----------------------------------------------------------------------------------------


def contact_from_xml(elem: Element) -> Contact:
    """A contact from its `<contact>` element (current or older shape)."""
    if elem.tag != "contact":
        raise RecordError(f"expected a <contact> element, found <{elem.tag}>")
    address = elem.find("address")
    tags = elem.find("tag_list")
    if tags is None:
        tags = elem.find("tags")
    notes = elem.find("notes")
    return Contact(
        id=_int(_child(elem, "id"), "id", required=True),  # type: ignore[arg-type]
        is_company=_bool(_child(elem, "is_company"), "is_company"),
        first_name=_child(elem, "first_name"),
        last_name=_child(elem, "last_name"),
        middle_name=_child(elem, "middle_name"),
        company=_child(elem, "company"),
        website=_child(elem, "website"),
        skype_name=_child(elem, "skype_name"),
        birthday=_child(elem, "birthday"),
        job_title=_child(elem, "job_title"),
        background=_child(elem, "background"),
        avatar_id=_avatar_xml(elem.find("avatar")),
        author=_user_xml(elem.find("author"), "author"),
        assigned_to=_user_xml(elem.find("assigned_to"), "assigned_to"),
        address=_address_xml(address) if address is not None else None,
        phones=_entries_xml(elem, "phones", "phone", "number"),
        emails=_entries_xml(elem, "emails", "email", "address"),
        tags=_tags_xml(tags),
        custom_fields=tuple(_custom_field_xml(item) for item in _items(elem.find("custom_fields"))),
        created_on=_child(elem, "created_on"),
        updated_on=_child(elem, "updated_on"),
        projects=tuple(_project_xml(item) for item in _items(elem.find("projects"))),
        notes=tuple(note_from_xml(item) for item in notes) if notes is not None else None,
    )


def note_from_xml(elem: Element) -> Note:
    return Note(
        id=_int(_child(elem, "id"), "note id"),
        content=_child(elem, "content"),
        type_id=_int(_child(elem, "type_id"), "note type_id"),
        author=_user_xml(elem.find("author"), "note author"),
        created_on=_child(elem, "created_on"),
        updated_on=_child(elem, "updated_on"),
    )


def _child(elem: Element, name: str) -> str | None:
    """The text of a child element; None when it is missing or empty (`<last_name/>`)."""
    child = elem.find(name)
    if child is None or not child.text:
        return None
    return child.text


def _items(elem: Element | None) -> list[Element]:
    return [] if elem is None else list(elem)


def _avatar_xml(elem: Element | None) -> int | None:
    return None if elem is None else _int(elem.get("attachment_id"), "avatar")


def _user_xml(elem: Element | None, field: str) -> UserRef | None:
    if elem is None:
        return None
    name = elem.get("name")
    if name is None and elem.text and elem.text.strip():
        name = elem.text.strip()
    return UserRef(id=_int(elem.get("id"), f"{field} id"), name=name)


def _address_xml(elem: Element) -> Address:
    parts = {name: _child(elem, name) for name in ADDRESS_PARTS}
    if parts["street"] is None:
        parts["street"] = _child(elem, "street1")
    return Address(**parts, full_address=_child(elem, "full_address"))


def _entries_xml(elem: Element, group: str, item: str, key: str) -> tuple[str, ...]:
    """`<phones><phone><number>x</number></phone>` or `<phones><phone>x</phone>`."""
    container = elem.find(group)
    if container is None:
        return split_list(_child(elem, item))
    values: list[str] = []
    for entry in container:
        inner = entry.find(key)
        text = inner.text if inner is not None else entry.text
        if text and text.strip():
            values.append(text.strip())
    return tuple(values)


def _tags_xml(elem: Element | None) -> tuple[str, ...]:
    if elem is None:
        return ()
    children = list(elem)
    if not children:
        return split_list(elem.text)
    names = (child.get("name") or child.text for child in children)
    return tuple(name.strip() for name in names if name and name.strip())


def _custom_field_xml(elem: Element) -> CustomField:
    name = elem.get("name") or f"custom field {elem.get('id')}"
    value_elem = elem.find("value")
    multiple = elem.get("multiple") == "true"
    value: str | tuple[str, ...] | None
    if value_elem is None:
        value = elem.text if elem.text and elem.text.strip() else None
    elif value_elem.get("type") == "array" or len(value_elem):
        multiple = True
        value = tuple(item.text for item in value_elem if item.text)
    else:
        value = value_elem.text
    return CustomField(
        id=_int(elem.get("id"), f"{name} id"), name=name, value=value, multiple=multiple
    )


def _project_xml(elem: Element) -> Project:
    return Project(
        id=_int(elem.get("id") or _child(elem, "id"), "project id", required=True),  # type: ignore[arg-type]
        name=elem.get("name") or _child(elem, "name"),
        identifier=elem.get("identifier") or _child(elem, "identifier"),
    )


# -- values --------------------------------------------------------------------------------------


def _field_text(value: Any, name: str) -> str | None:
    """A custom field's value as text; one in a shape Redmine does not document (an object,
    an array inside the array) as its compact JSON: a plugin's field the pipeline may not
    even map must not fail every contact that has it."""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return _text(value, name)


def split_list(text: str | None) -> tuple[str, ...]:
    """`"a, b,,c"` -> `("a", "b", "c")`: how Redmine joins phones, emails and tags in text."""
    if not text:
        return ()
    return tuple(part.strip() for part in text.split(LIST_SEPARATOR) if part.strip())


def join_list(values: Iterable[str]) -> str:
    return ", ".join(values)


def _text(value: Any, field: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise RecordError(f"{field}: expected text, found {_kind(value)}")


def _int(value: Any, field: str, *, required: bool = False) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise RecordError(f"{field}: missing")
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise RecordError(f"{field}: expected an integer, found {value!r}")


def _bool(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise RecordError(f"{field}: expected true or false, found {value!r}")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    return "a number"
