"""The query string of `GET /contacts.json`, read with Redmine's rules.

Paging (Redmine core's api_offset_and_limit): `limit` defaults to 25, below 1 becomes 25, above
100 is capped at 100; an explicit `offset` wins, else `offset = (page - 1) * limit`; numbers are
read the way Ruby's `to_i` reads them (`"12abc"` is 12, `"abc"` is 0). Order: `last_name,
first_name` unless `sort` names known columns (`id`, `id:desc`, ...). Filters: `assigned_to_id`
(an id, or `me`: the sandbox's API user, id 1), `tags` (`a|b` all must match, `!vip` excludes),
`search` (every word must match a name, the company, an email, a phone or the job title),
`is_company`, `city`, `country` (name or code), `created_on` / `updated_on` (`>=T`, `<=T`,
`><T1|T2`, `=DAY`). A malformed value is a 422 with Redmine's `{"errors": [...]}`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
ME_USER_ID = 1  # `assigned_to_id=me`: the user every sandbox key logs in as
SORTABLE = frozenset({"id", "first_name", "last_name", "created_on", "updated_on"})
DEFAULT_ORDER: tuple[tuple[str, bool], ...] = (("last_name", False), ("first_name", False))
TRUE_FLAGS = frozenset({"1", "true"})
FALSE_FLAGS = frozenset({"0", "false"})
TAG_ALL = "|"
TAG_NOT = "!"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
DAY_START, DAY_END = "T00:00:00Z", "T23:59:59Z"
_RUBY_INT = re.compile(r"^\s*([+-]?\d+)")
_TIME_FILTER = re.compile(r"^(>=|<=|><|=)?(.+)$")
FILTER_LABELS = {"created_on": "Created", "updated_on": "Updated"}


class QueryError(ValueError):
    """A filter value Redmine would refuse (422); the message is Redmine's kind of message."""


@dataclass(frozen=True)
class TimeRange:
    """Inclusive bounds as `YYYY-MM-DDTHH:MM:SSZ` (compared as text: the stored format)."""

    low: str | None
    high: str | None


@dataclass(frozen=True)
class ContactQuery:
    offset: int = 0
    limit: int = DEFAULT_LIMIT
    order: tuple[tuple[str, bool], ...] = DEFAULT_ORDER  # (column, descending)
    nometa: bool = False
    project: str | None = None  # an id or identifier, resolved by the store
    assigned_to_id: int | None = None
    tags_all: tuple[str, ...] = ()
    tags_none: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    is_company: bool | None = None
    city: str | None = None
    country: str | None = None
    times: dict[str, TimeRange] = field(default_factory=dict)


def ruby_to_i(text: str | None) -> int:
    """Ruby's String#to_i: the leading integer, else 0."""
    match = _RUBY_INT.match(text or "")
    return int(match.group(1)) if match else 0


def paging(params: Mapping[str, str]) -> tuple[int, int]:
    """(offset, limit) by Redmine core's rules."""
    limit = ruby_to_i(params.get("limit"))
    if limit < 1:
        limit = DEFAULT_LIMIT
    limit = min(limit, MAX_LIMIT)
    if params.get("offset", "").strip():
        return max(0, ruby_to_i(params["offset"])), limit
    if params.get("page", "").strip():
        return max(0, (ruby_to_i(params["page"]) - 1) * limit), limit
    return 0, limit


def parse_query(params: Mapping[str, str], *, project: str | None = None) -> ContactQuery:
    offset, limit = paging(params)
    tags = [part.strip() for part in params.get("tags", "").split(TAG_ALL) if part.strip()]
    return ContactQuery(
        offset=offset,
        limit=limit,
        order=_order(params.get("sort", "")),
        nometa=params.get("nometa", "") in TRUE_FLAGS,
        project=project or params.get("project_id") or None,
        assigned_to_id=_assignee(params.get("assigned_to_id")),
        tags_all=tuple(t.casefold() for t in tags if not t.startswith(TAG_NOT)),
        tags_none=tuple(t[1:].strip().casefold() for t in tags if t.startswith(TAG_NOT)),
        words=tuple(word.casefold() for word in params.get("search", "").split()),
        is_company=_flag(params.get("is_company")),
        city=params.get("city") or None,
        country=params.get("country") or None,
        times={
            name: _time_range(params[name], FILTER_LABELS[name])
            for name in FILTER_LABELS
            if params.get(name, "").strip()
        },
    )


def _order(sort: str) -> tuple[tuple[str, bool], ...]:
    order: list[tuple[str, bool]] = []
    for part in sort.split(","):
        name, _, direction = part.strip().partition(":")
        if name in SORTABLE:
            order.append((name, direction.strip().lower() == "desc"))
    return tuple(order) or DEFAULT_ORDER


def _assignee(value: str | None) -> int | None:
    if value is None or not value.strip():
        return None
    if value.strip() == "me":
        return ME_USER_ID
    if not value.strip().isdigit():
        raise QueryError("Assignee is invalid")
    return int(value)


def _flag(value: str | None) -> bool | None:
    word = (value or "").strip().lower()
    if word in TRUE_FLAGS:
        return True
    if word in FALSE_FLAGS:
        return False
    return None


def _time_range(value: str, label: str) -> TimeRange:
    match = _TIME_FILTER.match(value.strip())
    if match is None:
        raise QueryError(f"{label} is invalid")
    operator, operand = match.group(1) or "=", match.group(2)
    if operator == "><":
        low, _, high = operand.partition("|")
        return TimeRange(
            normalize_time(low, label, DAY_START), normalize_time(high, label, DAY_END)
        )
    if operator == ">=":
        return TimeRange(normalize_time(operand, label, DAY_START), None)
    if operator == "<=":
        return TimeRange(None, normalize_time(operand, label, DAY_END))
    return TimeRange(
        normalize_time(operand, label, DAY_START), normalize_time(operand, label, DAY_END)
    )


def normalize_time(text: str, label: str = "Time", day_part: str = DAY_START) -> str:
    """`2025-01-01`, `2025-01-01T10:00:00+02:00`, ... -> `YYYY-MM-DDTHH:MM:SSZ` (UTC)."""
    text = text.strip()
    try:
        if len(text) == len("YYYY-MM-DD"):
            return date.fromisoformat(text).isoformat() + day_part
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise QueryError(f"{label} is not a valid date") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(TIMESTAMP_FORMAT)
