"""The members of a JSON record's nested objects, as columns of their own.

CRM exports taken from an API nest a record's fields: HubSpot's `{"id": ..., "properties":
{"email": ..., "firstname": ...}}`, Salesforce's `{"Name": ..., "Account": {"Name": ...}}`. Each
member of a nested object becomes a column named by its path, `properties.email`, as dlt and
pandas' `json_normalize` name them, so such a file maps like a flat one. The object itself
stays a column too (its compact JSON text), so a pipeline that mapped it still reads it.

Arrays are values, not paths: a list of tags stays one cell. An array of objects (Close's
`emails: [{"type": "office", "email": ...}, ...]`) also gives the members of its first object,
`emails[0].email`: the first is the one a CRM lists first, its primary, and one column per
element would make a column per length of list.
"""

from __future__ import annotations

from typing import Any

SEPARATOR = "."
FIRST = "[0]"  # the path of an array's first element, as jq and JavaScript write it
# The objects APIs keep a record's fields in (HubSpot's properties, Airtable's fields,
# Intercom's custom_attributes), compared in lower case without punctuation.
FIELD_CONTAINERS = frozenset(
    {"properties", "fields", "data", "values", "customattributes", "customfields"}
)
# Arrays of a record's own values (Close's emails, phones, urls, addresses): the member of
# their first object names the field, `emails[0].email` is the email. Singular -> plural.
VALUE_ARRAYS = {
    "email": "emails",
    "phone": "phones",
    "url": "urls",
    "website": "websites",
    "address": "addresses",
}


def with_members(record: dict[str, Any]) -> dict[str, Any]:
    """`record` and, after each nested object (and array of objects), its members by path
    (deeper ones too). A key the record spells out itself ("address.city" at the top) wins
    over the path of the same name."""
    if not any(type(value) is dict or _objects(value) for value in record.values()):
        return record
    out: dict[str, Any] = {}
    for key, value in record.items():
        out[key] = value
        _add_members(out, key, value, record)
    return out


def _objects(value: Any) -> bool:
    """An array whose first element is an object."""
    return type(value) is list and bool(value) and type(value[0]) is dict


def _add_members(out: dict[str, Any], prefix: str, value: Any, record: dict[str, Any]) -> None:
    if type(value) is dict:
        members: dict[str, Any] = value
        separator = SEPARATOR
    elif _objects(value):
        members = value[0]
        separator = FIRST + SEPARATOR
    else:
        return
    for key, member in members.items():
        path = f"{prefix}{separator}{key}"
        if path not in record:
            out.setdefault(path, member)
        _add_members(out, path, member, record)


def field_member(column: str) -> str | None:
    """The field name of a column nested in a field container (`properties.email`: email) or
    in an array of the field's values (`emails[0].email`: email; `addresses[0].city`: city),
    which names the field as a flat export would; None for other columns. Other paths name
    their field only whole: Salesforce's `Account.Name` is the account's name, never the
    contact's."""
    parent, _, member = column.rpartition(SEPARATOR)
    if not member.strip():
        return None
    *above, last = parent.split(SEPARATOR)
    if any(part.endswith(FIRST) for part in above):
        return None  # `contacts[0].emails[0].email`: another record's (a lead's first contact)
    if last.endswith(FIRST):
        array = _key(last.removesuffix(FIRST))
        if array in (VALUE_ARRAYS.get(_key(member)), VALUE_ARRAYS["address"]):
            return member
        return None
    return member if _key(last) in FIELD_CONTAINERS else None


def _key(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())
