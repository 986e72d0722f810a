"""The id map, row hashes and watermarks."""

from __future__ import annotations

import polars as pl
import pytest

from crmsync.state import StateDB


def test_id_map_put_get_overwrite(db: StateDB) -> None:
    run_id = db.runs.start("p")
    pairs = [("ada@example.org", "c-1"), ("zoë@exämple.org", "c-2"), ("o'neil@x.org", "c-3")]
    assert db.ids.put("contacts", "email", pairs, run_id=run_id) == 3
    db.ids.put("companies", "email", [("ada@example.org", "co-9")])  # other object
    db.ids.put("contacts", "source_id", [("ada@example.org", "c-7")])  # other kind
    assert db.ids.get("contacts", "email") == dict(pairs)
    assert db.ids.get("contacts", "email", ["zoë@exämple.org", "nobody@x.org"]) == {
        "zoë@exämple.org": "c-2"
    }
    assert db.ids.get("contacts", "email", []) == {}
    assert db.ids.get("contacts", "domain") == {}

    db.ids.put("contacts", "email", iter([("ada@example.org", "c-11")]))
    assert db.ids.get("contacts", "email", ["ada@example.org"]) == {"ada@example.org": "c-11"}
    assert db.ids.get("contacts", "source_id") == {"ada@example.org": "c-7"}


def test_get_ids_with_many_keys(db: StateDB) -> None:
    pairs = [(f"user{i}@example.org", f"id-{i}") for i in range(30_000)]
    db.ids.put("contacts", "email", pairs)
    wanted = [f"user{i}@example.org" for i in range(0, 40_000, 3)]
    found = db.ids.get("contacts", "email", wanted)
    assert found == {key: f"id-{key[4:-12]}" for key in wanted if int(key[4:-12]) < 30_000}


def test_hashes_round_trip(db: StateDB) -> None:
    rows = [
        (f"user{i}@example.org", f"{i:064x}", f"id-{i}" if i % 5 else None) for i in range(50_000)
    ]
    assert db.hashes.put("contacts", rows) == len(rows)
    db.hashes.put("companies", [("acme.com", "f" * 64, "co-1")])
    frame = db.hashes.get("contacts")
    assert frame.schema == pl.Schema(
        {"match_key": pl.String, "payload_hash": pl.String, "rally_id": pl.String}
    )
    assert sorted(frame.rows()) == sorted(rows)
    assert db.hashes.get("companies").rows() == [("acme.com", "f" * 64, "co-1")]


def test_put_hashes_overwrites_but_an_unknown_id_keeps_the_known_one(db: StateDB) -> None:
    db.hashes.put("contacts", [("a", "h1", "id-a"), ("b", "h1", "id-b")])
    db.hashes.put("contacts", [("a", "h2", None), ("b", "h2", "id-b2"), ("c", "h3", None)])
    assert sorted(db.hashes.get("contacts").rows()) == [
        ("a", "h2", "id-a"),
        ("b", "h2", "id-b2"),
        ("c", "h3", None),
    ]


def test_get_hashes_of_an_unknown_step_is_an_empty_typed_frame(db: StateDB) -> None:
    frame = db.hashes.get("never")
    assert frame.height == 0
    assert frame.columns == ["match_key", "payload_hash", "rally_id"]
    assert set(frame.dtypes) == {pl.String}


@pytest.mark.parametrize(
    "values", [["2024-01-01T00:00:00Z"], ["1", "2", "3"]], ids=["one", "three"]
)
def test_watermarks(db: StateDB, values: list[str]) -> None:
    assert db.watermarks.get("contacts", "redmine") is None
    for value in values:
        db.watermarks.set("contacts", "redmine", value)
    db.watermarks.set("contacts", "rally", "other")
    db.watermarks.set("notes", "redmine", "elsewhere")
    assert db.watermarks.get("contacts", "redmine") == values[-1]
    assert db.watermarks.get("contacts", "rally") == "other"
