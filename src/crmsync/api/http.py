"""What crmsync's two HTTP clients (Rally's loader, the Redmine reader) share: the API key
check, redaction, and turning a failed answer or transport error into a crmsync error.

Every message built here has the key replaced by `[redacted]`: servers and proxies may quote
a request back, and httpx's own texts may carry it. It lives in `load`, beside the `retry`
verdicts it uses: as a top-level module it would import `crmsync.load` in a cycle.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from typing import Any

import httpx

from crmsync.api.retry import Verdict, classify
from crmsync.errors import AmbiguousError, ConfigError, CrmsyncError, RetryableError

REDACTED = "[redacted]"
MAX_ERROR_TEXT = 300  # characters of a body kept in a message when it has no error field
_HEADER_SAFE = frozenset(string.ascii_letters + string.digits + string.punctuation)


def check_api_key(api_key: str, system: str) -> None:
    """ConfigError unless `api_key` can travel in an HTTP header (printable ASCII, no spaces)."""
    if not api_key or not set(api_key) <= _HEADER_SAFE:
        raise ConfigError(
            f"the {system} API key is empty or holds characters an HTTP header cannot carry"
        )


def redact(text: str, api_key: str) -> str:
    return text.replace(api_key, REDACTED)


def server_message(
    response: httpx.Response, api_key: str, pick: Callable[[Any], str | None]
) -> str:
    """The server's own error text, redacted: what `pick` finds in the JSON body (None when
    the body has none, or is not JSON), else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    found = pick(body)
    return redact(found if found is not None else response.text.strip()[:MAX_ERROR_TEXT], api_key)


def transport_failure(exc: httpx.HTTPError, *, where: str, root: str, api_key: str) -> CrmsyncError:
    """The crmsync error for a request that got no answer: RetryableError when it was never
    sent, AmbiguousError when its answer was lost, ConfigError when it never can be sent.

    Raise it `from None`: a chained httpx cause would print the request unredacted.
    """
    text = redact(str(exc), api_key)
    message = f"{where}: {type(exc).__name__}" + (f": {text}" if text else "")
    verdict = classify(exc)
    if verdict is Verdict.RETRY:
        return RetryableError(f"{message} (not sent)", sent=False)
    if verdict is Verdict.AMBIGUOUS:
        return AmbiguousError(f"{message} (the answer was lost)", sent=True)
    return ConfigError(f"cannot send to {root}: {message}")
