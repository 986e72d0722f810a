"""The members of a JSON record's nested objects, as columns of their own.

CRM exports taken from an API nest a record's fields: HubSpot's `{"id": ..., "properties":
{"email": ..., "firstname": ...}}`, Salesforce's `{"Name": ..., "Account": {"Name": ...}}`. Each
member of a nested object becomes a column named by its path, `properties.email`, as dlt and
pandas' `json_normalize` name them, so such a file maps like a flat one. The object itself
stays a column too (its compact JSON text), so a pipeline that mapped it still reads it.
Arrays are values, not paths: a list of tags stays one cell.
"""

from __future__ import annotations

from typing import Any

SEPARATOR = "."
# The objects APIs keep a record's fields in (HubSpot's properties, Airtable's fields,
# Intercom's custom_attributes), compared in lower case without punctuation.
FIELD_CONTAINERS = frozenset(
    {"properties", "fields", "data", "values", "customattributes", "customfields"}
)


def with_members(record: dict[str, Any]) -> dict[str, Any]:
    """`record` and, after each nested object, its members by path (deeper ones too). A key
    the record spells out itself ("address.city" at the top) wins over the path of the same
    name."""
    if not any(type(value) is dict for value in record.values()):
        return record
    out: dict[str, Any] = {}
    for key, value in record.items():
        out[key] = value
        if type(value) is dict:
            _add_members(out, key, value, record)
    return out


def _add_members(
    out: dict[str, Any], prefix: str, members: dict[str, Any], record: dict[str, Any]
) -> None:
    for key, value in members.items():
        path = f"{prefix}{SEPARATOR}{key}"
        if path not in record:
            out.setdefault(path, value)
        if type(value) is dict:
            _add_members(out, path, value, record)


def field_member(column: str) -> str | None:
    """The field name of a column nested in a field container (`properties.email`: email),
    which names the field as a flat export would; None for other columns. Other paths name
    their field only whole: Salesforce's `Account.Name` is the account's name, never the
    contact's."""
    parent, _, member = column.rpartition(SEPARATOR)
    container = "".join(c for c in parent.rpartition(SEPARATOR)[2].lower() if c.isalnum())
    return member if container in FIELD_CONTAINERS and member.strip() else None
