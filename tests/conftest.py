"""Shared fixtures: an in-memory Rally behind a respx router, and a fake clock the client shares.

FakeRally answers bulk, upsert and list like the documents say, and plays a script of faults
per endpoint: a status to answer without acting, "commit+500" / "commit+drop" (act, then lose
the answer), or an httpx exception to raise before acting. Its timestamps and Date headers
come from the same FakeTime the client sleeps on, so nothing in the tests really waits.

`in_virtual_time` runs a coroutine on an event loop whose clock jumps to the next timer instead
of sleeping: seconds of paced, rate-limited load simulated in milliseconds.

Everything is reached through fixtures, so no test imports this file.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import random
import selectors
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Coroutine, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any, TypeVar

import httpx
import pytest
import respx

from crmsync.api import RallyClient
from crmsync.load import LoadResult, LoadSettings, load_records
from crmsync.schema import OBJECTS
from crmsync.schema.fields import format_timestamp


def pytest_collection_finish(session: pytest.Session) -> None:
    """What collecting imported (polars, dagster, every module and test) is left out of the
    garbage collector's passes from now on: the in-process sandbox collects as it closes,
    and each full pass went through some 170,000 such objects (0.1 to 0.3 s a test)."""
    gc.freeze()


KEY = "rk_live_S3CRET-test-key-0042"
BASE_URL = "https://acme.rallycrm.io"
API = f"{BASE_URL}/api/v1"
SERVER_EPOCH = datetime(2025, 6, 1, tzinfo=UTC)
COMMIT_THEN_500 = "commit+500"
COMMIT_THEN_DROP = "commit+drop"
BAD_FIELD = "bad"  # a record carrying this key is refused at its index in a bulk
MALFORMED_FIELD = "malformed"  # a record carrying this key makes the whole bulk a 400

T = TypeVar("T")

# What a scripted request meets: a status (answered without acting), (status, headers), an
# exception raised before acting, "ok", COMMIT_THEN_500 / COMMIT_THEN_DROP, or a function that
# rewrites the answer of a request that was acted on.
Action = (
    int | str | Exception | tuple[int, dict[str, str]] | Callable[[httpx.Response], httpx.Response]
)


class FakeTime:
    """A clock that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)

    def server_time(self) -> datetime:
        return SERVER_EPOCH + timedelta(seconds=self.now)


@dataclass
class FakeRally:
    """One tenant's records, per object, and the requests it saw."""

    time: FakeTime = field(default_factory=FakeTime)
    api_key: str = KEY
    records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: defaultdict(dict))
    script: dict[str, deque[Action]] = field(default_factory=lambda: defaultdict(deque))
    calls: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    bulk_sizes: list[int] = field(default_factory=list)
    ids: Callable[[str, dict[str, Any]], str] | None = None  # how new ids are made
    record_skew: float = 0.0  # the records' stamps minus the Date headers' clock (seconds)
    _counter: int = 0

    def plan(self, endpoint: str, *actions: Action) -> None:
        """Queue what the next requests to `endpoint` (bulk, upsert, list) meet."""
        self.script[endpoint].extend(actions)

    def router(self) -> respx.Router:
        router = respx.Router(assert_all_called=False)
        router.post(path__regex=r"/api/v1/(?P<obj>\w+)/bulk$").mock(
            side_effect=self._endpoint("bulk", self._bulk)
        )
        router.put(path__regex=r"/api/v1/(?P<obj>\w+)/upsert$").mock(
            side_effect=self._endpoint("upsert", self._upsert)
        )
        router.get(path__regex=r"/api/v1/(?P<obj>\w+)$").mock(
            side_effect=self._endpoint("list", self._list)
        )
        router.get(path__regex=r"/api/v1/(?P<obj>\w+)/(?P<record_id>[^/]+)$").mock(
            side_effect=self._get
        )
        return router

    def client(self, settings: LoadSettings | None = None) -> RallyClient:
        return RallyClient(
            BASE_URL,
            KEY,
            settings=settings or LoadSettings(),
            transport=httpx.MockTransport(self.router().async_handler),
            sleep=self.time.sleep,
            clock=self.time.clock,
            rng=random.Random(7),
        )

    def load(
        self,
        items: Iterable[dict[str, Any]],
        obj: str = "contacts",
        settings: LoadSettings | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> LoadResult:
        """load_records over this fake, keys being the item positions."""
        settings = settings or LoadSettings()

        async def go() -> LoadResult:
            async with self.client(settings) as client:
                return await load_records(
                    client,
                    OBJECTS[obj],
                    enumerate(items),
                    settings,
                    on_progress=on_progress,
                )

        return asyncio.run(go())

    @staticmethod
    def contact(i: int, **extra: Any) -> dict[str, Any]:
        return {"firstName": "Ada", "lastName": f"No{i}", "email": f"ada{i}@example.com", **extra}

    def stored(self, obj: str) -> list[dict[str, Any]]:
        return list(self.records[obj].values())

    def count(self, endpoint: str) -> int:
        suffix = {"bulk": "/bulk", "upsert": "/upsert"}.get(endpoint)
        if suffix is None:
            return sum(1 for method, _ in self.calls if method == "GET")
        return sum(1 for _, path in self.calls if path.endswith(suffix))

    # -- plumbing --------------------------------------------------------------------------------

    def _endpoint(
        self, name: str, act: Callable[[str, Any], httpx.Response]
    ) -> Callable[..., httpx.Response]:
        def handle(request: httpx.Request, obj: str) -> httpx.Response:
            self.calls.append((request.method, request.url.path))
            action: Action = self.script[name].popleft() if self.script[name] else "ok"
            if isinstance(action, Exception):
                raise action
            if isinstance(action, int):
                return self._answer(action, {"error": f"injected {action}"})
            if isinstance(action, tuple):
                status, headers = action
                return self._answer(status, {"error": f"injected {status}"}, headers)
            body = json.loads(request.content) if request.content else None
            response = act(obj, body if body is not None else request.url.params)
            if action == COMMIT_THEN_500:
                return self._answer(500, {"error": "committed, then failed"})
            if action == COMMIT_THEN_DROP:
                raise httpx.RemoteProtocolError("peer closed connection", request=request)
            if callable(action):
                return action(response)
            return response

        return handle

    def _answer(
        self, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        date = format_datetime(self.time.server_time(), usegmt=True)
        return httpx.Response(status, json=body, headers={"Date": date, **(headers or {})})

    def _new_id(self, obj: str, record: dict[str, Any]) -> str:
        if self.ids is not None:
            return self.ids(obj, record)
        self._counter += 1
        return f"00000000-0000-4000-8000-{self._counter:012d}"

    def _key_of(self, obj: str, record: dict[str, Any]) -> str | None:
        name = {"contacts": "email", "companies": "domain"}.get(obj)
        value = record.get(name) if name else None
        return value.lower() if isinstance(value, str) and value else None

    def _find(self, obj: str, key: str) -> dict[str, Any] | None:
        for doc in self.records[obj].values():
            if self._key_of(obj, doc) == key:
                return doc
        return None

    def _store(self, obj: str, record: dict[str, Any], record_id: str | None = None) -> str:
        record_id = record_id or self._new_id(obj, record)
        stamp = format_timestamp(self.time.server_time() + timedelta(seconds=self.record_skew))
        created = self.records[obj].get(record_id, {}).get("createdAt", stamp)
        self.records[obj][record_id] = {
            **record,
            "id": record_id,
            "createdAt": created,
            "updatedAt": stamp,
        }
        return record_id

    def _get(self, request: httpx.Request, obj: str, record_id: str) -> httpx.Response:
        self.calls.append((request.method, request.url.path))
        record = self.records[obj].get(record_id)
        if record is None:
            return self._answer(404, {"error": "not found"})
        return self._answer(200, record)

    # -- endpoints -------------------------------------------------------------------------------

    def _bulk(self, obj: str, items: list[dict[str, Any]]) -> httpx.Response:
        self.bulk_sizes.append(len(items))
        if any(MALFORMED_FIELD in item for item in items):
            return self._answer(400, {"error": "malformed record in request"})
        created: list[str] = []
        errors: list[dict[str, Any]] = []
        for index, item in enumerate(items):
            key = self._key_of(obj, item)
            if BAD_FIELD in item:
                errors.append({"index": index, "error": f"record {index} is bad"})
            elif key is not None and self._find(obj, key) is not None:
                errors.append({"index": index, "error": "already exists"})
            else:
                created.append(self._store(obj, item))
        body = {
            "created": len(created),
            "updated": 0,
            "failed": len(errors),
            "createdIds": created,
            "errors": errors,
        }
        return self._answer(200, body)

    def _upsert(self, obj: str, record: dict[str, Any]) -> httpx.Response:
        if BAD_FIELD in record or MALFORMED_FIELD in record:
            return self._answer(422, {"error": "record is bad"})
        key = self._key_of(obj, record)
        existing = self._find(obj, key) if key else None
        if existing is not None:
            self._store(obj, record, existing["id"])
            return self._answer(200, {"action": "updated", "id": existing["id"]})
        return self._answer(200, {"action": "created", "id": self._store(obj, record)})

    def _list(self, obj: str, params: httpx.QueryParams) -> httpx.Response:
        docs = sorted(self.records[obj].values(), key=lambda d: (d["updatedAt"], d["id"]))
        since = params.get("updatedSince")
        if since is not None:
            docs = [d for d in docs if d["updatedAt"] >= since]
        offset = int(params.get("offset", 0))
        limit = int(params.get("limit", 50))
        page = docs[offset : offset + limit]
        fields = params.get("fields")
        if fields:
            names = fields.split(",")
            page = [{name: doc.get(name) for name in names} for doc in page]
        return self._answer(200, page)


@pytest.fixture
def fake() -> FakeRally:
    return FakeRally()


@pytest.fixture
def make_fake() -> Callable[[], FakeRally]:
    """A factory, for tests (hypothesis) that need a fresh fake per example."""
    return FakeRally


class _InstantSelector(selectors.DefaultSelector):
    """Waiting for a timer moves the loop's clock to it instead of sleeping."""

    def __init__(self) -> None:
        super().__init__()
        self.loop: VirtualTimeLoop | None = None

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is None:
            raise RuntimeError("nothing left to wait for: the simulation is stuck")
        assert self.loop is not None
        self.loop.now += max(0.0, timeout)
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop on virtual time: asyncio.sleep and loop.time() never touch the real clock."""

    def __init__(self) -> None:
        selector = _InstantSelector()
        super().__init__(selector)
        selector.loop = self
        self.now = 0.0

    def time(self) -> float:
        return self.now


def _in_virtual_time(coro: Coroutine[Any, Any, T]) -> T:
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(coro)


@pytest.fixture
def in_virtual_time() -> Callable[[Coroutine[Any, Any, Any]], Any]:
    """Run a coroutine to its end in virtual time; returns its result."""
    return _in_virtual_time


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server for this test process (a throwaway cluster from the system's
    server binaries). Without them the tests that need it skip on a developer's machine, saying
    what to install, and fail under CI (`.ci/run` installs them)."""
    from crmsync.sandbox.postgres import PostgresMissing, temporary_postgres

    try:
        with temporary_postgres() as url:
            yield url
    except PostgresMissing as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is needed under CI: {exc}")
        pytest.skip(str(exc))


@pytest.fixture
def pg_schema(postgres_url: str) -> str:
    """A schema of its own for one test, on the shared server."""
    return f"t_{uuid.uuid4().hex[:16]}"
