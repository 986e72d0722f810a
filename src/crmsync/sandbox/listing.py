"""The list endpoint's query string: limit, offset, updatedSince, fields (every object alike)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from crmsync.sandbox.errors import HTTP_BAD_REQUEST, ApiError
from crmsync.schema import MAX_BULK, RallyObject

DEFAULT_LIMIT = 50
MAX_LIMIT = MAX_BULK  # Rally pages hold at most 100 records, like a bulk request
_DIGITS = re.compile(r"[0-9]{1,9}")
_ALWAYS = "id"


@dataclass(frozen=True)
class ListQuery:
    """A validated list request; `fields` None means every field."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0
    since_us: int | None = None
    fields: tuple[str, ...] | None = None


def parse_list_query(obj: RallyObject, params: Mapping[str, str]) -> ListQuery:
    """Read the query string, refusing (400) what Rally would not understand."""
    limit = _integer(params, "limit", DEFAULT_LIMIT)
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(HTTP_BAD_REQUEST, f"limit: must be between 1 and {MAX_LIMIT}")
    offset = _integer(params, "offset", 0)
    since = params.get("updatedSince")
    return ListQuery(
        limit=limit,
        offset=offset,
        since_us=None if since is None else _timestamp_us(since),
        fields=_fields(obj, params.get("fields")),
    )


def _integer(params: Mapping[str, str], name: str, default: int) -> int:
    value = params.get(name)
    if value is None:
        return default
    if not _DIGITS.fullmatch(value.strip()):
        raise ApiError(HTTP_BAD_REQUEST, f"{name}: must be a non-negative integer")
    return int(value)


def _timestamp_us(value: str) -> int:
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ApiError(
            HTTP_BAD_REQUEST, "updatedSince: must be an ISO-8601 time, e.g. 2025-06-10T14:30:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _fields(obj: RallyObject, value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    wanted = [name.strip() for name in value.split(",") if name.strip()]
    if not wanted:
        return None
    known = set(obj.response_fields)
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise ApiError(
            HTTP_BAD_REQUEST,
            f"fields: unknown {obj.name} field(s) {', '.join(unknown)};"
            f" known: {', '.join(sorted(known))}",
        )
    return (_ALWAYS, *dict.fromkeys(name for name in wanted if name != _ALWAYS))
