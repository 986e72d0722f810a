"""Ambiguous bulk writes: reconciled by listing what Rally stored, never re-sent blindly."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from crmsync.api import RallyClient
from crmsync.load import LoadResult, LoadSettings, load_records
from crmsync.load.reconcile import listing_fields, match_listed, normalize
from crmsync.schema import OBJECTS

BASE_URL = "https://acme.rallycrm.io"  # as the fake's router expects
KEY = "rk_live_S3CRET-test-key-0042"

COMMIT_THEN_500 = "commit+500"
COMMIT_THEN_DROP = "commit+drop"
UNKNOWN = "state in Rally unknown"


def _task(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "activityType": "task",
        "subject": f"Follow up {i}",
        "dueDate": "2025-07-15T17:00:00Z",
        "priority": "high",
        **extra,
    }


AMBIGUOUS_FAULTS = [
    (COMMIT_THEN_500, True),
    (COMMIT_THEN_DROP, True),
    (500, False),
    (502, False),
    (httpx.ReadTimeout("no answer"), False),
    (httpx.ReadError("reset"), False),
]
FAULT_IDS = ["commit-500", "commit-drop", "500", "502", "read-timeout", "read-error"]


@pytest.mark.parametrize(("fault", "committed"), AMBIGUOUS_FAULTS, ids=FAULT_IDS)
def test_ambiguous_contacts_are_sent_again_and_what_rally_refuses_is_found_by_key(
    fake: Any, fault: Any, committed: bool
) -> None:
    """Rally refuses a key it has, so keyed records are sent again as they are: what the
    first bulk did not write is created, what it did is refused and found in one listing."""
    items = [fake.contact(i) for i in range(20)]
    fake.plan("bulk", fault)
    result = fake.load(items)
    assert result.count("created") == 20
    assert all(o.reconciled for o in result.outcomes)
    assert fake.count("bulk") == 2 and fake.count("upsert") == 0
    assert fake.count("list") == (1 if committed else 0)
    stored = fake.stored("contacts")
    assert len(stored) == 20
    assert len({doc["email"] for doc in stored}) == 20
    by_id = {doc["id"]: doc for doc in stored}
    for outcome in result.outcomes:
        assert by_id[outcome.rally_id]["email"] == items[outcome.key]["email"]


def test_a_503_on_bulk_waits_its_retry_after_before_reconciling(fake: Any) -> None:
    fake.plan("bulk", (503, {"Retry-After": "3"}))
    result = fake.load([fake.contact(i) for i in range(5)])
    assert result.count("created") == 5
    assert fake.time.sleeps[0] == 3.0
    assert len(fake.stored("contacts")) == 5


def test_a_record_refused_when_the_rest_is_sent_again_fails_alone(fake: Any) -> None:
    items = [fake.contact(i, **({"bad": True} if i == 1 else {})) for i in range(3)]
    fake.plan("bulk", 500)
    result = fake.load(items)
    assert {o.key: o.status for o in result.outcomes} == {0: "created", 1: "failed", 2: "created"}
    # the refusal is looked up first (the first bulk did not write it either): around the
    # first bulk's failed answer, from just before it left, then in the wider margin before
    # that; it stands
    assert fake.count("bulk") == 2 and fake.count("list") == 3 and fake.count("upsert") == 0


def test_re_sends_that_keep_failing_leave_the_state_unknown(fake: Any) -> None:
    fake.plan("bulk", *[500] * 20)
    result = fake.load([fake.contact(i) for i in range(3)], settings=LoadSettings(max_retries=2))
    assert result.count("failed") == 3
    assert fake.count("bulk") == 3  # the bulk, then a re-send per allowed retry
    for outcome in result.outcomes:
        assert outcome.error is not None and UNKNOWN in outcome.error
        assert "HTTP 500" in outcome.error and outcome.reconciled
    assert fake.stored("contacts") == []


@pytest.mark.parametrize(("fault", "committed"), AMBIGUOUS_FAULTS, ids=FAULT_IDS)
def test_ambiguous_activities_are_reconciled_by_listing(
    fake: Any, fault: Any, committed: bool
) -> None:
    items = [_task(i) for i in range(30)]
    fake.load([_task(-1)], obj="activities")  # an older record the listing must not claim
    fake.time.now += 60
    fake.plan("bulk", fault)
    result = fake.load(items, obj="activities")
    assert result.count("created") == 30
    assert all(o.reconciled for o in result.outcomes)
    assert fake.count("list") >= 1
    # Re-sent only when the first bulk had not been committed.
    assert fake.count("bulk") == (2 if committed else 3)
    stored = fake.stored("activities")
    assert len(stored) == 31
    by_id = {doc["id"]: doc for doc in stored}
    for outcome in result.outcomes:
        assert by_id[outcome.rally_id]["subject"] == items[outcome.key]["subject"]


@pytest.mark.parametrize("skew", [-2.0, -0.7, 0.0, 3.0])
@pytest.mark.parametrize("fault", [COMMIT_THEN_500, COMMIT_THEN_DROP])
@pytest.mark.parametrize("obj", ["activities", "contacts"])
def test_a_records_clock_off_the_date_headers_doubles_and_fails_nothing(
    fake: Any, skew: float, fault: str, obj: str
) -> None:
    """Rally stamps records `skew` seconds off the clock of its Date headers. The first
    bulk's record is read back once (one GET), and the listing that settles the second,
    committed bulk starts on the records' clock: no activity is sent twice, no contact
    Rally refuses as already there (the bulk's own) fails."""
    fake.record_skew = skew
    items = [_task(i) if obj == "activities" else fake.contact(i) for i in range(20)]
    fake.plan("bulk", "ok", fault)
    settings = LoadSettings(batch_size=10, concurrency=1, max_concurrency=1)
    result = fake.load(items, obj=obj, settings=settings)
    assert result.count("created") == 20
    assert fake.count("bulk") == (2 if obj == "activities" else 3)  # contacts: sent again
    assert len(fake.stored(obj)) == 20
    reads = [path.count("/") == 4 for method, path in fake.calls if method == "GET"]
    assert reads[0] and reads.count(True) == 1  # the records' clock read once, first


Handler = Callable[[httpx.Request], Awaitable[httpx.Response]]


def _load_through(
    fake: Any, handler: Handler, settings: LoadSettings, tasks: list[dict[str, Any]]
) -> LoadResult:
    """Load activities through `handler` (which hands requests to the fake as it sees fit),
    on the fake's clock."""

    async def go() -> LoadResult:
        async with RallyClient(
            BASE_URL,
            KEY,
            settings=settings,
            transport=httpx.MockTransport(handler),
            sleep=fake.time.sleep,
            clock=fake.time.clock,
        ) as client:
            return await load_records(client, OBJECTS["activities"], enumerate(tasks), settings)

    return asyncio.run(go())


def test_a_listing_waits_for_a_bulk_in_flight_to_learn_the_records_clock(fake: Any) -> None:
    """Two bulks at once; the second loses its answer before the first is answered. The
    listing that settles it waits for that answer: the record it created tells the clock
    Rally stamps records on (2 s behind its Date headers), so nothing is sent twice."""
    fake.record_skew = -2.0
    fake.plan("bulk", "ok", COMMIT_THEN_DROP)
    router = fake.router()
    second_failed = asyncio.Event()
    posts = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal posts
        if request.method != "POST":
            return await router.async_handler(request)
        posts += 1
        if posts == 1:
            response = await router.async_handler(request)
            await second_failed.wait()  # answered once the second has lost its answer
            return response
        try:
            return await router.async_handler(request)
        finally:
            second_failed.set()

    settings = LoadSettings(batch_size=10, concurrency=2, max_concurrency=2)
    result = _load_through(fake, handler, settings, [_task(i) for i in range(20)])
    assert result.count("created") == 20
    assert len(fake.stored("activities")) == 20 and fake.count("bulk") == 2


def test_listing_re_sends_only_what_it_did_not_find(fake: Any) -> None:
    items = [_task(i, **({"bad": True} if i in (2, 5) else {})) for i in range(8)]
    fake.plan("bulk", COMMIT_THEN_DROP)
    result = fake.load(items, obj="activities")
    assert {o.key for o in result.outcomes if o.status == "failed"} == {2, 5}
    assert result.count("created") == 6
    assert fake.bulk_sizes == [8, 2]
    assert len(fake.stored("activities")) == 6


def test_identical_activities_match_distinct_records(fake: Any) -> None:
    items = [_task(1), _task(1), _task(1)]
    fake.plan("bulk", COMMIT_THEN_DROP)
    result = fake.load(items, obj="activities")
    ids = [o.rally_id for o in result.outcomes]
    assert result.count("created") == 3 and len(set(ids)) == 3
    assert len(fake.stored("activities")) == 3


def test_a_record_this_load_already_owns_is_never_claimed_twice(fake: Any) -> None:
    settings = LoadSettings(batch_size=1, concurrency=1)
    fake.plan("bulk", "ok", 500)  # the second, identical activity was not written
    result = fake.load([_task(1), _task(1)], obj="activities", settings=settings)
    assert result.count("created") == 2
    assert len({o.rally_id for o in result.outcomes}) == 2
    assert len(fake.stored("activities")) == 2


def test_a_listing_never_claims_the_record_of_a_bulk_still_in_flight(fake: Any) -> None:
    """Two identical activities in two batches at once, after one that told the records'
    clock: the first batch's answer is lost, the second's record is committed but its
    answer still on the way when the first batch lists. Each must end with its own record,
    none orphaned, none claimed twice."""
    told, first, second = (
        "33333333-3333-4333-8333-333333333333",  # the first bulk's: the records' clock
        "22222222-2222-4222-8222-222222222222",  # the lost batch's record
        "11111111-1111-4111-8111-111111111111",  # sorts first: the one a listing would claim
    )
    new_ids = iter([told, first, second])
    fake.ids = lambda obj, record: next(new_ids)
    fake.plan("bulk", "ok", COMMIT_THEN_500)
    router = fake.router()
    listed = asyncio.Event()
    bulks = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal bulks
        is_bulk = request.url.path.endswith("/bulk")
        bulks += is_bulk
        number = bulks
        response = await router.async_handler(request)
        if is_bulk and number == 3:  # committed; the answer arrives after the listing
            await listed.wait()
        elif request.method == "GET" and request.url.path.endswith("/activities"):
            listed.set()
        return response

    settings = LoadSettings(batch_size=1, concurrency=1, max_concurrency=2)
    result = _load_through(fake, handler, settings, [_task(0), _task(1), _task(1)])
    assert listed.is_set()
    by_row = {o.key: o.rally_id for o in result.outcomes}
    assert result.count("created") == 3
    assert by_row == {0: told, 1: first, 2: second}
    assert len(fake.stored("activities")) == 3


def test_companies_with_and_without_domain_take_both_paths(fake: Any) -> None:
    items = [
        {"name": "Acme", "domain": "acme.com"},
        {"name": "No Domain Ltd"},
        {"name": "Globex", "domain": "globex.com", "tags": ["a", "b"], "annualRevenue": 1.5e6},
    ]
    fake.plan("bulk", COMMIT_THEN_500)
    result = fake.load(items, obj="companies")
    assert result.count("created") == 3
    # the two with a domain sent again (refused, found by key), the one without found by
    # its content: two listings, no upsert
    assert fake.count("upsert") == 0 and fake.count("list") == 2 and fake.count("bulk") == 2
    assert len(fake.stored("companies")) == 3


def test_listing_that_keeps_failing_leaves_the_state_unknown(fake: Any) -> None:
    fake.plan("bulk", COMMIT_THEN_DROP)
    fake.plan("list", *[503] * 10)
    result = fake.load(
        [_task(i) for i in range(4)], obj="activities", settings=LoadSettings(max_retries=1)
    )
    assert result.count("failed") == 4
    assert all(UNKNOWN in (o.error or "") for o in result.outcomes)


def test_re_sends_are_bounded(fake: Any) -> None:
    fake.plan("bulk", *[500] * 10)
    settings = LoadSettings(max_retries=3)
    result = fake.load([_task(i) for i in range(4)], obj="activities", settings=settings)
    assert result.count("failed") == 4
    assert all(UNKNOWN in (o.error or "") for o in result.outcomes)
    assert fake.count("bulk") == 4 and fake.count("list") == 3
    assert result.retries == 3  # each re-send counts as a retry
    assert fake.stored("activities") == []


def test_listing_falls_back_to_whole_records_when_fields_are_refused(fake: Any) -> None:
    fake.plan("bulk", COMMIT_THEN_DROP)
    fake.plan("list", "ok", 400)  # the first list learns the server's time (no Date yet)
    result = fake.load([_task(i) for i in range(3)], obj="activities")
    assert result.count("created") == 3 and fake.count("bulk") == 1


@pytest.mark.parametrize(
    ("sent", "stored", "field"),
    [
        ("2025-07-15T17:00:00Z", "2025-07-15T17:00:00.000Z", "dueDate"),
        ("2025-07-15T19:00:00+02:00", "2025-07-15T17:00:00.000Z", "dueDate"),
        (45000000, 45000000.0, "annualRevenue"),
        (Decimal("1.50"), 1.5, "annualRevenue"),
        ("Ada@Example.COM", "ada@example.com", "email"),
        (" Follow up ", "Follow up", "subject"),
        (["a", "b"], ["a", "b"], "tags"),
    ],
    ids=["z-vs-ms", "offset", "int-float", "decimal", "email-case", "spaces", "list"],
)
def test_normalize_makes_a_sent_value_equal_its_stored_echo(
    sent: Any, stored: Any, field: str
) -> None:
    assert normalize(sent, field) == normalize(stored, field)


@pytest.mark.parametrize(
    ("one", "other", "field"),
    [("Follow up", "follow up", "subject"), (1, 2, "priority"), (["a", "b"], ["b", "a"], "tags")],
    ids=["case-matters-in-text", "numbers", "list-order"],
)
def test_normalize_keeps_real_differences(one: Any, other: Any, field: str) -> None:
    assert normalize(one, field) != normalize(other, field)


def test_match_ignores_server_defaults_for_fields_not_sent() -> None:
    sent = [{"activityType": "note", "subject": "Hi"}]
    listed = [{"id": "x", "activityType": "note", "subject": "Hi", "status": "pending"}]
    assert match_listed(sent, listed) == ["x"]


def test_match_never_uses_an_excluded_or_already_matched_id() -> None:
    sent = [{"subject": "Hi"}, {"subject": "Hi"}, {"subject": "Hi"}]
    listed = [{"id": name, "subject": "Hi"} for name in "abc"]
    assert match_listed(sent, listed, exclude_ids={"b"}) == ["a", "c", None]


def test_listing_fields_are_what_was_sent_plus_id() -> None:
    assert listing_fields([{"subject": "a"}, {"body": "b", "subject": "c"}]) == [
        "id",
        "body",
        "subject",
    ]


def test_an_identical_record_from_before_the_batch_is_not_claimed(fake: Any) -> None:
    fake.load([_task(1)], obj="activities")  # another run's record, a minute earlier
    fake.time.now += 60
    fake.plan("bulk", 500)  # this run's identical record was not written
    result = fake.load([_task(1)], obj="activities")
    assert result.count("created") == 1
    assert len(fake.stored("activities")) == 2
