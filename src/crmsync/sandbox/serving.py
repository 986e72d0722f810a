"""What the Rally and Redmine sandboxes share to start and stop: settings checks, the request
log, and a uvicorn run that closes the store however it ends.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import sys
from collections.abc import Sequence
from typing import Any, Protocol

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from crmsync.errors import ConfigError

DEFAULT_HOST = "127.0.0.1"
MS_PER_S = 1000
MAX_PORT = 65535
IN_MEMORY = "memory (gone when the server stops)"  # where records live without --db


class _Closable(Protocol):
    def close(self) -> None: ...


def default_api_keys(env_var: str, fallback: str) -> tuple[str, ...]:
    """The key in `env_var` when set and not empty, else `fallback`."""
    return (os.environ.get(env_var) or fallback,)


def check_settings(settings: Any, *, shares: Sequence[str], counts: Sequence[str]) -> None:
    """Refuse what no sandbox can run with, naming the CLI option at fault.

    `settings` carries `api_keys` and `port`; `shares` name fields that must lie in 0..1,
    `counts` fields that must not be negative.
    """
    api_keys: tuple[str, ...] = settings.api_keys
    if not api_keys or not all(key.strip() for key in api_keys):
        raise ConfigError("every API key must be a non-empty string", path="--api-key")
    for name in shares:
        if not 0.0 <= getattr(settings, name) <= 1.0:
            raise ConfigError("must be between 0 and 1", path=option_name(name))
    for name in counts:
        if getattr(settings, name) < 0:
            raise ConfigError("must not be negative", path=option_name(name))
    if not 0 <= settings.port <= MAX_PORT:
        raise ConfigError(f"must be between 0 and {MAX_PORT}", path="--port")


def option_name(field: str) -> str:
    """The CLI option a settings field comes from: `fail_rate` -> `--fail-rate`."""
    return "--" + field.replace("_", "-")


class StoreApp:
    """An ASGI application over a store that must be closed when the server stops.

    Subclasses set `store` and `_asgi` (the outermost layer) in their __init__.
    """

    store: _Closable
    _asgi: ASGIApp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._asgi(scope, receive, send)

    def close(self) -> None:
        self.store.close()


def configure_logging(logger_name: str, quiet: bool) -> None:
    """One line per request on stderr (warnings only when quiet), not passed to the root."""
    logger = logging.getLogger(logger_name)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    logger.propagate = False


def run(
    app: StoreApp,
    *,
    host: str,
    port: int,
    banner: str,
    uvicorn_filter: logging.Filter | None = None,
) -> None:
    """Print `banner` on stderr, serve until interrupted (Ctrl-C or SIGTERM), then close the
    app's store. `uvicorn_filter` hides uvicorn error lines the app causes on purpose."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="auto",  # uvloop when installed (uvicorn[standard])
        http="auto",  # httptools when installed
        lifespan="off",
        access_log=False,
        log_level="warning",
        server_header=False,
        date_header=False,  # uvicorn's is refreshed once a second: the middleware stamps each
    )
    if uvicorn_filter is not None:
        logging.getLogger("uvicorn.error").addFilter(uvicorn_filter)
    try:
        sock = listening_socket(host, port)
    except ConfigError:
        app.close()
        raise
    print(banner, file=sys.stderr, flush=True)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
        app.close()


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to `host:port`, before any banner says the server is there: a port
    already taken is a ConfigError naming it (exit 2), not a banner and then a traceback."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise ConfigError(f"cannot listen on {host!r}: {exc.strerror}", path="--host") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds its own
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"port {port} is in use (another sandbox or server on {host}); "
                "stop it or pick another port",
                path="--port",
            ) from None
        problem = f"cannot listen on {host}:{port}: {exc.strerror}"
        raise ConfigError(problem, path="--port") from None
    return sock
