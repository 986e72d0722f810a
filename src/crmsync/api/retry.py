"""The one place that decides what an HTTP answer means, and the tenacity policy built on it.

`classify` sorts every answer (a response or an httpx exception) into a Verdict:

    OK          2xx
    AUTH        401, 403: the key is refused; the run stops
    RETRY       429, or the request provably never reached the server (ConnectError,
                ConnectTimeout, PoolTimeout): safe to send again as it was
    AMBIGUOUS   5xx, read timeouts, connections lost after sending: the server may have acted.
                Retried only when the request is idempotent (GET, upsert by key); a bulk
                create is reconciled instead, since re-sending it would create duplicates
    FATAL       any other answer (other 4xx, redirects): refused for good

Tenacity retries exactly what `should_retry` says, with exponential backoff, full jitter and a
cap; 429 and 503 honour Retry-After when it is a usable hint.
"""

from __future__ import annotations

import math
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import Enum
from http import HTTPStatus

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_base

from crmsync.errors import AmbiguousError, RetryableError

RETRY_AFTER_STATUSES = frozenset({HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.SERVICE_UNAVAILABLE})

BASE_BACKOFF_S = 0.5  # the first exponential wait's upper bound
# Full jitter may draw a wait near zero; this floor keeps a retry from ever looping at once.
MIN_BACKOFF_S = 0.05

# Errors that prove the request never left: nothing can have been written.
_NOT_SENT_ERRORS: tuple[type[httpx.HTTPError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)
# Errors raised before anything could be sent, that no retry will fix (a bad URL, a bug).
_NEVER_SENDABLE_ERRORS: tuple[type[httpx.HTTPError], ...] = (
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
)

SleepFn = Callable[[float], Awaitable[None]]


class Verdict(Enum):
    """What to do about one answer."""

    OK = "ok"
    AUTH = "auth"
    RETRY = "retry"
    AMBIGUOUS = "ambiguous"
    FATAL = "fatal"


def classify(answer: httpx.Response | BaseException) -> Verdict:
    """Sort one answer; the only function in crmsync that reads a status code for this."""
    if isinstance(answer, httpx.Response):
        status = answer.status_code
        if 200 <= status < 300:
            return Verdict.OK
        if status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN):
            return Verdict.AUTH
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            return Verdict.RETRY
        if status >= 500:
            return Verdict.AMBIGUOUS
        return Verdict.FATAL
    if isinstance(answer, _NOT_SENT_ERRORS):
        return Verdict.RETRY
    if isinstance(answer, _NEVER_SENDABLE_ERRORS):
        return Verdict.FATAL
    if isinstance(answer, (httpx.TransportError, httpx.DecodingError)):
        return Verdict.AMBIGUOUS  # sent, and its answer lost or unreadable (garbled gzip)
    return Verdict.FATAL


def should_retry(exc: BaseException, *, idempotent: bool) -> bool:
    """True for what may be sent again: always RETRY, and AMBIGUOUS when idempotent."""
    if isinstance(exc, RetryableError):
        return True
    return idempotent and isinstance(exc, AmbiguousError)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header, or None when it gives no usable hint.

    Seconds or an HTTP date (measured from `now`, the server's Date when known). Zero,
    negative and unparseable values are no hint: the caller backs off exponentially instead.
    """
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds) or seconds <= 0:
        return None
    return seconds


class BackoffWait(wait_base):
    """Retry-After when the server gave one, else exponential backoff with full jitter.

    Every wait is capped at `max_backoff_s` and floored at MIN_BACKOFF_S.
    """

    def __init__(self, max_backoff_s: float, rng: random.Random) -> None:
        self.max_backoff_s = max_backoff_s
        self.rng = rng

    def __call__(self, retry_state: RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        hint = getattr(exc, "retry_after", None)
        if hint is not None and hint > 0:
            return min(float(hint), self.max_backoff_s)
        return backoff_s(retry_state.attempt_number, self.max_backoff_s, self.rng)


def backoff_s(attempt: int, max_backoff_s: float, rng: random.Random) -> float:
    """Full-jitter exponential wait after the `attempt`-th failure (1-based)."""
    ceiling = min(max_backoff_s, BASE_BACKOFF_S * 2 ** min(attempt - 1, 62))
    return min(max_backoff_s, max(MIN_BACKOFF_S, rng.uniform(0.0, ceiling)))


def retry_policy(
    *,
    max_retries: int,
    max_backoff_s: float,
    idempotent: bool,
    sleep: SleepFn,
    rng: random.Random,
    before_sleep: Callable[[RetryCallState], None] | None = None,
) -> AsyncRetrying:
    """The tenacity policy for one request: what to retry, how long to wait, when to stop."""
    return AsyncRetrying(
        retry=retry_if_exception(lambda exc: should_retry(exc, idempotent=idempotent)),
        wait=BackoffWait(max_backoff_s, rng),
        stop=stop_after_attempt(max_retries + 1),
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
