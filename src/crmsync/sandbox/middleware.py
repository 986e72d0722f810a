"""The outermost ASGI layer: auth, rate limit, latency, faults, stats and the request log.

A plain ASGI middleware (not BaseHTTPMiddleware) because it must do what a Response cannot:
cut a connection after the headers, so the client sees the ambiguous write it has to survive.
Order for /api/v1: latency, 401 for a bad key, 429 past the rate limit, injected 5xx, the
handler, then the commit-then-fail fault on writes. /_sandbox is never faulted or counted.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crmsync.sandbox.errors import HTTP_INTERNAL, HTTP_TOO_LARGE, HTTP_TOO_MANY, HTTP_UNAUTHORIZED
from crmsync.sandbox.faults import (
    FAULT_HEADER,
    AfterCommit,
    FaultInjector,
    RateLimiter,
    fault_headers,
)
from crmsync.sandbox.measured import MeasuredMiddleware
from crmsync.sandbox.stats import API_PREFIX, WRITE_METHODS, RequestStats

SANDBOX_PREFIX = "/_sandbox/"
API_KEY_HEADER = b"x-api-key"
# Sent by crmsync.sandbox.testing to read back what a run stored: no latency, faults or rate
# limit, not counted in the stats. The key is still required (it selects the tenant).
INSPECT_HEADER = b"x-sandbox-inspect"
HTTP_OK_MIN, HTTP_OK_MAX = 200, 299
_MAX_LENGTH_DIGITS = 18  # a longer Content-Length is too large whatever it says
DROPPED_ANSWER = "ASGI callable returned without completing response."

log = logging.getLogger("crmsync.sandbox")


@dataclass(frozen=True)
class Guards:
    """What stands between a request and the handlers; built once from the settings."""

    tenants: Mapping[str, str]  # API key -> tenant id
    stats: RequestStats
    faults: FaultInjector
    limiter: RateLimiter | None
    latency_s: float
    log_requests: bool
    max_body_bytes: int


class SandboxMiddleware(MeasuredMiddleware):
    """Wraps the Starlette app; the only place that reads the API key."""

    def __init__(self, app: ASGIApp, guards: Guards) -> None:
        super().__init__(app, stats=guards.stats, log_requests=guards.log_requests, log=log)
        self.guards = guards

    async def dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._too_large(scope):
            # Refused here, as JSON; a chunked body is cut by Starlette's own limit.
            await _send_json(send, HTTP_TOO_LARGE, "request body too large")
        elif scope["path"].startswith(API_PREFIX):
            await self._api(scope, receive, send, inspect=_inspecting(scope))
        else:
            await self.app(scope, receive, send)

    async def crashed(self, send: Send) -> None:
        await _send_json(send, HTTP_INTERNAL, "internal server error")

    def counted_as(self, scope: Scope) -> str | None:
        """Every path but /_sandbox and the inspect reads of an API path (a body refused for
        its size is counted, inspect header or not)."""
        path: str = scope["path"]
        if path.startswith(SANDBOX_PREFIX):
            return None
        inspect = path.startswith(API_PREFIX) and not self._too_large(scope) and _inspecting(scope)
        return None if inspect else path

    def _too_large(self, scope: Scope) -> bool:
        return _declared_length(scope) > self.guards.max_body_bytes

    async def _api(self, scope: Scope, receive: Receive, send: Send, *, inspect: bool) -> None:
        guards = self.guards
        if guards.latency_s > 0 and not inspect:
            await asyncio.sleep(guards.latency_s)
        key = _header(scope, API_KEY_HEADER)
        tenant = guards.tenants.get(key) if key is not None else None
        if tenant is None:
            message = "missing X-Api-Key header" if key is None else "unknown API key"
            await _send_json(send, HTTP_UNAUTHORIZED, message)
            return
        if not inspect:
            if guards.limiter is not None:
                wait = guards.limiter.acquire(tenant)
                if wait is not None:
                    headers = [(b"retry-after", str(wait).encode())]
                    await _send_json(send, HTTP_TOO_MANY, "rate limit exceeded", headers)
                    return
            status = guards.faults.fail_before()
            if status is not None:
                await _send_fault(send, status)
                return
        scope.setdefault("state", {})["tenant"] = tenant
        spoilable = scope["method"] in WRITE_METHODS and guards.faults.may_fail_after_commit
        if inspect or not spoilable:
            await self.app(scope, receive, send)
            return
        await self._write_then_maybe_fail(scope, receive, send)

    async def _write_then_maybe_fail(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the write to completion, holding its answer back, then spoil it or pass it on."""
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        start = held[0] if held else None
        committed = start is not None and HTTP_OK_MIN <= start["status"] <= HTTP_OK_MAX
        fault = self.guards.faults.fail_after_commit() if committed else None
        if fault is None or start is None:
            for message in held:
                await send(message)
        elif fault is AfterCommit.ERROR:
            await _send_json(
                send, HTTP_INTERNAL, "internal server error", [(FAULT_HEADER, b"commit-then-fail")]
            )
        else:
            await _send_cut(send, start, b"".join(m.get("body", b"") for m in held[1:]))


async def _send_cut(send: Send, start: Message, body: bytes) -> None:
    """Headers with a Content-Length, half the body, then return: uvicorn closes the
    connection and the client reads an incomplete answer (httpx: RemoteProtocolError)."""
    if not body:  # e.g. DELETE's 204, which a client would take as complete without a body
        body = b"{}"
        start = {
            "type": "http.response.start",
            "status": HTTP_OK_MIN,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"2")],
        }
    await send(start)
    await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})


def _inspecting(scope: Scope) -> bool:
    return _header(scope, INSPECT_HEADER) is not None


def _declared_length(scope: Scope) -> int:
    value = _header(scope, b"content-length")
    if value is None or not value.isdigit():
        return 0
    return int(value) if len(value) <= _MAX_LENGTH_DIGITS else sys.maxsize


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _send_fault(send: Send, status: int) -> None:
    await _send_json(send, status, "injected server error", fault_headers(status))


async def _send_json(
    send: Send, status: int, error: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """An error answer `{"error": ...}` straight over ASGI."""
    body = json.dumps({"error": error}, separators=(",", ":")).encode()
    all_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *(headers or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": all_headers})
    await send({"type": "http.response.body", "body": body})


class DroppedAnswerFilter(logging.Filter):
    """Hide uvicorn's complaint about the answers this middleware cuts on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != DROPPED_ANSWER
