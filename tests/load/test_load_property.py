"""Property: whatever the batch, errors and faults, one outcome per key, ids on the right keys."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmsync.load import LoadResult, LoadSettings, load_records
from crmsync.schema import OBJECTS

UNKNOWN = "state in Rally unknown"
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
    failed = {o.key: o.error or "" for o in result.outcomes if o.status == "failed"}
    assert flawed <= failed.keys()
    # Beyond the flawed records, only faults that outlast the bounds may fail one, and then
    # the error says so.
    assert all(UNKNOWN in failed[key] for key in failed.keys() - flawed)
    field = "email" if obj == "contacts" else "subject"
    stored = {doc["id"]: doc for doc in fake.stored(obj)}
    copies = Counter(doc[field] for doc in stored.values())
    assert max(copies.values(), default=0) <= 1  # nothing written twice
    for outcome in result.outcomes:
        if outcome.status == "created":
            assert stored[outcome.rally_id][field] == payloads[outcome.key][field]
        elif outcome.key in flawed or UNKNOWN not in failed[outcome.key]:
            assert copies[payloads[outcome.key][field]] == 0  # failed means not written
    assert result.requests == len(fake.calls)
