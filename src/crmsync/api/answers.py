"""What Rally's answers say, read defensively: the error a refused request becomes, a list of
records, the Date header; how large an answer may be; and the tenant root the client's paths
hang under."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from crmsync.api.http import redirect_hint, server_message
from crmsync.api.retry import RETRY_AFTER_STATUSES, Verdict, parse_retry_after
from crmsync.errors import (
    AmbiguousError,
    AuthError,
    CrmsyncError,
    RequestRefused,
    RetryableError,
)

API_PREFIX = "/api/v1"
PAGE_LIMIT = 100  # the most a Rally list returns at once
HTTP_REDIRECT_MIN, HTTP_REDIRECT_MAX = 300, 399
# The most an answer may hold. Rally's documents set no length on a record's text fields, so a
# record is allowed this much; a list holds at most its limit of them, a bulk answer an id or
# an error per record sent.
MAX_RECORD_BYTES = 256 * 1024
MAX_BULK_ANSWER_BYTES = 1024 * 1024


def api_root(base_url: str) -> str:
    """The tenant root without a trailing slash or /api/v1, whichever way it was written."""
    root = base_url.strip().rstrip("/")
    if root.endswith(API_PREFIX):
        root = root[: -len(API_PREFIX)].rstrip("/")
    return root


def date_header(response: httpx.Response) -> datetime | None:
    """The answer's Date header, in UTC when it names no zone; None when absent or unreadable."""
    value = response.headers.get("Date")
    if not value:
        return None
    try:
        date = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return date if date.tzinfo else date.replace(tzinfo=UTC)


def rally_error(body: Any) -> str | None:
    """Rally's `{"error": "..."}`."""
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return str(body["error"])
    return None


def parse_record_list(response: httpx.Response) -> list[dict[str, Any]]:
    """A list answer's records; ValueError unless it is a JSON array of objects."""
    body = response.json()
    if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
        raise ValueError("a list answer must be a JSON array of objects")
    return body


def parse_record(response: httpx.Response) -> dict[str, Any]:
    """A record answer; ValueError unless it is a JSON object with an id."""
    body = response.json()
    if not isinstance(body, dict) or not isinstance(body.get("id"), str):
        raise ValueError("a record answer must be a JSON object with an id")
    return body


def parse_written(response: httpx.Response) -> dict[str, Any] | None:
    """An update's answer: the record as Rally holds it now, or None for a success without
    a body (204 No Content): written all the same. Retrying that as a bad answer sent a
    committed update eight more times and then failed it."""
    if not response.content.strip():
        return None
    return dict(response.json())


def refusal(
    where: str, response: httpx.Response, verdict: Verdict, secrets: tuple[str, ...]
) -> CrmsyncError:
    """The error for an answer that is not a success, its message naming `where` (method and
    path) and the server's own words with every secret taken out."""
    status = response.status_code
    if HTTP_REDIRECT_MIN <= status <= HTTP_REDIRECT_MAX:
        detail = redirect_hint(response, secrets)
    else:
        detail = server_message(response, secrets, rally_error)
    message = f"{where}: HTTP {status}" + (f": {detail}" if detail else "")
    if verdict is Verdict.AUTH:
        return AuthError(f"{message} (the API key was refused)", status=status)
    retry_after = None
    if status in RETRY_AFTER_STATUSES:
        retry_after = parse_retry_after(
            response.headers.get("Retry-After"), now=date_header(response)
        )
    if verdict is Verdict.RETRY:
        return RetryableError(message, status=status, retry_after=retry_after, sent=True)
    if verdict is Verdict.AMBIGUOUS:
        return AmbiguousError(message, status=status, retry_after=retry_after, sent=True)
    return RequestRefused(message, status=status, detail=detail or f"HTTP {status}")
