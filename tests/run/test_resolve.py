"""Reference resolution: keys from the source row, ids from the run's IdIndex (this run, the
state database, then Rally's own list)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import polars as pl
import pytest

from crmsync.api import RallyClient
from crmsync.config import Lookup
from crmsync.run.ids import IdIndex
from crmsync.run.observer import RunObserver
from crmsync.run.stages.export import keep_source_keys
from crmsync.run.stages.resolve import (
    key_column,
    lookup_columns,
    lookup_sources,
    needed_keys,
    raw_column,
    resolve,
)
from crmsync.sandbox.testing import InProcessSandbox, minimal_body
from crmsync.schema import OBJECTS
from crmsync.state import StateDB, StepState

COMPANY = Lookup.model_validate(
    {
        "object": "companies",
        "by": [{"domain": "Website"}, {"email_domain": "Email"}, {"name": "Company"}],
    }
)


def source() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "_source": ["f"] * 5,
            "_row": [2, 3, 4, 5, 6],
            "Website": ["https://www.Acme.com/about", None, None, None, "nowhere.io"],
            "Email": ["a@acme.com", "b@globex.com", "c@gmail.com", None, None],
            "Company": [None, None, "Initech, Inc.", None, None],
        }
    )


def keyed(lookups: dict[str, Lookup]) -> pl.DataFrame:
    frame = source()
    columns = {name: column for name, column in lookup_sources(lookups).items()}
    return frame.select("_source", "_row").with_columns(lookup_columns(frame, lookups, columns))


def known_ids() -> IdIndex:
    ids = IdIndex()
    ids.learn("companies", "domain", {"acme.com": "co-acme", "globex.com": "co-globex"})
    ids.learn("companies", "name", {"initech": "co-initech"})
    return ids


def test_the_first_key_that_resolves_wins_and_free_mail_is_no_company() -> None:
    resolved = resolve(keyed({"companyId": COMPANY}), {"companyId": COMPANY}, known_ids())
    by_row = dict(resolved.frame.select("_row", "companyId").iter_rows())
    assert by_row == {2: "co-acme", 3: "co-globex", 4: "co-initech", 5: None}
    # row 6 gave a website that finds nothing: a failure that names what was given
    assert resolved.failures.select("_row", "field").rows() == [(6, "companyId")]
    assert resolved.failures["error"][0] == "no company found for domain 'nowhere.io'"
    assert resolved.warnings.is_empty()


@pytest.mark.parametrize(
    ("on_missing", "kept", "failures", "warnings"),
    [("fail", 4, 1, 0), ("warn", 5, 0, 1), ("null", 5, 0, 0)],
    ids=["fail", "warn", "null"],
)
def test_a_key_that_finds_nothing_follows_on_missing(
    on_missing: str, kept: int, failures: int, warnings: int
) -> None:
    lookup = COMPANY.model_copy(update={"on_missing": on_missing})
    resolved = resolve(keyed({"companyId": lookup}), {"companyId": lookup}, known_ids())
    assert resolved.frame.height == kept
    assert (resolved.failures.height, resolved.warnings.height) == (failures, warnings)


BY_IDS = Lookup.model_validate(
    {
        "object": "companies",
        "by": [{"source_id": "Associated Company IDs", "separator": ";"}],
        "on_missing": "warn",
    }
)


def test_a_key_of_several_in_a_cell_is_its_first() -> None:
    """HubSpot's "Associated Company IDs" of a contact with two companies: the first is the
    row's company, looked up, named in a warning, and what an export would write."""
    cells = ["9100;9101", "9102", " ; 9555 ;9100", ";", None]
    frame = pl.DataFrame(
        {"_source": ["f"] * 5, "_row": [2, 3, 4, 5, 6], "Associated Company IDs": cells}
    )
    lookups = {"companyId": BY_IDS}
    keys = frame.select("_source", "_row").with_columns(
        lookup_columns(frame, lookups, lookup_sources(lookups))
    )
    assert keys[key_column("companyId", 0)].to_list() == ["9100", "9102", "9555", None, None]
    assert keys[raw_column("companyId", 0)].to_list() == ["9100", "9102", "9555", None, None]
    exported = keep_source_keys(keys, lookups)["companyId"]  # a file destination's reference
    assert exported.to_list() == ["9100", "9102", "9555", None, None]
    ids = IdIndex()
    ids.learn("companies", "source_id", {"9100": "co-1", "9101": "co-2", "9102": "co-3"})
    resolved = resolve(keys, lookups, ids)
    assert resolved.frame["companyId"].to_list() == ["co-1", "co-3", None, None, None]
    assert resolved.warnings["error"].to_list() == ["no company found for source id '9555'"]


def test_without_a_separator_the_whole_cell_is_the_key() -> None:
    plain = Lookup.model_validate(
        {"object": "companies", "by": [{"source_id": "Associated Company IDs"}]}
    )
    assert plain.by[0].separator is None
    frame = pl.DataFrame({"Associated Company IDs": ["9100;9101"]})
    lookups = {"companyId": plain}
    (key, _) = lookup_columns(frame, lookups, lookup_sources(lookups))
    assert key.to_list() == ["9100;9101"]


@pytest.mark.parametrize(
    ("key", "error"),
    [
        ({"source_id": "Ids", "separator": ""}, "at least 1 character"),
        ({"separator": ";"}, "Field required"),
        ({"source_id": "Ids", "name": "Company", "separator": ";"}, "Extra inputs"),
    ],
    ids=["empty-separator", "no-column", "two-kinds"],
)
def test_a_separator_needs_one_kind_and_column_and_a_character(
    key: dict[str, str], error: str
) -> None:
    with pytest.raises(ValueError, match=error):
        Lookup.model_validate({"object": "companies", "by": [key]})


def test_needed_keys_are_the_distinct_stored_kinds_asked_for() -> None:
    needed = needed_keys(keyed({"companyId": COMPANY}), {"companyId": COMPANY})
    assert needed == {
        ("companies", "domain"): {"acme.com", "globex.com", "nowhere.io"},
        ("companies", "name"): {"initech"},
    }


def fill(ids: IdIndex, state: StepState, rally: InProcessSandbox | None, *keys: str) -> None:
    needed = {("companies", "domain"): set(keys)}

    async def go() -> None:
        if rally is None:
            await ids.fill(needed, state, None, RunObserver())
            return
        async with RallyClient(rally.base_url, rally.api_key, transport=rally.transport) as c:
            await ids.fill(needed, state, c, RunObserver())
            await ids.fill(needed, state, c, RunObserver())  # Rally is listed once per run

    asyncio.run(go())


def seed_companies(rally: InProcessSandbox, n: int) -> list[str]:
    async def go() -> list[str]:
        async with RallyClient(rally.base_url, rally.api_key, transport=rally.transport) as c:
            bodies = [minimal_body("companies", i) for i in range(n)]
            return (await c.bulk_create(OBJECTS["companies"], bodies)).created_ids

    return asyncio.run(go())


def company_lists(rally: InProcessSandbox) -> int:
    return sum(r["count"] for r in rally.stats()["requests"] if r["path"] == "/api/v1/companies")


def test_keys_the_state_database_knows_need_no_listing(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    with StateDB.open(tmp_path / "s.db") as db:
        state = StepState(db, destination="t", step="contacts", run_id=1, dry_run=False)
        state.remember_ids("companies", "domain", [("acme3.com", "co-3")])
        ids = IdIndex()
        fill(ids, state, rally, "acme3.com")
    assert ids.get("companies", "domain") == {"acme3.com": "co-3"}
    assert company_lists(rally) == 0


def test_keys_it_does_not_know_are_found_in_rally_listed_once(
    rally: InProcessSandbox, tmp_path: Path
) -> None:
    created = seed_companies(rally, 5)
    with StateDB.open(tmp_path / "s.db") as db:
        state = StepState(db, destination="t", step="contacts", run_id=1, dry_run=False)
        ids = IdIndex()
        fill(ids, state, rally, "acme4.com", "zzz.com")
        assert company_lists(rally) == 1
        companies = ids.get("companies", "domain")
        assert companies["acme4.com"] == created[4]
        assert "zzz.com" not in companies
        # what Rally showed is remembered for later runs of this destination
        assert state.ids("companies", "domain", ["acme0.com"]) == {"acme0.com": created[0]}


def test_a_dry_run_without_a_connection_uses_the_state_only(tmp_path: Path) -> None:
    with StateDB.open(tmp_path / "s.db") as db:
        StepState(db, destination="t", step="x", run_id=1, dry_run=False).remember_ids(
            "companies", "domain", [("acme4.com", "co-4")]
        )
        dry = StepState(db, destination="t", step="x", run_id=2, dry_run=True)
        ids = IdIndex()
        fill(ids, dry, None, "acme4.com", "acme5.com")
        assert ids.get("companies", "domain") == {"acme4.com": "co-4"}
