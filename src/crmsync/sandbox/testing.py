"""Run a sandbox for tests and benchmarks, and read back what it stored.

`running_sandbox` starts it in a subprocess, not a thread: a benchmark client must not share
the server's GIL, and an end-to-end test must see the server exactly as a user runs it
(`python -m crmsync sandbox`). `in_process_sandbox` answers in the test's own process through
an httpx transport (no port, no subprocess): the fast, strict Rally that unit tests of the
run hand to the library in place of the network.
"""

from __future__ import annotations

import asyncio
import gc
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx

from crmsync.sandbox.redmine.handle import RedmineHandle
from crmsync.sandbox.server import SandboxApp, SandboxSettings, create_app
from crmsync.sandbox.stats import PID_HEADER
from crmsync.schema import MAX_BULK

READY_TIMEOUT_S = 15.0
POLL_INTERVAL_S = 0.05
STOP_TIMEOUT_S = 5.0
CLIENT_TIMEOUT_S = 30.0
START_ATTEMPTS = 3  # a free port can be taken between our probe and the server's bind
LOCALHOST = "127.0.0.1"
INSPECT_HEADERS = {"X-Sandbox-Inspect": "1"}  # reads that skip faults and stats


def minimal_body(object: str, n: int = 0, **overrides: Any) -> dict[str, Any]:
    """A small valid create body for `object` (contacts, companies, activities); `n` makes
    the email or domain unique, `overrides` replace or add camelCase fields."""
    base: dict[str, dict[str, Any]] = {
        "contacts": {
            "firstName": "Sarah",
            "lastName": f"Chen{n}",
            "email": f"sarah{n}@example.com",
        },
        "companies": {"name": f"Acme {n}", "domain": f"acme{n}.com"},
        "activities": {"activityType": "note", "subject": f"Met at the fair {n}"},
    }
    return base[object] | overrides


class SandboxStartError(RuntimeError):
    """The sandbox subprocess exited or never answered; the message carries its stderr."""


class SandboxHandle:
    """A running sandbox: where it is, and how to read back its records and counters."""

    def __init__(
        self,
        base_url: str,
        api_keys: Sequence[str],
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url  # the tenant root, without /api/v1
        self.api_key = api_keys[0]
        self._client = httpx.Client(
            base_url=base_url, timeout=CLIENT_TIMEOUT_S, transport=transport
        )

    def __repr__(self) -> str:
        return f"SandboxHandle(base_url={self.base_url!r})"

    def stats(self) -> dict[str, Any]:
        """GET /_sandbox/stats: requests by method, path and status; records; writes."""
        response = self._client.get("/_sandbox/stats")
        response.raise_for_status()
        stats: dict[str, Any] = response.json()
        return stats

    def reset(self) -> None:
        """Forget every record and counter (all tenants)."""
        self._client.post("/_sandbox/reset").raise_for_status()

    def write_requests(self) -> int:
        """POST/PUT/DELETE requests the API received, whatever their answer."""
        return int(self.stats()["writes"])

    def records(self, object: str, api_key: str | None = None) -> list[dict[str, Any]]:
        """Every record of `object` in the key's tenant, paged through the list API.

        These reads skip latency, faults and rate limits, are not counted in stats(), and show
        every field the sandbox stores, also those Rally's answers leave out (a contact's
        notes): what a test checks was written, not what the API would answer.
        """
        headers = {"X-Api-Key": api_key or self.api_key, **INSPECT_HEADERS}
        found: list[dict[str, Any]] = []
        while True:
            response = self._client.get(
                f"/api/v1/{object}",
                params={"limit": MAX_BULK, "offset": len(found)},
                headers=headers,
            )
            response.raise_for_status()
            page: list[dict[str, Any]] = response.json()
            found.extend(page)
            if len(page) < MAX_BULK:
                return found

    def close(self) -> None:
        self._client.close()


class InProcessSandbox(SandboxHandle):
    """A sandbox answering in this process: `transport` is what a RallyClient (or
    `run_pipeline(..., transport=...)`) sends through instead of the network."""

    BASE_URL = "http://rally.localhost"  # a loopback name: plain http is allowed there

    def __init__(self, app: SandboxApp, api_keys: Sequence[str]) -> None:
        self.app = app
        self.transport = httpx.ASGITransport(app=app)
        super().__init__(self.BASE_URL, api_keys, transport=_BlockingASGI(self.transport))

    def close(self) -> None:
        super().close()
        self.app.close()


class _BlockingASGI(httpx.BaseTransport):
    """The async ASGI transport for a blocking client: each request on its own event loop."""

    def __init__(self, transport: httpx.ASGITransport) -> None:
        self._transport = transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def send() -> httpx.Response:
            response = await self._transport.handle_async_request(request)
            body = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=body)

        return asyncio.run(send())


@contextmanager
def in_process_sandbox(
    *, api_keys: Sequence[str] = ("test-key",), rate_limit: int = 0, seed: int | None = None
) -> Iterator[InProcessSandbox]:
    """A Rally sandbox (in memory) answering in this process; closed on exit."""
    settings = SandboxSettings(
        api_keys=tuple(api_keys), rate_limit=rate_limit, seed=seed, quiet=True
    )
    handle = InProcessSandbox(create_app(settings), api_keys)
    try:
        yield handle
    finally:
        handle.close()
        # The app's reference cycles (its sqlite connection, open generators) are collected
        # now, not at some later allocation: CPython 3.11 miscounts the AST module's recursion
        # depth when such finalizers run in the middle of a parse ("AST constructor recursion
        # depth mismatch" when pytest later rewrites a module it imports).
        gc.collect()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCALHOST, 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running_sandbox(
    *,
    api_keys: Sequence[str] = ("test-key",),
    latency_ms: int = 0,
    fail_rate: float = 0.0,
    commit_then_fail_rate: float = 0.0,
    rate_limit: int = 0,
    seed: int | None = None,
    db_path: str | None = None,
    port: int | None = None,
) -> Iterator[SandboxHandle]:
    """Start `python -m crmsync sandbox` on a free loopback port; stop it on exit."""
    options = [
        f"--latency-ms={latency_ms}",
        f"--fail-rate={fail_rate}",
        f"--commit-then-fail-rate={commit_then_fail_rate}",
        f"--rate-limit={rate_limit}",
    ]
    options += [f"--api-key={key}" for key in api_keys]
    if seed is not None:
        options.append(f"--seed={seed}")
    if db_path is not None:
        options.append(f"--db={db_path}")
    with tempfile.TemporaryFile() as stderr:
        process, base_url = _start(options, stderr, port=port)
        handle = SandboxHandle(base_url, api_keys)
        try:
            yield handle
        finally:
            handle.close()
            _stop(process)


def _start(
    options: list[str], stderr: Any, subcommand: str = "sandbox", port: int | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """Start on `port`, or on a free port (retried when another process takes it first)."""
    fixed = port
    for attempt in range(1, START_ATTEMPTS + 1):
        port = fixed or free_port()
        command = [
            sys.executable,
            "-m",
            "crmsync",
            subcommand,
            "--quiet",
            "--host",
            LOCALHOST,
            "--port",
            str(port),
            *options,
        ]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr, env=env
        )
        base_url = f"http://{LOCALHOST}:{port}"
        ready = _wait_ready(process, base_url)
        if ready:
            return process, base_url
        _stop(process)
        in_use = ready is None or "is in use" in _read(stderr).lower()
        if attempt == START_ATTEMPTS or fixed or not in_use:
            raise SandboxStartError(f"the {subcommand} did not start:\n{_read(stderr)}")
        stderr.seek(0)
        stderr.truncate()
    raise AssertionError("unreachable")


@contextmanager
def running_redmine(
    *,
    api_keys: Sequence[str] = ("redmine-key",),
    seed_file: str | os.PathLike[str] | None = None,
    latency_ms: int = 0,
    fail_rate: float = 0.0,
    seed: int | None = None,
    port: int | None = None,
) -> Iterator[RedmineHandle]:
    """Start `python -m crmsync redmine-sandbox` on a free loopback port; stop it on exit.

    `seed_file` None serves the bundled sample_data/redmine/contacts.json.
    """
    options = [f"--latency-ms={latency_ms}", f"--fail-rate={fail_rate}"]
    options += [f"--api-key={key}" for key in api_keys]
    if seed_file is not None:
        options.append(f"--seed-file={os.fspath(seed_file)}")
    if seed is not None:
        options.append(f"--seed={seed}")
    with tempfile.TemporaryFile() as stderr:
        process, base_url = _start(options, stderr, "redmine-sandbox", port=port)
        handle = RedmineHandle(base_url, api_keys[0])
        try:
            yield handle
        finally:
            handle.close()
            _stop(process)


def _wait_ready(process: subprocess.Popen[bytes], base_url: str) -> bool | None:
    """True once `process` answers at `base_url`; None when another process does (the port
    was taken between choosing it and binding it); False when it ended or never answered."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    with httpx.Client(base_url=base_url, timeout=POLL_INTERVAL_S * 10) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return False
            try:
                answer = client.get("/_sandbox/stats")
                if answer.status_code == httpx.codes.OK:
                    # another test's sandbox on the port answers too: only ours is ready
                    return True if answer.headers.get(PID_HEADER) == str(process.pid) else None
            except httpx.TransportError:
                pass
            time.sleep(POLL_INTERVAL_S)
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _read(stderr: Any) -> str:
    stderr.flush()
    stderr.seek(0)
    text: str = stderr.read().decode(errors="replace")
    return text
