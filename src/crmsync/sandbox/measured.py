"""The outer ASGI layer both sandboxes share: answer every HTTP request once, count it, log it.

Each sandbox says how a request is routed (`dispatch`), what a crash before any answer looks
like on its wire (`crashed`), and under which path a request is counted (`counted_as`).
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from email.utils import formatdate

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crmsync.sandbox.serving import MS_PER_S
from crmsync.sandbox.stats import RequestStats


def _date() -> tuple[bytes, bytes]:
    """A Date header read off the clock as the answer starts, as a web server stamps it (a
    client that estimates the server's clock from it is off by the rounding, not more)."""
    return b"date", formatdate(time.time(), usegmt=True).encode()


class MeasuredMiddleware(ABC):
    """Wraps the Starlette app; records the status each request was answered with (0 when a
    connection closed before any), counts it in the stats and logs one line for it."""

    def __init__(
        self, app: ASGIApp, *, stats: RequestStats, log_requests: bool, log: logging.Logger
    ) -> None:
        self.app = app
        self._stats = stats
        self._log_requests = log_requests
        self._log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path: str = scope["path"]
        counted = self.counted_as(scope)
        statuses: list[int] = []

        async def send_recording(message: Message) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])
                message = {**message, "headers": [*message.get("headers", []), _date()]}
            await send(message)

        try:
            await self.dispatch(scope, receive, send_recording)
        except Exception:
            self._log.exception("error answering %s %s", scope["method"], path)
            if not statuses:
                await self.crashed(send_recording)
        status = statuses[0] if statuses else 0
        if counted is not None:
            self._stats.record(scope["method"], counted, status)
        if self._log_requests:
            elapsed_ms = (time.perf_counter() - started) * MS_PER_S
            self._log.info("%s %s %d %.1fms", scope["method"], path, status, elapsed_ms)

    @abstractmethod
    async def dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one HTTP request (guards, then the app)."""

    @abstractmethod
    async def crashed(self, send: Send) -> None:
        """Answer a request whose handling raised before it sent anything (a 500)."""

    @abstractmethod
    def counted_as(self, scope: Scope) -> str | None:
        """The path the stats count this request under, or None to leave it uncounted."""
