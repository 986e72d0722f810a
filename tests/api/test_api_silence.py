"""A Rally that stopped answering altogether stops the load, not one timeout after another."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import respx
from tests.conftest import FakeTime

from crmsync.api import RallyClient
from crmsync.api.silence import SILENT_REQUESTS, SILENT_S, Silence
from crmsync.errors import AmbiguousError, ConfigError, TransientError
from crmsync.schema import OBJECTS

BASE = "https://rally.example/api/v1"
CONTACTS = OBJECTS["contacts"]
BODY = {"firstName": "Ada", "lastName": "L", "email": "ada@x.org"}


def test_silence_counts_requests_and_seconds_without_an_answer() -> None:
    time = FakeTime()
    silence = Silence(time.clock)
    for _ in range(SILENT_REQUESTS + 5):
        silence.unanswered("https://rally.example", "ReadTimeout")  # many, but at once
    time.now += SILENT_S
    with pytest.raises(ConfigError, match=r"no answer to the last \d+ requests in 300 s"):
        silence.unanswered("https://rally.example", "ReadTimeout")
    silence.answered()  # any answer: the count starts again
    time.now += SILENT_S
    silence.unanswered("https://rally.example", "ReadTimeout")


def _bulks_until_stopped(route_answer: object) -> tuple[type[BaseException], int, float]:
    time = FakeTime()
    respx.post(f"{BASE}/contacts/bulk").mock(side_effect=route_answer)
    started = time.now

    async def go() -> tuple[type[BaseException], int]:
        async with RallyClient(
            "https://rally.example", "k" * 16, clock=time.clock, sleep=time.sleep
        ) as client:
            for attempt in range(1, 60):
                try:
                    await client.bulk_create(CONTACTS, [BODY])
                except TransientError:
                    await time.sleep(30)  # what the loader does meanwhile: reconcile, wait
                    continue
                except ConfigError as exc:
                    assert "Rally is down or unreachable" in str(exc)
                    return ConfigError, attempt
            return AmbiguousError, 60

    kind, attempts = asyncio.run(go())
    return kind, attempts, time.now - started


@respx.mock
def test_a_rally_that_never_answers_stops_the_load_within_minutes() -> None:
    kind, attempts, took = _bulks_until_stopped(httpx.ReadTimeout("no answer"))
    assert kind is ConfigError
    assert attempts == 1 + SILENT_S // 30  # 300 s of silence, and 8 requests or more
    assert SILENT_S <= took < SILENT_S + 60


@respx.mock
def test_a_rally_that_answers_with_errors_is_not_silent() -> None:
    answers = iter([httpx.ReadTimeout("no answer"), httpx.Response(503)] * 1000)

    def answer(request: httpx.Request) -> httpx.Response:
        found = next(answers)
        if isinstance(found, Exception):
            raise found
        return found

    kind, attempts, _ = _bulks_until_stopped(answer)
    assert (kind, attempts) == (AmbiguousError, 60)
