"""The id map, row hashes and watermarks."""

from __future__ import annotations

import polars as pl
import pytest

from crmsync.state import StateDB


def test_id_map_put_get_overwrite(db: StateDB) -> None:
    run_id = db.start_run("p")
    pairs = [("ada@example.org", "c-1"), ("zoë@exämple.org", "c-2"), ("o'neil@x.org", "c-3")]
    assert db.put_ids("contacts", "email", pairs, run_id=run_id) == 3
    db.put_ids("companies", "email", [("ada@example.org", "co-9")])  # other object
    db.put_ids("contacts", "source_id", [("ada@example.org", "c-7")])  # other kind
    assert db.get_ids("contacts", "email") == dict(pairs)
    assert db.get_ids("contacts", "email", ["zoë@exämple.org", "nobody@x.org"]) == {
        "zoë@exämple.org": "c-2"
    }
    assert db.get_ids("contacts", "email", []) == {}
    assert db.get_ids("contacts", "domain") == {}

    db.put_ids("contacts", "email", iter([("ada@example.org", "c-11")]))
    assert db.get_ids("contacts", "email", ["ada@example.org"]) == {"ada@example.org": "c-11"}
    assert db.get_ids("contacts", "source_id") == {"ada@example.org": "c-7"}


def test_get_ids_with_many_keys(db: StateDB) -> None:
    pairs = [(f"user{i}@example.org", f"id-{i}") for i in range(30_000)]
    db.put_ids("contacts", "email", pairs)
    wanted = [f"user{i}@example.org" for i in range(0, 40_000, 3)]
    found = db.get_ids("contacts", "email", wanted)
    assert found == {key: f"id-{key[4:-12]}" for key in wanted if int(key[4:-12]) < 30_000}


def test_forget_ids_drops_every_key_pointing_at_the_record(db: StateDB) -> None:
    db.put_ids("companies", "domain", [("acme.com", "co-1"), ("other.org", "co-2")])
    db.put_ids("companies", "name", [("acme", "co-1"), ("acme inc", "co-1")])
    db.put_ids("contacts", "email", [("x@acme.com", "co-1")])  # same id string, other object
    assert db.forget_ids("companies", ["co-1", "co-404"]) == 3
    assert db.get_ids("companies", "domain") == {"other.org": "co-2"}
    assert db.get_ids("companies", "name") == {}
    assert db.get_ids("contacts", "email") == {"x@acme.com": "co-1"}
    assert db.forget_ids("companies", []) == 0


def test_hashes_round_trip(db: StateDB) -> None:
    rows = [
        (f"user{i}@example.org", f"{i:064x}", f"id-{i}" if i % 5 else None) for i in range(50_000)
    ]
    assert db.put_hashes("contacts", rows) == len(rows)
    db.put_hashes("companies", [("acme.com", "f" * 64, "co-1")])
    frame = db.get_hashes("contacts")
    assert frame.schema == pl.Schema(
        {"match_key": pl.String, "payload_hash": pl.String, "rally_id": pl.String}
    )
    assert sorted(frame.rows()) == sorted(rows)
    assert db.get_hashes("companies").rows() == [("acme.com", "f" * 64, "co-1")]


def test_put_hashes_overwrites_but_an_unknown_id_keeps_the_known_one(db: StateDB) -> None:
    db.put_hashes("contacts", [("a", "h1", "id-a"), ("b", "h1", "id-b")])
    db.put_hashes("contacts", [("a", "h2", None), ("b", "h2", "id-b2"), ("c", "h3", None)])
    assert sorted(db.get_hashes("contacts").rows()) == [
        ("a", "h2", "id-a"),
        ("b", "h2", "id-b2"),
        ("c", "h3", None),
    ]


def test_delete_hashes(db: StateDB) -> None:
    db.put_hashes("contacts", [("a", "h", "1"), ("b", "h", "2"), ("c", "h", "3")])
    db.put_hashes("other", [("a", "h", "1")])
    assert db.delete_hashes("contacts", ["a", "c", "zzz"]) == 2
    assert db.get_hashes("contacts").rows() == [("b", "h", "2")]
    assert db.get_hashes("other").height == 1


def test_get_hashes_of_an_unknown_step_is_an_empty_typed_frame(db: StateDB) -> None:
    frame = db.get_hashes("never")
    assert frame.height == 0
    assert frame.columns == ["match_key", "payload_hash", "rally_id"]
    assert set(frame.dtypes) == {pl.String}


@pytest.mark.parametrize(
    "values", [["2024-01-01T00:00:00Z"], ["1", "2", "3"]], ids=["one", "three"]
)
def test_watermarks(db: StateDB, values: list[str]) -> None:
    assert db.get_watermark("contacts", "redmine") is None
    for value in values:
        db.set_watermark("contacts", "redmine", value)
    db.set_watermark("contacts", "rally", "other")
    db.set_watermark("notes", "redmine", "elsewhere")
    assert db.get_watermark("contacts", "redmine") == values[-1]
    assert db.get_watermark("contacts", "rally") == "other"
