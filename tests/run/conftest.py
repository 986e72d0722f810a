"""Fixtures for the run's unit tests: a strict Rally in this process, and pipelines on disk.

Rally is the sandbox's own application behind an httpx transport, handed to the library the
way a user's code would (`run_pipeline(..., transport=...)`, `RallyClient(transport=...)`):
no port, no subprocess, no sleep, and the answers the documents describe.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from crmsync.config import Pipeline, load_pipeline
from crmsync.sandbox.testing import InProcessSandbox, in_process_sandbox

KEY = "rk_test_unit-key-0001"


@pytest.fixture
def rally() -> Iterator[InProcessSandbox]:
    with in_process_sandbox(api_keys=(KEY,)) as sandbox:
        yield sandbox


def write_csv(folder: Path, name: str, header: str, *rows: str) -> Path:
    path = folder / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def pipeline(folder: Path, text: str, rally: InProcessSandbox) -> Pipeline:
    """A pipeline file written into `folder` (state and reports beside it), loaded with the
    in-process Rally as its destination."""
    path = folder / "pipeline.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_pipeline(path, env={"RALLY_BASE_URL": rally.base_url, "RALLY_API_KEY": KEY})


DESTINATION = """\
destination: {base_url: "${RALLY_BASE_URL}", api_key: "${RALLY_API_KEY}"}
state: {path: state.db}
report: {dir: reports}
"""
