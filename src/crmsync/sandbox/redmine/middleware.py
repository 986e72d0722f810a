"""The Redmine sandbox's outer ASGI layer: API format, auth, latency, faults, stats and log.

Redmine's rules: the API answers only `.json`/`.xml` paths (or `?format=json`);
anything else is the HTML application, which redirects an API client to the login page. The key
comes in `X-Redmine-API-Key`, `?key=`, or HTTP Basic (key as the login, any password). A refused
request is a 401 with an empty body, carrying `WWW-Authenticate` only when no key was sent.
The fault injector and request counters are the Rally sandbox's own.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import re
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from crmsync.sandbox.errors import HTTP_FOUND, HTTP_INTERNAL, HTTP_UNAUTHORIZED
from crmsync.sandbox.faults import FaultInjector, fault_headers
from crmsync.sandbox.measured import MeasuredMiddleware
from crmsync.sandbox.stats import RequestStats

SANDBOX_PREFIX = "/_sandbox/"
API_KEY_HEADER = b"x-redmine-api-key"
AUTHORIZATION = b"authorization"
BASIC = "basic "
API_FORMATS = ("json", "xml")
WWW_AUTHENTICATE = (b"www-authenticate", b'Basic realm="Redmine API"')
LOGIN_PATH = "/login"
# Stats count paths by template, so a walk over 10,000 contacts adds one row, not 10,000.
_TEMPLATES = (
    (re.compile(r"^/contacts/[^/]+\.(\w+)$"), r"/contacts/{id}.\1"),
    (re.compile(r"^/projects/[^/]+/contacts\.(\w+)$"), r"/projects/{id}/contacts.\1"),
)

log = logging.getLogger("crmsync.sandbox.redmine")


@dataclass(frozen=True)
class Guards:
    """Built once from the settings."""

    api_keys: Collection[str]
    stats: RequestStats
    faults: FaultInjector
    latency_s: float
    log_requests: bool


def api_format(path: str, query: dict[str, list[str]]) -> str | None:
    """ "json" or "xml" when the request is an API request, else None (the HTML application)."""
    suffix = path.rpartition(".")[2] if "." in path.rpartition("/")[2] else ""
    if suffix in API_FORMATS:
        return suffix
    requested = query.get("format", [""])[0]
    return requested if requested in API_FORMATS else None


def path_template(path: str) -> str:
    for pattern, template in _TEMPLATES:
        if pattern.match(path):
            return pattern.sub(template, path)
    return path


class RedmineMiddleware(MeasuredMiddleware):
    """Wraps the Starlette app; the only place that reads the API key."""

    def __init__(self, app: ASGIApp, guards: Guards) -> None:
        super().__init__(app, stats=guards.stats, log_requests=guards.log_requests, log=log)
        self.guards = guards

    async def dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"].startswith(SANDBOX_PREFIX):
            await self.app(scope, receive, send)
        else:
            await self._api(scope, receive, send)

    async def crashed(self, send: Send) -> None:
        await _send_empty(send, HTTP_INTERNAL)

    def counted_as(self, scope: Scope) -> str | None:
        path: str = scope["path"]
        return None if path.startswith(SANDBOX_PREFIX) else path_template(path)

    async def _api(self, scope: Scope, receive: Receive, send: Send) -> None:
        guards = self.guards
        if guards.latency_s > 0:
            await asyncio.sleep(guards.latency_s)
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        fmt = api_format(scope["path"], query)
        if fmt is None:
            await _send_empty(send, HTTP_FOUND, [(b"location", LOGIN_PATH.encode())])
            return
        key = _api_key(scope, query)
        if key is None or key not in guards.api_keys:
            headers = [WWW_AUTHENTICATE] if key is None else []
            await _send_empty(send, HTTP_UNAUTHORIZED, headers)
            return
        status = guards.faults.fail_before()
        if status is not None:
            await _send_empty(send, status, fault_headers(status))
            return
        scope.setdefault("state", {})["format"] = fmt
        await self.app(scope, receive, send)


def _api_key(scope: Scope, query: dict[str, list[str]]) -> str | None:
    """The key from the header, `?key=`, or HTTP Basic's login; None when none was sent."""
    for name, value in scope["headers"]:
        if name == API_KEY_HEADER and value:
            return str(value.decode("latin-1"))
    if query.get("key", [""])[0]:
        return query["key"][0]
    for name, value in scope["headers"]:
        text = value.decode("latin-1")
        if name == AUTHORIZATION and text[: len(BASIC)].lower() == BASIC:
            try:
                decoded = base64.b64decode(text[len(BASIC) :].strip(), validate=True)
            except (binascii.Error, ValueError):
                return ""  # sent, but unreadable: refused like a wrong key
            return decoded.decode("utf-8", errors="replace").partition(":")[0]
    return None


async def _send_empty(
    send: Send, status: int, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    all_headers = [(b"content-length", b"0"), *(headers or [])]
    await send({"type": "http.response.start", "status": status, "headers": all_headers})
    await send({"type": "http.response.body", "body": b""})
