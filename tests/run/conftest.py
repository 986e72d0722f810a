"""Fixtures for the run's unit tests: a strict Rally in this process, and pipelines on disk.

Rally is the sandbox's own application behind an httpx transport, handed to the library the
way a user's code would (`run_pipeline(..., transport=...)`, `RallyClient(transport=...)`):
no port, no subprocess, no sleep, and the answers the documents describe.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest

from crmsync.config import Pipeline, load_pipeline
from crmsync.run.stages import pieces
from crmsync.sandbox.testing import InProcessSandbox, in_process_sandbox

KEY = "rk_test_unit-key-0001"


@pytest.fixture
def rally() -> Iterator[InProcessSandbox]:
    with in_process_sandbox(api_keys=(KEY,)) as sandbox:
        yield sandbox


def counted_checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The heights of the frames a file read in pieces has checked (mapped, normalized,
    validated) from now on, as they are checked."""
    checked: list[int] = []
    real = pieces.checked_rows

    def counted(frame: pl.DataFrame, *args: Any) -> tuple[pl.DataFrame, pl.DataFrame]:
        checked.append(frame.height)
        return real(frame, *args)

    monkeypatch.setattr(pieces, "checked_rows", counted)
    return checked


def write_csv(folder: Path, name: str, header: str, *rows: str) -> Path:
    path = folder / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def pipeline(folder: Path, text: str, rally: InProcessSandbox) -> Pipeline:
    """A pipeline file written into `folder` (state and reports beside it), loaded with the
    in-process Rally as its destination. Under `both_backends` its state is the backend's."""
    path = folder / "pipeline.yaml"
    text = textwrap.dedent(text).replace(STATE_LINE, os.environ.get(STATE_ENV, STATE_LINE))
    path.write_text(text, encoding="utf-8")
    return load_pipeline(path, env={"RALLY_BASE_URL": rally.base_url, "RALLY_API_KEY": KEY})


STATE_LINE = "state: {path: state.db}"
DESTINATION = f"""\
destination: {{base_url: "${{RALLY_BASE_URL}}", api_key: "${{RALLY_API_KEY}}"}}
{STATE_LINE}
report: {{dir: reports}}
"""
STATE_ENV = "CRMSYNC_TEST_STATE_LINE"  # what `pipeline` puts in place of STATE_LINE


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.slow)])
def both_backends(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test on an SQLite state file and again on a real PostgreSQL state: a module
    opts in with `pytestmark = pytest.mark.usefixtures("both_backends")`. The PostgreSQL
    runs are `slow`: the inner loop checks the flow, `make test` both backends."""
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        schema = request.getfixturevalue("pg_schema")
        monkeypatch.setenv(STATE_ENV, f'state: {{url: "{url}", schema: {schema}}}')
    return str(request.param)


class Refused(httpx.AsyncBaseTransport):
    """A host where nothing listens (Rally down), counting the connections tried."""

    def __init__(self) -> None:
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


class CtrlC(httpx.AsyncBaseTransport):
    """Rally, until the `nth` request of `method` to a path ending in `suffix`: then Ctrl-C
    arrives, before that request is sent, or (`answered`) right after Rally answered it."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        method: str,
        suffix: str,
        nth: int,
        *,
        answered: bool = False,
    ) -> None:
        self._inner = inner
        self._method = method
        self._suffix = suffix
        self._left = nth
        self._answered = answered

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        hit = request.method == self._method and request.url.path.endswith(self._suffix)
        if hit:
            self._left -= 1
        if hit and self._left == 0 and not self._answered:
            raise KeyboardInterrupt
        response = await self._inner.handle_async_request(request)
        if hit and self._left == 0:
            raise KeyboardInterrupt
        return response
