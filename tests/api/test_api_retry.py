"""classify(), Retry-After, backoff, and the client's retries over a fake Rally."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from crmsync.api import RallyClient, Verdict, classify
from crmsync.api.answers import api_root
from crmsync.api.retry import (
    BASE_BACKOFF_S,
    MIN_BACKOFF_S,
    AmbiguousError,
    RetryableError,
    backoff_s,
    parse_retry_after,
    should_retry,
)
from crmsync.errors import AuthError, ConfigError, FatalHTTPError
from crmsync.load import LoadResult, LoadSettings
from crmsync.schema import OBJECTS

CONTACTS = OBJECTS["contacts"]
REQUEST = httpx.Request("POST", "https://acme.rallycrm.io/api/v1/contacts/bulk")


@pytest.mark.parametrize(
    ("answer", "verdict"),
    [
        (httpx.Response(200), Verdict.OK),
        (httpx.Response(207), Verdict.OK),
        (httpx.Response(401), Verdict.AUTH),
        (httpx.Response(403), Verdict.AUTH),
        (httpx.Response(429), Verdict.RETRY),
        (httpx.Response(500), Verdict.AMBIGUOUS),
        (httpx.Response(503), Verdict.AMBIGUOUS),
        (httpx.Response(400), Verdict.FATAL),
        (httpx.Response(404), Verdict.FATAL),
        (httpx.Response(422), Verdict.FATAL),
        (httpx.Response(301), Verdict.FATAL),
        (httpx.ConnectError("refused", request=REQUEST), Verdict.RETRY),
        (httpx.ConnectTimeout("slow", request=REQUEST), Verdict.RETRY),
        (httpx.PoolTimeout("busy", request=REQUEST), Verdict.RETRY),
        (httpx.ReadTimeout("slow", request=REQUEST), Verdict.AMBIGUOUS),
        (httpx.ReadError("reset", request=REQUEST), Verdict.AMBIGUOUS),
        (httpx.WriteError("reset", request=REQUEST), Verdict.AMBIGUOUS),
        (httpx.RemoteProtocolError("closed", request=REQUEST), Verdict.AMBIGUOUS),
        (httpx.DecodingError("bad gzip", request=REQUEST), Verdict.AMBIGUOUS),
        (httpx.UnsupportedProtocol("ftp", request=REQUEST), Verdict.FATAL),
    ],
    ids=lambda value: getattr(value, "status_code", None) or type(value).__name__,
)
def test_classify(answer: httpx.Response | Exception, verdict: Verdict) -> None:
    assert classify(answer) is verdict


@pytest.mark.parametrize(
    ("exc", "idempotent", "retried"),
    [
        (RetryableError("429"), False, True),
        (AmbiguousError("500"), False, False),
        (AmbiguousError("500"), True, True),
        (FatalHTTPError("400", status=400), True, False),
        (AuthError("401", status=401), True, False),
    ],
    ids=["retryable-bulk", "ambiguous-bulk", "ambiguous-idempotent", "fatal", "auth"],
)
def test_should_retry(exc: Exception, idempotent: bool, retried: bool) -> None:
    assert should_retry(exc, idempotent=idempotent) is retried


NOW = datetime(2025, 6, 10, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("3", 3.0),
        (" 1.5 ", 1.5),
        ("0", None),
        ("-4", None),
        ("soon", None),
        ("", None),
        ("nan", None),
        (None, None),
        (format_datetime(NOW + timedelta(seconds=30), usegmt=True), 30.0),
        (format_datetime(NOW - timedelta(seconds=30), usegmt=True), None),
    ],
    ids=["int", "float", "zero", "negative", "word", "empty", "nan", "absent", "date", "past"],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == expected


def test_backoff_is_capped_jittered_and_never_zero() -> None:
    rng = random.Random(1)
    waits = [backoff_s(attempt, 60.0, rng) for attempt in range(1, 30) for _ in range(20)]
    assert min(waits) >= MIN_BACKOFF_S
    assert max(waits) <= 60.0
    assert max(backoff_s(1, 60.0, rng) for _ in range(100)) <= BASE_BACKOFF_S


@pytest.mark.parametrize(
    "url",
    [
        "https://acme.rallycrm.io",
        "https://acme.rallycrm.io/",
        "https://acme.rallycrm.io/api/v1",
        "https://acme.rallycrm.io/api/v1/",
    ],
)
def test_base_url_is_the_tenant_root(url: str) -> None:
    assert api_root(url) == "https://acme.rallycrm.io"


def _load(fake: Any, n: int = 3, settings: LoadSettings | None = None) -> LoadResult:
    result: LoadResult = fake.load([fake.contact(i) for i in range(n)], settings=settings)
    return result


def _check_auth(fake: Any) -> None:
    async def go() -> None:
        async with fake.client() as client:
            await client.check_auth(CONTACTS)

    asyncio.run(go())


def test_429_waits_its_retry_after_then_succeeds(fake: Any) -> None:
    fake.plan("bulk", (429, {"Retry-After": "2"}))
    result = _load(fake)
    assert [o.status for o in result.outcomes] == ["created"] * 3
    assert 2.0 in fake.time.sleeps
    assert (result.requests, result.retries, result.rate_limited) == (2, 1, 1)


def test_retry_after_as_an_http_date_counts_from_the_servers_date(fake: Any) -> None:
    later = format_datetime(fake.time.server_time() + timedelta(seconds=7), usegmt=True)
    fake.plan("bulk", (429, {"Retry-After": later}))
    result = _load(fake)
    assert result.count("created") == 3
    assert fake.time.sleeps[0] == pytest.approx(7.0, abs=1.0)


@pytest.mark.parametrize("header", ["0", "-1", "whenever"])
def test_useless_retry_after_backs_off_exponentially(fake: Any, header: str) -> None:
    fake.plan("bulk", *[(429, {"Retry-After": header})] * 3)
    result = _load(fake)
    assert result.count("created") == 3
    retry_waits = fake.time.sleeps[:1]  # the first wait comes before any pacing
    assert all(MIN_BACKOFF_S <= wait <= BASE_BACKOFF_S for wait in retry_waits)
    assert result.retries == 3


def test_503_on_an_idempotent_request_honours_retry_after(fake: Any) -> None:
    fake.plan("list", (503, {"Retry-After": "4"}))
    _check_auth(fake)
    assert fake.time.sleeps == [4.0]
    assert fake.count("list") == 2


def test_connect_error_is_retried_as_is(fake: Any) -> None:
    fake.plan("bulk", httpx.ConnectError("connection refused"))
    result = _load(fake)
    assert result.count("created") == 3
    assert fake.count("bulk") == 2
    assert fake.count("upsert") == 0  # nothing was sent: no reconciliation needed
    assert len(fake.stored("contacts")) == 3


def test_400_is_not_retried(fake: Any) -> None:
    fake.plan("bulk", 400)
    result = _load(fake, n=1)
    (outcome,) = result.outcomes
    assert (outcome.status, outcome.http_status, outcome.error) == ("failed", 400, "injected 400")
    assert (result.requests, result.retries) == (1, 0)


@pytest.mark.parametrize("status", [401, 403])
def test_refused_key_raises_auth_error(fake: Any, status: int) -> None:
    fake.plan("bulk", status)
    with pytest.raises(AuthError) as caught:
        _load(fake)
    assert caught.value.status == status
    assert fake.count("bulk") == 1


def test_check_auth_raises_before_anything_is_sent(fake: Any) -> None:
    fake.plan("list", 401)
    with pytest.raises(AuthError):
        _check_auth(fake)
    assert fake.count("bulk") == 0


def test_404_on_the_endpoint_stops_the_load(fake: Any) -> None:
    fake.plan("bulk", 404)
    with pytest.raises(FatalHTTPError) as caught:
        _load(fake)
    assert caught.value.status == 404


def test_retries_exhausted_on_429_fail_with_a_clear_message(fake: Any) -> None:
    settings = LoadSettings(max_retries=2)
    fake.plan("bulk", *[(429, {"Retry-After": "1"})] * 3)
    result = _load(fake, settings=settings)
    assert {o.status for o in result.outcomes} == {"failed"}
    error = result.outcomes[0].error or ""
    assert "not loaded, nothing was written" in error and "HTTP 429" in error
    assert (result.requests, result.retries, result.rate_limited) == (3, 2, 3)


def test_unsendable_url_is_a_config_error() -> None:
    async def go() -> None:
        async with RallyClient("ftp://acme.example", "k") as client:
            await client.check_auth(CONTACTS)

    with pytest.raises(ConfigError):
        asyncio.run(go())


@pytest.mark.parametrize("key", ["", "two words", "line\nbreak"], ids=["empty", "space", "newline"])
def test_api_key_must_fit_a_header(key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        RallyClient("https://acme.rallycrm.io", key)
    assert key not in str(caught.value) or not key


def test_client_sets_timeouts_and_a_pool_for_the_concurrency() -> None:
    settings = LoadSettings(concurrency=6, connect_timeout_s=3, read_timeout_s=20)
    seen: list[dict[str, float]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200, json=[])

    async def one_request() -> int:
        transport = httpx.MockTransport(answer)
        async with RallyClient(
            "https://acme.rallycrm.io", "k", settings=settings, transport=transport
        ) as client:
            await client.check_auth(OBJECTS["contacts"])
            return client.connections

    connections = asyncio.run(one_request())
    assert (seen[0]["connect"], seen[0]["read"]) == (3, 20)
    assert connections >= settings.max_concurrency
