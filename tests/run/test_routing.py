"""Routing against what Rally holds: a key Rally has is an update, and an empty tenant is
not asked about any key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from crmsync.run.artifacts import KEY, KEYED, KNOWN_ID
from crmsync.run.mirror import Mirror
from crmsync.run.stages.plan import TARGET_ID
from crmsync.run.stages.routing import routes_of
from crmsync.schema import OBJECTS
from crmsync.state import StateDB, StepState

TODO = pl.DataFrame(
    {
        "_row": [2, 3, 4],
        KEY: ["ada@x.org", "bob@x.org", "row-hash"],
        KNOWN_ID: [None, "c-9", None],
        KEYED: [True, True, False],
    },
    schema_overrides={KNOWN_ID: pl.String},
)


@pytest.fixture
def state(tmp_path: Path) -> Any:
    with StateDB.open(tmp_path / "state.db") as db:
        yield StepState(db, destination="t", step="contacts", run_id=1, dry_run=False)


def test_a_key_rally_has_routes_the_row_to_its_record(state: StepState) -> None:
    mirror = Mirror(OBJECTS["contacts"], state)
    mirror.saw({"id": "c-1", "email": "Ada@x.org", "firstName": "Ada", "lastName": "L"})
    routes = routes_of(TODO, mirror, "auto")
    assert dict(routes.update.select("_row", TARGET_ID).iter_rows()) == {2: "c-1", 3: "c-9"}
    assert routes.create["_row"].to_list() == [4]


def test_an_empty_tenant_is_not_asked_about_keys(
    state: StepState, monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror = Mirror(OBJECTS["contacts"], state)
    assert not mirror.holds_any()

    def asked(keys: object) -> dict[str, str]:
        raise AssertionError("looked up keys in an empty tenant")

    monkeypatch.setattr(mirror, "ids_of", asked)
    routes = routes_of(TODO, mirror, "auto")
    assert routes.create["_row"].to_list() == [2, 4]
    assert dict(routes.update.select("_row", TARGET_ID).iter_rows()) == {3: "c-9"}


def test_a_dry_run_sees_what_it_listed_in_memory(tmp_path: Path) -> None:
    with StateDB.open(tmp_path / "state.db") as db:
        dry = StepState(db, destination="t", step="contacts", run_id=1, dry_run=True)
        mirror = Mirror(OBJECTS["contacts"], dry)
        mirror.saw({"id": "c-1", "email": "ada@x.org", "firstName": "Ada", "lastName": "L"})
        assert not dry.has_seen("contacts")  # a dry run writes nothing
        assert mirror.holds_any()
        assert routes_of(TODO, mirror, "auto").update["_row"].to_list() == [2, 3]
