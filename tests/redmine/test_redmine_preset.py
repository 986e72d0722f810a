"""The redmine_to_rally preset on a Redmine whose CRM has other custom fields and none called
"Lead source": it runs all four steps, the mapping that names the missing field takes its
default with one warning, and the custom fields it does have are kept in the notes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from tests.redmine.samples import SAMPLE_DIR
from tests.shipped import LOCAL_STATE

from crmsync.config import load_pipeline
from crmsync.run import RunObserver, run_pipeline
from crmsync.sandbox.redmine.handle import RedmineHandle
from crmsync.sandbox.testing import in_process_sandbox, running_redmine

ROOT = Path(__file__).resolve().parents[2]
KEY = "redmine-preset-key"
RALLY_KEY = "rally-preset-key"
STEPS = ["companies", "contacts", "notes-on-contacts", "notes-on-companies"]


def other_custom_fields(contact: dict[str, Any]) -> dict[str, Any]:
    """The contact with "Lead source" gone and a field the sample never had."""
    kept = [f for f in contact.get("custom_fields", []) if f["name"] != "Lead source"]
    kept.append({"id": 11, "name": "Region code", "value": f"R{contact['id'] % 3}"})
    return {**contact, "custom_fields": kept}


@pytest.fixture(scope="module")
def redmine(tmp_path_factory: pytest.TempPathFactory) -> Any:
    sample = json.loads((SAMPLE_DIR / "contacts.json").read_text(encoding="utf-8"))
    seed = {"contacts": [other_custom_fields(c) for c in sample["contacts"]]}
    path = tmp_path_factory.mktemp("preset") / "contacts.json"
    path.write_text(json.dumps(seed), encoding="utf-8")
    with running_redmine(api_keys=(KEY,), seed_file=path) as handle:
        yield handle


class _Warnings(RunObserver):
    def __init__(self) -> None:
        self.said: list[str] = []

    def warning(self, message: str) -> None:
        self.said.append(message)


def test_the_preset_runs_on_a_redmine_without_lead_source(
    redmine: RedmineHandle, tmp_path: Path
) -> None:
    shutil.copytree(ROOT / "pipelines", tmp_path / "pipelines", ignore=LOCAL_STATE)
    with in_process_sandbox(api_keys=(RALLY_KEY,)) as rally:
        env = {
            "RALLY_BASE_URL": rally.base_url,
            "RALLY_API_KEY": RALLY_KEY,
            "REDMINE_URL": redmine.base_url,
            "REDMINE_API_KEY": KEY,
        }
        preset = load_pipeline(tmp_path / "pipelines" / "redmine_to_rally.yaml", env=env)
        warnings = _Warnings()
        result = run_pipeline(preset, observer=warnings, transport=rally.transport)
        assert [step.summary.name for step in result.steps] == STEPS
        assert warnings.said == [
            "mapping.leadSource: column 'cf:Lead source' not in the source: leadSource takes "
            "its default 'redmine' where it would have read them"
        ]
        contacts = rally.records("contacts")
        assert contacts and {c["leadSource"] for c in contacts} == {"redmine"}
        assert all("Region code: R" in (c["notes"] or "") for c in contacts)
        assert rally.records("companies") and rally.records("activities")
        for step in result.steps:
            summary = step.summary
            assert summary.failed == summary.failed_by_stage["validate"]  # people without email
        assert result.steps[1].summary.notices == warnings.said
