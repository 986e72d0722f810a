"""The store pages a listing as SQLite's OFFSET does, page after page, writes between or not:
it continues a page from where the last one ended only while nothing was written since."""

from __future__ import annotations

import json
import random

from crmsync.sandbox.store import Store, StoredRow

TENANT, OBJ = "t", "contacts"


def _row(n: int, updated_us: int) -> StoredRow:
    return StoredRow(f"c{n:05d}", f"p{n}@x.org", updated_us, json.dumps({"id": f"c{n:05d}"}))


def _by_offset(store: Store, offset: int, limit: int, since: int | None) -> list[str]:
    """What plain OFFSET gives: the page asked for at an offset no page ended at."""
    store._page_ends.clear()
    return _ids(store.list(TENANT, OBJ, limit=limit, offset=offset, since_us=since))


def _ids(records: list[dict[str, object]]) -> list[str]:
    return [str(record["id"]) for record in records]


def test_pages_read_in_turn_are_what_offset_gives_even_with_writes_between() -> None:
    chance = random.Random(7)
    store = Store()
    # many records share an updatedAt: the id orders them, and a page may end inside a tie
    store.insert_many(TENANT, OBJ, [_row(n, chance.randrange(40)) for n in range(1_000)])
    for since in (None, 20):
        offset, pages = 0, 0
        while True:
            page = _ids(store.list(TENANT, OBJ, limit=37, offset=offset, since_us=since))
            expected = _by_offset(store, offset, 37, since)
            if pages % 2 == 0:  # reread: the end kept above is gone, so it was OFFSET's
                store._page_ends.clear()
            assert page == expected
            if not page:
                break
            if pages % 5 == 4:  # a record moves to the end between two pages
                moved = chance.randrange(1_000)
                assert store.replace(TENANT, OBJ, _row(moved, 100 + pages))
            offset, pages = offset + len(page), pages + 1
        assert pages > 10


def test_a_page_continues_from_where_the_last_ended() -> None:
    store = Store()
    store.insert_many(TENANT, OBJ, [_row(n, n // 3) for n in range(10)])
    first = _ids(store.list(TENANT, OBJ, limit=4, offset=0, since_us=None))
    assert (TENANT, OBJ, -(2**62), 4) in store._page_ends
    second = _ids(store.list(TENANT, OBJ, limit=4, offset=4, since_us=None))
    assert first + second == [f"c{n:05d}" for n in range(8)]
    store.delete(TENANT, OBJ, "c00000")  # a write: offset 8 is read as OFFSET reads it
    third = _ids(store.list(TENANT, OBJ, limit=4, offset=8, since_us=None))
    assert third == ["c00009"]
