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
