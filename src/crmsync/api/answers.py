"""Rally's answers read: a refusal turned into the crmsync error that says what to do, the
Date header, the error text and a list's records."""

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

HTTP_REDIRECT_MIN, HTTP_REDIRECT_MAX = 300, 399


def refusal(
    where: str, response: httpx.Response, verdict: Verdict, secrets: tuple[str, ...]
) -> CrmsyncError:
    """The error for an answer that is no success, its server text redacted of `secrets`."""
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


def date_header(response: httpx.Response) -> datetime | None:
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
    body = response.json()
    if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
        raise ValueError("a list answer must be a JSON array of objects")
    return body
