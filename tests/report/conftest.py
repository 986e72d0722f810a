"""Two runs of one pipeline against an in-process Rally, the second with more bad rows and
hostile cells, whose report.html the page tests read (with and without a browser)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from crmsync.config import load_pipeline
from crmsync.run import RunOptions, run_pipeline
from crmsync.sandbox.testing import in_process_sandbox

KEY = "rk_test_page-key-0123456789"
HOSTILE = '<script>alert("x")</script>'
IMG = '"><img src=x onerror=alert(1)>'
IMG_CELL = '"""><img src=x onerror=alert(1)>"'  # the same, quoted as CSV
PIPELINE = """\
name: page-people
object: contacts
source: {kind: csv, path: people.csv}
mapping: {firstName: First, lastName: Last, email: Email, title: Title}
destination: {base_url: "${RALLY_BASE_URL}", api_key: "${RALLY_API_KEY}"}
state: {path: state.db}
report: {dir: reports}
"""
GOOD = [f"Person{n},Good,person{n}@x.org,Engineer" for n in range(40)]


@dataclass(frozen=True)
class Runs:
    folder: Path
    pipeline: Path
    page: Path
    run_ids: list[int]


def _csv(folder: Path, rows: list[str]) -> None:
    text = "\n".join(["First,Last,Email,Title", *rows]) + "\n"
    (folder / "people.csv").write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    folder = tmp_path_factory.mktemp("page")
    path = folder / "pipeline.yaml"
    path.write_text(textwrap.dedent(PIPELINE), encoding="utf-8")
    ids = []
    with in_process_sandbox(api_keys=(KEY,)) as rally:
        env = {"RALLY_BASE_URL": rally.base_url, "RALLY_API_KEY": KEY}
        _csv(folder, [*GOOD[:30], "Cy,Nope,not-an-email,Engineer"])
        ids.append(run_pipeline(load_pipeline(path, env=env), transport=rally.transport).run_id)
        bad = [f"Bad{n},Row,bad{n}@@x.org,{HOSTILE if n == 0 else IMG_CELL}" for n in range(7)] + [
            f"{HOSTILE},Dup,PERSON1@x.org,Dup"
        ]
        _csv(folder, [*GOOD, *bad])
        result = run_pipeline(load_pipeline(path, env=env), RunOptions(), transport=rally.transport)
        ids.append(result.run_id)
        assert result.page is not None
        yield Runs(folder=folder, pipeline=path, page=result.page, run_ids=ids)
