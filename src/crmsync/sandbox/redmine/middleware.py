"""The Redmine sandbox's outer ASGI layer: API format, auth, latency, faults, stats and log.

Redmine's rules (REDMINE.md): the API answers only `.json`/`.xml` paths (or `?format=json`);
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
import time
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crmsync.sandbox.faults import RETRY_AFTER_SECONDS, FaultInjector
from crmsync.sandbox.stats import RequestStats

SANDBOX_PREFIX = "/_sandbox/"
API_KEY_HEADER = b"x-redmine-api-key"
AUTHORIZATION = b"authorization"
BASIC = "basic "
API_FORMATS = ("json", "xml")
WWW_AUTHENTICATE = (b"www-authenticate", b'Basic realm="Redmine API"')
FAULT_HEADER = b"x-sandbox-fault"
LOGIN_PATH = "/login"
HTTP_FOUND = 302
HTTP_UNAUTHORIZED = 401
HTTP_INTERNAL = 500
HTTP_UNAVAILABLE = 503
MS_PER_S = 1000
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


class RedmineMiddleware:
    """Wraps the Starlette app; the only place that reads the API key."""

    def __init__(self, app: ASGIApp, guards: Guards) -> None:
        self.app = app
        self.guards = guards

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path: str = scope["path"]
        statuses: list[int] = []

        async def send_recording(message: Message) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])
            await send(message)

        try:
            if path.startswith(SANDBOX_PREFIX):
                await self.app(scope, receive, send_recording)
            else:
                await self._api(scope, receive, send_recording)
        except Exception:
            log.exception("error answering %s %s", scope["method"], path)
            if not statuses:
                await _send_empty(send_recording, HTTP_INTERNAL)
        status = statuses[0] if statuses else 0
        if not path.startswith(SANDBOX_PREFIX):
            self.guards.stats.record(scope["method"], path_template(path), status)
        if self.guards.log_requests:
            elapsed_ms = (time.perf_counter() - started) * MS_PER_S
            log.info("%s %s %d %.1fms", scope["method"], path, status, elapsed_ms)

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
            headers = [(FAULT_HEADER, b"fail")]
            if status == HTTP_UNAVAILABLE:
                headers.append((b"retry-after", str(RETRY_AFTER_SECONDS).encode()))
            await _send_empty(send, status, headers)
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
