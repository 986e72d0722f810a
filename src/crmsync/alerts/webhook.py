"""POSTing an alert to a webhook, retried with backoff, the URL never shown.

What is retried is what `api.retry.classify` says may be sent again, and 5xx and lost
answers too: a receiver may then show an alert twice, which beats never. Waits are
exponential (capped; Retry-After honoured), drawn from a seeded generator, and `sleep` is
injected, so tests run without waiting. A webhook's URL is its credential (Slack's holds
the secret in its path): messages name only its scheme and host, and anything a server or
httpx says is redacted of the whole URL first.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
from tenacity import Retrying, retry_if_exception, stop_after_attempt

from crmsync.api.http import redact
from crmsync.api.retry import BackoffWait, Verdict, classify, parse_retry_after
from crmsync.errors import CrmsyncError
from crmsync.report.wording import counted

MAX_BACKOFF_S = 8.0
BACKOFF_SEED = 0  # the waits are the same every time: no jitter luck in tests or in logs
RETRIED = frozenset({Verdict.RETRY, Verdict.AMBIGUOUS})


class WebhookError(CrmsyncError):
    """The alert was not delivered; the message shows no secret."""


class _Attempt(Exception):
    """One failed attempt: retried or not, with the server's Retry-After hint."""

    def __init__(self, reason: str, *, retry: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry = retry
        self.retry_after = retry_after


def shown(url: str) -> str:
    """The webhook as it may be named: scheme and host, the path (its secret) left out."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}/…"


def send_webhook(
    url: str,
    body: dict[str, Any],
    *,
    timeout_s: float,
    max_attempts: int,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """POST `body` as JSON until a 2xx answers or the attempts run out; returns the attempts
    taken. WebhookError (no secret in it) when it was not delivered."""
    attempts = 0

    def attempt(client: httpx.Client) -> None:
        nonlocal attempts
        attempts += 1
        try:
            response = client.post(url, json=body)
        except httpx.HTTPError as exc:
            verdict = classify(exc)
            reason = redact(str(exc) or type(exc).__name__, url, urlsplit(url).path)
            raise _Attempt(reason, retry=verdict in RETRIED) from None
        verdict = classify(response)
        if verdict is Verdict.OK:
            return
        hint = parse_retry_after(response.headers.get("Retry-After"))
        reason = f"answered {response.status_code}"
        raise _Attempt(reason, retry=verdict in RETRIED, retry_after=hint)

    def retried(exc: BaseException) -> bool:
        return isinstance(exc, _Attempt) and exc.retry

    policy = Retrying(
        retry=retry_if_exception(retried),
        wait=BackoffWait(MAX_BACKOFF_S, random.Random(BACKOFF_SEED)),
        stop=stop_after_attempt(max_attempts),
        sleep=sleep,
        reraise=True,
    )
    with httpx.Client(timeout=timeout_s, transport=transport, follow_redirects=False) as client:
        try:
            policy(attempt, client)
        except _Attempt as exc:
            raise WebhookError(
                f"the alert could not be sent to the webhook at {shown(url)}: {exc} "
                f"({counted(attempts, 'attempt')})"
            ) from None
    return attempts
