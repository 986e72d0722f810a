"""Redmine sandboxes over real HTTP on 127.0.0.1 (one per session each), and sample paths."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.redmine.samples import SAMPLE_DIR, json_export, many_contacts

from crmsync.sandbox.redmine.handle import RedmineHandle
from crmsync.sandbox.testing import running_redmine

KEY = "redmine-test-key"
OTHER_KEY = "second-key"
MANY = 257  # three pages at limit 100, the last one short


@pytest.fixture(scope="session")
def redmine() -> Iterator[RedmineHandle]:
    """The bundled sample (40 contacts, 21 notes)."""
    with running_redmine(api_keys=(KEY, OTHER_KEY)) as handle:
        yield handle


@pytest.fixture(scope="session")
def many_seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("redmine") / "many.json"
    path.write_text(json_export(many_contacts(MANY)), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def redmine_many(many_seed: Path) -> Iterator[RedmineHandle]:
    """257 generated contacts."""
    with running_redmine(api_keys=(KEY,), seed_file=many_seed) as handle:
        yield handle


@pytest.fixture
def api(redmine: RedmineHandle) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=redmine.base_url, headers={"X-Redmine-API-Key": KEY}, timeout=10
    ) as client:
        yield client


@pytest.fixture(scope="session")
def samples() -> dict[str, Path]:
    return {
        "json": SAMPLE_DIR / "contacts.json",
        "xml": SAMPLE_DIR / "contacts.xml",
        "old_xml": SAMPLE_DIR / "contacts_old.xml",
        "csv": SAMPLE_DIR / "contacts.csv",
        "xls_csv": SAMPLE_DIR / "contacts_xls.csv",
    }
