"""Planning (new, changed, unchanged) and routing by load mode: pure functions of a frame."""

from __future__ import annotations

import polars as pl
import pytest

from crmsync.run.artifacts import ACTION, HASH, KEY, KEYED, KNOWN_ID, Plan
from crmsync.run.stages.plan import (
    SKIP_REASON,
    SOURCE_ID_COLUMN,
    TARGET_ID,
    Mode,
    plan,
    route,
)
from crmsync.schema import OBJECTS, RallyObject
from crmsync.state import StateDB, StepState
from crmsync.state.hashing import hash_code
from crmsync.state.tables import HASH_SCHEMA

CONTACTS = OBJECTS["contacts"]
ACTIVITIES = OBJECTS["activities"]


def contacts(*emails_titles: tuple[str | None, str]) -> pl.DataFrame:
    n = len(emails_titles)
    return pl.DataFrame(
        {
            "_source": ["f"] * n,
            "_row": list(range(2, n + 2)),
            "firstName": ["Ada"] * n,
            "lastName": ["Lovelace"] * n,
            "email": [email for email, _ in emails_titles],
            "title": [title for _, title in emails_titles],
            "_match_key": [email for email, _ in emails_titles],  # internal: never hashed
        }
    )


def against(frame: pl.DataFrame, obj: RallyObject, state: StepState) -> Plan:
    """`frame` planned against what `state` holds, as a run plans it."""
    return plan(frame, obj, state.accepted(), known_ids=state.accepted_ids)


def accepted(*rows: tuple[str, str, str | None]) -> pl.DataFrame:
    """What the state gives planning: the stored hashes as their codes."""
    stored = pl.DataFrame(rows, schema=HASH_SCHEMA, orient="row")
    return stored.with_columns(hash_code(pl.col("payload_hash")))


def test_a_first_run_plans_everything_new_with_keys_and_hashes() -> None:
    planned = plan(contacts(("ada@x.org", "Countess"), ("Bob@X.org", "Dr")), CONTACTS, accepted())
    frame = planned.frame
    assert frame[ACTION].to_list() == ["new", "new"]
    assert frame[KEY].to_list() == ["ada@x.org", "bob@x.org"]  # keys compare without case
    assert frame[KEYED].to_list() == [True, True]
    assert all(len(h) == 64 for h in frame[HASH])
    assert planned.columns == ("firstName", "lastName", "email", "title")


def test_unchanged_changed_and_new_against_what_rally_accepted() -> None:
    first = plan(contacts(("ada@x.org", "Countess"), ("bob@x.org", "Dr")), CONTACTS, accepted())
    stored = accepted(
        *((key, digest, f"id-{key}") for key, digest in first.frame.select(KEY, HASH).iter_rows())
    )
    again = contacts(("ada@x.org", "Countess"), ("bob@x.org", "Prof"), ("cy@x.org", "Mx"))
    planned = plan(again, CONTACTS, stored)
    assert planned.frame[ACTION].to_list() == ["unchanged", "changed", "new"]
    assert planned.frame[KNOWN_ID].to_list() == ["id-ada@x.org", "id-bob@x.org", None]
    assert planned.unchanged["_row"].to_list() == [2]
    assert planned.todo["_row"].to_list() == [3, 4]
    full = plan(again, CONTACTS, stored, full=True)
    assert full.frame[ACTION].to_list() == ["changed", "changed", "new"]


def test_a_payload_hash_ignores_internal_columns_and_field_order() -> None:
    one = plan(contacts(("ada@x.org", "Countess")), CONTACTS, accepted()).frame[HASH][0]
    reordered = contacts(("ada@x.org", "Countess")).select(
        "_source", "_row", "title", "email", "lastName", "firstName"
    )
    assert plan(reordered, CONTACTS, accepted()).frame[HASH][0] == one


def test_without_a_match_key_the_identity_is_the_source_id_else_the_content() -> None:
    frame = pl.DataFrame(
        {
            "_source": ["f"] * 3,
            "_row": [2, 3, 4],
            "activityType": ["call", "note", "note"],
            "subject": ["Intro", "Follow-up", "Follow-up"],
            SOURCE_ID_COLUMN: ["A-1", None, None],
        }
    )
    planned = plan(frame, ACTIVITIES, accepted()).frame
    keys = planned[KEY].to_list()
    assert keys[0] == "id:A-1"
    assert keys[1] == keys[2] == f"hash:{planned[HASH][1]}"  # same content, same record
    assert planned[KEYED].to_list() == [False, False, False]


def planned_rows() -> pl.DataFrame:
    """One row of every kind the router tells apart."""
    return pl.DataFrame(
        {
            "_row": [1, 2, 3, 4, 5, 6],
            ACTION: ["new", "changed", "changed", "new", "changed", "new"],
            KEYED: [True, True, False, False, False, True],
            KEY: ["a@x.org", "b@x.org", "hash:3", "hash:4", "hash:5", "f@x.org"],
            KNOWN_ID: [None, "id-2", "id-3", None, None, None],
        }
    )


# row 6's key is one Rally has (its list showed it): a record to merge into, not to create
FOUND = {"f@x.org": "id-6"}
ROUTES = [
    ("bulk", [1, 2, 3, 4, 5, 6], [], [], "bulk", False),
    ("auto", [1, 4, 5], [2, 3, 6], [], "bulk", True),
    ("upsert", [1, 4, 5], [2, 3, 6], [], "upsert", True),
    ("create_only", [1, 4, 5], [], [2, 3, 6], "bulk", False),
    ("update_only", [], [2, 3, 6], [1, 4, 5], "bulk", False),
]


@pytest.mark.parametrize(
    ("mode", "create", "update", "skip", "create_by", "merge_refused"),
    ROUTES,
    ids=[r[0] for r in ROUTES],
)
def test_rows_are_routed_by_mode(
    mode: Mode,
    create: list[int],
    update: list[int],
    skip: list[int],
    create_by: str,
    merge_refused: bool,
) -> None:
    routes = route(planned_rows(), mode, FOUND)
    assert routes.create["_row"].to_list() == create
    assert routes.update["_row"].to_list() == update
    assert routes.skip["_row"].to_list() == skip
    assert routes.update[TARGET_ID].to_list() == [f"id-{r}" for r in update]
    assert routes.skip[SKIP_REASON].null_count() == 0
    assert (routes.create_by, routes.merge_refused) == (create_by, merge_refused)


def test_a_plan_reads_only_its_own_step_and_destination(tmp_path: object) -> None:
    """What a plan compares with comes from StepState: other steps never count."""
    from pathlib import Path

    from crmsync.state import StepState

    with StateDB.open(Path(str(tmp_path)) / "s.db") as db:
        state = StepState(db, destination="t", step="contacts", run_id=1, dry_run=False)
        first = against(contacts(("ada@x.org", "Countess")), CONTACTS, state)
        state.settle("contacts", first.frame.select(KEY, HASH, pl.lit("c-1")).iter_rows(), {})
        other = StepState(db, destination="t", step="leads", run_id=1, dry_run=False)
        same = contacts(("ada@x.org", "Countess"))
        assert against(same, CONTACTS, state).frame[ACTION].to_list() == ["unchanged"]
        assert against(same, CONTACTS, other).frame[ACTION].to_list() == ["new"]


def test_without_stored_ids_only_the_changed_rows_ids_are_asked_for() -> None:
    first = plan(contacts(("ada@x.org", "Countess"), ("bob@x.org", "Dr")), CONTACTS, accepted())
    ada, bob = first.frame[HASH].to_list()
    stored = accepted(("ada@x.org", ada, "c-1"), ("bob@x.org", bob, "c-2")).drop("rally_id")
    asked: list[list[str]] = []

    def ids(keys: list[str]) -> dict[str, str]:
        asked.append(keys)
        return {"bob@x.org": "c-2", "eve@x.org": "c-9"}

    again = contacts(("ada@x.org", "Countess"), ("bob@x.org", "Prof"), ("eve@x.org", "Ms"))
    planned = plan(again, CONTACTS, stored, known_ids=ids).frame
    assert planned.select(ACTION, KNOWN_ID).rows() == [
        ("unchanged", None),  # settled as it is: no id needed
        ("changed", "c-2"),
        ("new", None),
    ]
    assert asked == [["bob@x.org"]]
    with pytest.raises(ValueError, match="known_ids"):
        plan(again, CONTACTS, stored)  # a changed row without its id would be created again


def test_a_dry_run_with_nothing_stored_hashes_only_the_rows_keyed_by_their_hash() -> None:
    frame = contacts(("ada@x.org", "Countess"), (None, "Dr"), ("bob@x.org", "Prof"))
    real = plan(frame, CONTACTS, accepted()).frame
    dry = plan(frame, CONTACTS, accepted(), dry_run=True).frame
    assert dry[HASH].to_list() == [None, real[HASH][1], None]
    assert dry.drop(HASH).equals(real.drop(HASH))  # the same plan, keys included
    stored = accepted(("ada@x.org", real[HASH][0], "id-1"))
    again = plan(frame, CONTACTS, stored, dry_run=True).frame  # something to compare with
    assert again[HASH].to_list() == real[HASH].to_list()
    assert again[ACTION].to_list() == ["unchanged", "new", "new"]
