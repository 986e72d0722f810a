"""Property: whatever the batch, errors and faults, one outcome per key, ids on the right keys."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmsync.load import LoadResult, LoadSettings, load_records
from crmsync.schema import OBJECTS

FAULTS: list[Any] = [
    "ok",
    "ok",
    "commit+drop",
    "commit+500",
    500,
    (429, {"Retry-After": "1"}),
    httpx.ConnectError("refused"),
]


def _payload(obj: str, key: int, flaw: str | None) -> dict[str, Any]:
    if obj == "contacts":
        record: dict[str, Any] = {"firstName": "A", "lastName": "B", "email": f"p{key}@x.io"}
    else:
        record = {"activityType": "note", "subject": f"S{key}"}
    if flaw is not None:
        record[flaw] = True
    return record


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    obj=st.sampled_from(["contacts", "activities"]),
    flaws=st.lists(st.sampled_from([None, None, None, None, "bad", "malformed"]), max_size=230),
    batch_size=st.integers(1, 100),
    concurrency=st.integers(1, 6),
    faults=st.lists(st.sampled_from(FAULTS), max_size=6),
    first_key=st.integers(-10_000, 10_000),
)
def test_one_outcome_per_key_and_ids_on_the_right_keys(
    make_fake: Callable[[], Any],
    obj: str,
    flaws: list[str | None],
    batch_size: int,
    concurrency: int,
    faults: list[Any],
    first_key: int,
) -> None:
    fake = make_fake()
    fake.plan("bulk", *faults)
    keys = [first_key + 3 * i for i in range(len(flaws))]  # keys are not positions
    payloads = {key: _payload(obj, key, flaw) for key, flaw in zip(keys, flaws, strict=True)}
    load = LoadSettings(batch_size=batch_size, concurrency=concurrency)

    async def go() -> LoadResult:
        async with fake.client(load) as client:
            return await load_records(client, OBJECTS[obj], list(payloads.items()), load)

    result = asyncio.run(go())

    assert sorted(o.key for o in result.outcomes) == sorted(keys)
    flawed = {key for key, flaw in zip(keys, flaws, strict=True) if flaw}
    assert {o.key for o in result.outcomes if o.status == "failed"} == flawed
    stored = {doc["id"]: doc for doc in fake.stored(obj)}
    created = [o for o in result.outcomes if o.status == "created"]
    assert len(stored) == len(created)  # nothing written twice, nothing unaccounted
    field = "email" if obj == "contacts" else "subject"
    for outcome in created:
        assert stored[outcome.rally_id][field] == payloads[outcome.key][field]
    assert result.requests == len(fake.calls)
