"""A local Rally CRM API over real HTTP: settings, the app factory, and `serve`.

Users rehearse migrations against it; crmsync's end-to-end tests and benchmarks load into it.
Records live in SQLite (a file with --db, else memory); each API key is its own tenant.
"""

from __future__ import annotations

import logging
import os
import sys
import uuid
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.types import Receive, Scope, Send

from crmsync.errors import ConfigError
from crmsync.sandbox.faults import FaultInjector, RateLimiter
from crmsync.sandbox.middleware import DroppedAnswerFilter, Guards, SandboxMiddleware
from crmsync.sandbox.records import RecordService
from crmsync.sandbox.routes import build_routes, http_error, server_error
from crmsync.sandbox.stats import RequestStats
from crmsync.sandbox.store import Store

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_API_KEY = "sandbox-key"
API_KEY_ENV = "RALLY_API_KEY"
# tenantId = uuid5(TENANT_NAMESPACE, key): stable across restarts, so a --db file keeps
# each key's records, and no key can be read back from its tenant id.
TENANT_NAMESPACE = uuid.UUID("5b0f8d2e-6a43-4c1e-9f57-2e8a1c3d7b90")
MS_PER_S = 1000
# A bulk of 100 records is some tens of KiB; past this a body is refused with 413.
MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_PORT = 65535


def default_api_keys() -> tuple[str, ...]:
    """The key in RALLY_API_KEY when set, else 'sandbox-key'."""
    return (os.environ.get(API_KEY_ENV) or DEFAULT_API_KEY,)


def tenant_id(api_key: str) -> str:
    return str(uuid.uuid5(TENANT_NAMESPACE, api_key))


@dataclass(frozen=True)
class SandboxSettings:
    """Everything `crmsync sandbox` takes; keys stay out of the repr."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    db_path: str | None = None
    api_keys: tuple[str, ...] = field(default=(DEFAULT_API_KEY,), repr=False)
    latency_ms: int = 0
    fail_rate: float = 0.0
    commit_then_fail_rate: float = 0.0
    rate_limit: int = 0
    seed: int | None = None
    quiet: bool = False

    def __post_init__(self) -> None:
        if not self.api_keys or not all(key.strip() for key in self.api_keys):
            raise ConfigError("every API key must be a non-empty string", path="--api-key")
        for name in ("fail_rate", "commit_then_fail_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError("must be between 0 and 1", path=_option(name))
        for name in ("latency_ms", "rate_limit"):
            if getattr(self, name) < 0:
                raise ConfigError("must not be negative", path=_option(name))
        if not 0 <= self.port <= MAX_PORT:
            raise ConfigError(f"must be between 0 and {MAX_PORT}", path="--port")

    @classmethod
    def from_cli(
        cls,
        *,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        db_path: str | None = None,
        api_keys: tuple[str, ...] = (),
        latency_ms: int = 0,
        fail_rate: float = 0.0,
        commit_then_fail_rate: float = 0.0,
        rate_limit: int = 0,
        seed: int | None = None,
        quiet: bool = False,
    ) -> SandboxSettings:
        """From the click options; no --api-key means the default key."""
        return cls(
            host=host,
            port=port,
            db_path=db_path,
            api_keys=tuple(api_keys) or default_api_keys(),
            latency_ms=latency_ms,
            fail_rate=fail_rate,
            commit_then_fail_rate=commit_then_fail_rate,
            rate_limit=rate_limit,
            seed=seed,
            quiet=quiet,
        )


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


class SandboxApp:
    """The ASGI application, and the store it must close."""

    def __init__(self, settings: SandboxSettings) -> None:
        self.store = Store(settings.db_path)
        self.stats = RequestStats()
        limiter = RateLimiter(settings.rate_limit) if settings.rate_limit > 0 else None
        guards = Guards(
            tenants={key: tenant_id(key) for key in settings.api_keys},
            stats=self.stats,
            faults=FaultInjector(
                fail_rate=settings.fail_rate,
                commit_then_fail_rate=settings.commit_then_fail_rate,
                seed=settings.seed,
            ),
            limiter=limiter,
            latency_s=settings.latency_ms / MS_PER_S,
            log_requests=not settings.quiet,
            max_body_bytes=MAX_BODY_BYTES,
        )
        routes = build_routes(
            RecordService(self.store),
            self.store,
            self.stats,
            on_reset=limiter.clear if limiter is not None else lambda: None,
        )
        starlette = Starlette(
            routes=routes,
            exception_handlers={HTTPException: http_error, Exception: server_error},
            max_body_size=MAX_BODY_BYTES,
        )
        self._asgi = SandboxMiddleware(starlette, guards)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._asgi(scope, receive, send)

    def close(self) -> None:
        self.store.close()


def create_app(settings: SandboxSettings) -> SandboxApp:
    return SandboxApp(settings)


def _configure_logging(quiet: bool) -> None:
    logger = logging.getLogger("crmsync.sandbox")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    logger.propagate = False


def serve(settings: SandboxSettings) -> None:
    """Run until interrupted (Ctrl-C or SIGTERM), then close the database."""
    _configure_logging(settings.quiet)
    app = create_app(settings)
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "loop": "auto",  # uvloop when installed (uvicorn[standard])
        "http": "auto",  # httptools when installed
        "lifespan": "off",
        "access_log": False,
        "log_level": "warning",
        "server_header": False,
    }
    config = uvicorn.Config(app, **options)
    logging.getLogger("uvicorn.error").addFilter(DroppedAnswerFilter())
    where = settings.db_path or "memory (gone when the server stops)"
    print(
        f"Rally sandbox: http://{settings.host}:{settings.port}/api/v1"
        f" ({len(settings.api_keys)} API key(s), records in {where})",
        file=sys.stderr,
        flush=True,
    )
    try:
        uvicorn.Server(config).run()
    finally:
        app.close()
