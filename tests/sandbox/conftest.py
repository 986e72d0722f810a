"""One sandbox for the whole session (reset before each test), over real HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from crmsync.sandbox.testing import SandboxHandle, running_sandbox

KEY = "test-key"
OTHER_KEY = "other-key"


def api_client(sandbox: SandboxHandle, key: str | None = KEY) -> httpx.Client:
    headers = {"X-Api-Key": key} if key is not None else {}
    return httpx.Client(base_url=f"{sandbox.base_url}/api/v1", headers=headers, timeout=10)


@pytest.fixture(scope="session")
def shared_sandbox() -> Iterator[SandboxHandle]:
    with running_sandbox(api_keys=(KEY, OTHER_KEY)) as handle:
        yield handle


@pytest.fixture
def sandbox(shared_sandbox: SandboxHandle) -> SandboxHandle:
    shared_sandbox.reset()
    return shared_sandbox


@pytest.fixture
def api(sandbox: SandboxHandle) -> Iterator[httpx.Client]:
    """A client of the /api/v1 root with the first tenant's key."""
    with api_client(sandbox) as client:
        yield client


@pytest.fixture
def other_api(sandbox: SandboxHandle) -> Iterator[httpx.Client]:
    """A client of the second tenant."""
    with api_client(sandbox, OTHER_KEY) as client:
        yield client
