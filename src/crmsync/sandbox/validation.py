"""Request bodies in, readable messages out: JSON parsing and pydantic errors as one line.

The rules themselves live in crmsync.schema (the one definition); this module only words
their failures so a user reads "email: invalid email address: ..." rather than a trace.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from crmsync.sandbox.errors import HTTP_BAD_REQUEST, ApiError

_PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")


def parse_json(body: bytes) -> Any:
    """The decoded body; malformed JSON is the client's error (400), never a 500."""
    if not body.strip():
        raise ApiError(HTTP_BAD_REQUEST, "request body is empty: expected JSON")
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise ApiError(HTTP_BAD_REQUEST, f"malformed JSON: {exc}") from None


def parse_object(body: bytes) -> dict[str, Any]:
    """The body of a single-record write: a JSON object, else 400."""
    data = parse_json(body)
    if not isinstance(data, dict):
        raise ApiError(HTTP_BAD_REQUEST, "request body must be a JSON object")
    return data


def describe(exc: ValidationError) -> str:
    """Every problem of one record, each naming its field by its camelCase wire name."""
    parts = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        message = error["msg"]
        for prefix in _PYDANTIC_PREFIXES:
            message = message.removeprefix(prefix)
        if message[:1].isupper() and message[1:2].islower():  # "Field required", not "URL"
            message = message[:1].lower() + message[1:]
        where = ".".join(str(part) for part in error["loc"])
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)
