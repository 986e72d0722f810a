"""StepState: one step's slice of the state database, durable as soon as a write returns."""

from __future__ import annotations

import signal
from pathlib import Path

import polars as pl
import pytest

from crmsync.errors import StateError
from crmsync.state import StateDB, StepState, destination_scope
from crmsync.state.hashing import hash_code

from .conftest import run_script

TENANT = destination_scope("https://acme.rallycrm.io", "rk_live_secret")


def _step(db: StateDB, *, dry_run: bool = False, step: str = "contacts") -> StepState:
    return StepState(db, destination=TENANT, step=step, run_id=1, dry_run=dry_run)


def test_the_destination_scope_names_the_tenant_without_its_key() -> None:
    assert TENANT.startswith("https://acme.rallycrm.io#")
    assert "secret" not in TENANT
    assert destination_scope("https://acme.rallycrm.io", "another") != TENANT


def test_settled_records_are_found_as_accepted_and_by_their_keys(db: StateDB) -> None:
    state = _step(db)
    state.settle(
        "contacts",
        [("ada@x.org", "h1", "c-1"), ("bob@x.org", "h2", "c-2")],
        {"email": [("ada@x.org", "c-1"), ("bob@x.org", "c-2")]},
    )
    # the hashes as their 64-bit codes: what planning compares, in an eighth of the memory
    # (no source fingerprint yet); the Rally ids asked for by key (a rerun needs those of
    # its changed rows alone)
    assert sorted(state.accepted().rows()) == [
        ("ada@x.org", _code("h1"), None),
        ("bob@x.org", _code("h2"), None),
    ]
    assert state.accepted_ids(["bob@x.org", "eve@x.org"]) == {"bob@x.org": "c-2"}
    assert state.ids("contacts", "email", ["bob@x.org", "eve@x.org"]) == {"bob@x.org": "c-2"}
    # another step of the same destination sees the ids, not the hashes
    other = _step(db, step="activities")
    assert other.ids("contacts", "email", ["ada@x.org"]) == {"ada@x.org": "c-1"}
    assert other.accepted().is_empty()


def test_accepted_read_ahead_on_another_thread_is_what_a_direct_read_gives(db: StateDB) -> None:
    rows = [(f"p{n}@x.org", f"h{n}", f"c-{n}") for n in range(5_000)]
    _step(db).settle("contacts", rows, {"email": [(k, r) for k, _, r in rows]})
    state = _step(db)
    state.prefetch_accepted()
    state.prefetch_accepted()  # a second call reads nothing more
    assert state.ids("contacts", "email", ["p7@x.org"]) == {"p7@x.org": "c-7"}  # meanwhile
    ahead = state.accepted()
    assert sorted(ahead.rows()) == sorted((k, _code(h), None) for k, h, _ in rows)
    assert ahead.equals(state.accepted())  # the next call reads again


def test_a_source_fingerprint_counts_while_its_record_keeps_the_hash_it_was_stored_with(
    db: StateDB,
) -> None:
    h1, h2, h3 = "a1" * 32, "b2" * 32, "c3" * 32
    state = _step(db)
    state.settle("contacts", [("ada@x.org", h1, "c-1"), ("bob@x.org", h2, "c-2")], {})
    fp_ada, fp_bob, fp_eve = "1" * 32, "2" * 32, "3" * 32
    state.fingerprint(
        pl.DataFrame(
            {
                "match_key": ["ada@x.org", "bob@x.org", "eve@x.org"],
                # bob's row was planned with a hash Rally's record does not hold (not
                # accepted): nothing is stored for it, nor for eve, who has no record
                "payload_hash": [h1, h3, h1],
                "source_fp": [fp_ada, fp_bob, fp_eve],
            }
        )
    )
    _step(db, dry_run=True).fingerprint(
        pl.DataFrame({"match_key": ["bob@x.org"], "payload_hash": [h2], "source_fp": [fp_bob]})
    )
    codes = dict(((key, fp) for key, _, fp in state.accepted().rows()))
    assert codes == {"ada@x.org": _code(fp_ada), "bob@x.org": None}
    # a later write of another payload: the fingerprint no longer vouches for the record
    state.settle("contacts", [("ada@x.org", h3, "c-1")], {})
    assert dict(((key, fp) for key, _, fp in state.accepted().rows()))["ada@x.org"] is None
    # the same payload written again (a rerun of an undone run, say): it counts again
    state.settle("contacts", [("ada@x.org", h1, "c-1")], {})
    assert dict(((key, fp) for key, _, fp in state.accepted().rows()))["ada@x.org"] == _code(fp_ada)


def test_a_failed_read_ahead_fails_where_the_hashes_are_needed(tmp_path: Path) -> None:
    db = StateDB.open(tmp_path / "s.db")
    state = _step(db)
    db.close()  # the read ahead meets a closed database
    state.prefetch_accepted()
    with pytest.raises(StateError, match="closed"):
        state.accepted()


def test_another_destination_knows_nothing_of_this_one(db: StateDB) -> None:
    _step(db).settle("contacts", [("ada@x.org", "h1", "c-1")], {"email": [("ada@x.org", "c-1")]})
    prod = StepState(
        db,
        destination=destination_scope("https://prod.rallycrm.io", "k"),
        step="contacts",
        run_id=2,
        dry_run=False,
    )
    assert prod.accepted().is_empty()
    assert prod.ids("contacts", "email", ["ada@x.org"]) == {}


def test_a_dry_run_reads_but_writes_nothing(db: StateDB) -> None:
    _step(db).remember_ids("companies", "domain", [("acme.com", "co-1")])
    dry = _step(db, dry_run=True)
    dry.settle("contacts", [("ada@x.org", "h1", "c-1")], {"email": [("ada@x.org", "c-1")]})
    dry.remember_ids("companies", "domain", [("globex.com", "co-2")])
    dry.advance_watermark("redmine", "2025-06-01T00:00:00Z")
    assert dry.ids("companies", "domain", ["acme.com", "globex.com"]) == {"acme.com": "co-1"}
    assert dry.accepted().is_empty()
    assert dry.watermark("redmine") is None


def test_has_seen_says_whether_a_record_of_the_object_was_kept_here(db: StateDB) -> None:
    step = _step(db)
    assert not step.has_seen("contacts")
    step.keep_seen("contacts", [("ada@x.org", {"id": "c-1", "email": "ada@x.org"})])
    assert step.has_seen("contacts")
    assert not step.has_seen("companies")
    other = StepState(db, destination="elsewhere", step="contacts", run_id=1, dry_run=False)
    assert not other.has_seen("contacts")


def test_a_watermark_only_moves_forward(db: StateDB) -> None:
    state = _step(db)
    state.advance_watermark("redmine", "2025-06-02T00:00:00Z")
    state.advance_watermark("redmine", "2025-06-01T00:00:00Z")
    assert state.watermark("redmine") == "2025-06-02T00:00:00Z"
    assert _step(db, step="other").watermark("redmine") is None


KILLED_AFTER_SETTLING = """
import os, signal, sys
from crmsync.state import StateDB, StepState
db = StateDB.open(sys.argv[1])
run_id = db.runs.start("nightly")
state = StepState(db, destination="t", step="contacts", run_id=run_id, dry_run=False)
for batch in range(3):
    rows = [batch * 100 + i for i in range(100)]
    state.settle("contacts", [(f"k{n}", f"h{n}", f"id{n}") for n in rows], {})
print(run_id, flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # no close, no atexit: the process just dies
"""


def test_settled_records_survive_sigkill_right_after_settle_returns(db_path: Path) -> None:
    StateDB.open(db_path).close()
    result = run_script(KILLED_AFTER_SETTLING, str(db_path))
    assert result.returncode == -signal.SIGKILL, result.stderr
    run_id = int(result.stdout)
    with StateDB.open(db_path) as db:
        assert db.runs.mark_crashed("nightly") == 1
        assert db.runs.last_unfinished("nightly") == run_id
        accepted = StepState(db, destination="t", step="contacts", run_id=0, dry_run=True)
        rows = accepted.accepted().rows()
    assert sorted(rows) == sorted((f"k{i}", _code(f"h{i}"), None) for i in range(300))


def _code(text: str) -> int:
    return int(pl.select(hash_code(pl.lit(text))).item())
