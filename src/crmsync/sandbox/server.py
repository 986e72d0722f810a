"""A local Rally CRM API over real HTTP: settings, the app factory, and `serve`.

Users rehearse migrations against it; crmsync's end-to-end tests and benchmarks load into it.
Records live in SQLite (a file with --db, else memory); each API key is its own tenant.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.exceptions import HTTPException

from crmsync.sandbox import serving
from crmsync.sandbox.faults import FaultInjector, RateLimiter
from crmsync.sandbox.middleware import DroppedAnswerFilter, Guards, SandboxMiddleware
from crmsync.sandbox.records import RecordService
from crmsync.sandbox.routes import build_routes, http_error, server_error
from crmsync.sandbox.serving import DEFAULT_HOST, IN_MEMORY, MS_PER_S, StoreApp
from crmsync.sandbox.stats import RequestStats
from crmsync.sandbox.store import Store

DEFAULT_PORT = 8765
DEFAULT_API_KEY = "sandbox-key"
API_KEY_ENV = "RALLY_API_KEY"
# tenantId = uuid5(TENANT_NAMESPACE, key): stable across restarts, so a --db file keeps
# each key's records, and no key can be read back from its tenant id.
TENANT_NAMESPACE = uuid.UUID("5b0f8d2e-6a43-4c1e-9f57-2e8a1c3d7b90")
# A bulk of 100 records is some tens of KiB; past this a body is refused with 413.
MAX_BODY_BYTES = 16 * 1024 * 1024


def default_api_keys() -> tuple[str, ...]:
    """The key in RALLY_API_KEY when set, else 'sandbox-key'."""
    return serving.default_api_keys(API_KEY_ENV, DEFAULT_API_KEY)


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
        serving.check_settings(
            self,
            shares=("fail_rate", "commit_then_fail_rate"),
            counts=("latency_ms", "rate_limit"),
        )

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


class SandboxApp(StoreApp):
    """The ASGI application, and the store it must close."""

    def __init__(self, settings: SandboxSettings) -> None:
        self.store = Store(settings.db_path)
        self.stats = RequestStats()
        limiter = RateLimiter(settings.rate_limit) if settings.rate_limit > 0 else None
        faults = FaultInjector(
            fail_rate=settings.fail_rate,
            commit_then_fail_rate=settings.commit_then_fail_rate,
            seed=settings.seed,
        )
        guards = Guards(
            tenants={key: tenant_id(key) for key in settings.api_keys},
            stats=self.stats,
            faults=faults,
            limiter=limiter,
            latency_s=settings.latency_ms / MS_PER_S,
            log_requests=not settings.quiet,
            max_body_bytes=MAX_BODY_BYTES,
        )
        routes = build_routes(
            RecordService(self.store),
            self.store,
            self.stats,
            faults,
            limiter,
        )
        starlette = Starlette(
            routes=routes,
            exception_handlers={HTTPException: http_error, Exception: server_error},
            max_body_size=MAX_BODY_BYTES,
        )
        self._asgi = SandboxMiddleware(starlette, guards)


def create_app(settings: SandboxSettings) -> SandboxApp:
    return SandboxApp(settings)


def serve(settings: SandboxSettings) -> None:
    """Run until interrupted (Ctrl-C or SIGTERM), then close the database."""
    serving.configure_logging("crmsync.sandbox", settings.quiet)
    app = create_app(settings)
    serving.run(
        app,
        host=settings.host,
        port=settings.port,
        banner=f"Rally sandbox: http://{settings.host}:{settings.port}/api/v1"
        f" ({len(settings.api_keys)} API key(s), records in {settings.db_path or IN_MEMORY})",
        uvicorn_filter=DroppedAnswerFilter(),
    )
