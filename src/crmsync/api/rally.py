"""The Rally HTTP client: one pooled httpx.AsyncClient, the retry policy and the shared pacer.

Every request goes through `_call`: pace, cap the requests in flight, send (within a deadline,
reading at most what the endpoint can answer: bounded.py), classify, and let tenacity retry
what `retry.classify` calls retriable. Failures come out as crmsync errors that name the
method and path only: the API key lives in one header and never in a message.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from datetime import datetime
from http import HTTPStatus
from types import TracebackType
from typing import Any, TypeVar

import httpx
from pydantic import ValidationError
from tenacity import RetryCallState

from crmsync import __version__
from crmsync.api import departures
from crmsync.api.answers import (
    API_PREFIX,
    MAX_BULK_ANSWER_BYTES,
    MAX_RECORD_BYTES,
    PAGE_LIMIT,
    api_root,
    parse_record,
    parse_record_list,
    parse_written,
    refusal,
)
from crmsync.api.bounded import AnswerTooLarge, send_bounded
from crmsync.api.concurrency import ConcurrencyLimit
from crmsync.api.http import (
    check_api_key,
    plain_http,
    public_url,
    transport_failure,
    url_secrets,
)
from crmsync.api.pacing import Clock, Pacer
from crmsync.api.paging import PAGES_IN_FLIGHT, PAGES_PER_STEP, PageSize, read_ahead
from crmsync.api.retry import SleepFn, Verdict, classify, retry_policy
from crmsync.api.server_clock import ServerClock
from crmsync.api.settings import ClientSettings, ClientStats
from crmsync.api.silence import Silence
from crmsync.api.timeline import LoadTimeline
from crmsync.errors import (
    ConfigError,
    MalformedAnswerError,
    RequestRefused,
    TransientError,
)
from crmsync.schema import MAX_BULK, BulkResult, RallyObject, UpsertResult
from crmsync.schema.fields import format_timestamp

logger = logging.getLogger(__name__)

API_KEY_HEADER = "X-Api-Key"
POOL_HEADROOM = 2  # connections beyond `max_concurrency`, so the pool never makes a request wait
RETRY_WAIT_FIELD = "retry_wait_s"  # on a retry's log record: how long it waits, for displays

T = TypeVar("T")


class RallyClient:
    """An async Rally client for one tenant. Use as `async with RallyClient(...) as client`.

    The key is refused over plain http:// to another machine unless `allow_insecure_http`;
    `base_url` (what messages and the state show) never holds the URL's user and password.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        settings: ClientSettings = ClientSettings(),  # noqa: B008 - frozen, so sharing is safe
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: SleepFn | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        allow_insecure_http: bool = False,
    ) -> None:
        check_api_key(api_key, "Rally")
        root = api_root(base_url)
        self.base_url = public_url(root)
        if plain_http(root) and not allow_insecure_http:
            raise ConfigError(
                f"refusing to send the Rally API key unencrypted to {self.base_url}: use "
                "https://, or set allow_insecure_http: true in the pipeline file"
            )
        self.settings = settings
        self.page_size = PageSize()  # what a page of this server holds, learned as it answers
        self.stats = ClientStats()
        self._secrets = (api_key, *url_secrets(root))
        self._sleep: SleepFn = sleep or asyncio.sleep
        self._clock: Clock = clock or time.monotonic
        self._rng = rng or random.Random()
        self.pacer = Pacer(clock=self._clock, sleep=self._sleep)
        self.in_flight = ConcurrencyLimit(
            settings.concurrency, settings.max_concurrency, clock=self._clock
        )
        self.server_clock = ServerClock()
        self.silence = Silence(self._clock)
        self.timeline = LoadTimeline(self._clock)  # per second, for the report's charts
        # Connections kept: one per request the cap may ever allow in flight, and headroom, so
        # the pool never makes a request wait.
        self.connections = pool = settings.max_concurrency + POOL_HEADROOM
        self._http = httpx.AsyncClient(
            base_url=root + API_PREFIX,
            headers={
                API_KEY_HEADER: api_key,
                "Accept": "application/json",
                "User-Agent": f"crmsync/{__version__}",
            },
            timeout=httpx.Timeout(
                connect=settings.connect_timeout_s,
                read=settings.read_timeout_s,
                write=settings.read_timeout_s,
                pool=settings.connect_timeout_s,
            ),
            limits=httpx.Limits(max_connections=pool, max_keepalive_connections=pool),
            transport=transport,
            follow_redirects=False,  # the key would go along to wherever a redirect points
        )

    def __repr__(self) -> str:
        return f"RallyClient(base_url={self.base_url!r})"

    async def __aenter__(self) -> RallyClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- the endpoints -------------------------------------------------------------------------

    async def bulk_create(self, obj: RallyObject, records: list[dict[str, Any]]) -> BulkResult:
        """POST /{obj}/bulk. Never re-sent after an ambiguous failure: raises AmbiguousError."""
        if not 1 <= len(records) <= MAX_BULK:
            raise ValueError(f"a bulk holds 1 to {MAX_BULK} records, not {len(records)}")
        return await self._call(
            "POST",
            f"{obj.name}/bulk",
            json=records,
            idempotent=False,
            parse=lambda response: BulkResult.model_validate(response.json()),
            max_bytes=MAX_BULK_ANSWER_BYTES,
        )

    async def upsert(self, obj: RallyObject, record: dict[str, Any]) -> UpsertResult:
        """PUT /{obj}/upsert. Retried even when ambiguous if the record carries its match key."""
        if obj.match_key is None:
            raise ConfigError(f"Rally has no upsert for {obj.name}; load them in bulk mode")
        return await self._call(
            "PUT",
            f"{obj.name}/upsert",
            json=record,
            idempotent=bool(record.get(obj.match_key)),
            parse=lambda response: UpsertResult.model_validate(response.json()),
        )

    async def update(
        self, obj: RallyObject, record_id: str, record: dict[str, Any]
    ) -> dict[str, Any] | None:
        """PUT /{obj}/{id}: replaces the record (None: written, the answer shows nothing);
        idempotent, so retried even when ambiguous. A record deleted in Rally answers 404
        (RequestRefused with status 404)."""
        return await self._call(
            "PUT",
            f"{obj.name}/{record_id}",
            json=record,
            idempotent=True,
            parse=parse_written,
        )

    async def delete(self, obj: RallyObject, record_id: str) -> None:
        """DELETE /{obj}/{id}: idempotent, so retried even when ambiguous. A record already
        gone answers 404 (RequestRefused with status 404)."""
        await self._call(
            "DELETE", f"{obj.name}/{record_id}", idempotent=True, parse=lambda response: None
        )

    async def get(self, obj: RallyObject, record_id: str) -> dict[str, Any] | None:
        """GET /{obj}/{id}: the record as Rally holds it now; None when it is gone (404)."""
        try:
            return await self._call(
                "GET", f"{obj.name}/{record_id}", idempotent=True, parse=parse_record
            )
        except RequestRefused as exc:
            if exc.status == HTTPStatus.NOT_FOUND:
                return None
            raise

    async def list_page(
        self,
        obj: RallyObject,
        *,
        limit: int = PAGE_LIMIT,
        offset: int = 0,
        updated_since: datetime | None = None,
        fields: Sequence[str] | None = None,
        urgent: bool = False,
    ) -> list[dict[str, Any]]:
        """GET /{obj}: one page of records, ordered by updatedAt then id. `urgent`: records
        already sent wait on it (a reconciliation), so it goes before requests not yet sent."""
        params: dict[str, str | int] = {"limit": limit, "offset": offset}
        if updated_since is not None:
            params["updatedSince"] = format_timestamp(updated_since)
        if fields:
            params["fields"] = ",".join(fields)
        return await self._call(
            "GET",
            obj.name,
            params=params,
            idempotent=True,
            parse=parse_record_list,
            max_bytes=max(limit, 1) * MAX_RECORD_BYTES,
            urgent=urgent,
        )

    def iter_records(
        self,
        obj: RallyObject,
        *,
        updated_since: datetime | None = None,
        fields: Sequence[str] | None = None,
        urgent: bool = False,
        pages_per_step: int = PAGES_PER_STEP,
        pages_in_flight: int = PAGES_IN_FLIGHT,
        offset: int = 0,
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Every record from `offset` on, page by page, until a short page, pages read ahead
        as the listing proves long (`crmsync.api.paging.read_ahead`)."""

        def page_at(at: int) -> Awaitable[list[dict[str, Any]]]:
            return self.list_page(
                obj,
                limit=PAGE_LIMIT,
                offset=at,
                updated_since=updated_since,
                fields=fields,
                urgent=urgent,
            )

        return read_ahead(
            page_at,
            offset=offset,
            pages_per_step=pages_per_step,
            pages_in_flight=pages_in_flight,
            sizes=self.page_size,
        )

    async def check_auth(self, obj: RallyObject) -> None:
        """A cheap list of one record: AuthError now beats a run that fails on its first batch."""
        await self.list_page(obj, limit=1)

    # -- time ------------------------------------------------------------------------------------

    def local_time(self) -> float:
        """The client's monotonic clock (injected in tests)."""
        return self._clock()

    def last_sent_at(self) -> float:
        """When the latest request of the calling task left, on the local clock (now, if none
        did): a write that waited for the rate limit or was retried left later than asked."""
        sent = departures.last_left()
        return self._clock() if sent is None else sent

    async def pause(self, seconds: float) -> None:
        """Sleep with the injected sleep (tests do not wait)."""
        await self._sleep(seconds)

    # -- one request, retried --------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        *,
        parse: Callable[[httpx.Response], T],
        idempotent: bool,
        json: Any = None,
        params: dict[str, str | int] | None = None,
        max_bytes: int = MAX_RECORD_BYTES,
        urgent: bool = False,
    ) -> T:
        policy = retry_policy(
            max_retries=self.settings.max_retries,
            max_backoff_s=self.settings.max_backoff_s,
            idempotent=idempotent,
            sleep=self._sleep,
            rng=self._rng,
            before_sleep=self._on_retry,
        )
        return await policy(self._attempt, method, path, parse, json, params, max_bytes, urgent)

    async def _attempt(
        self,
        method: str,
        path: str,
        parse: Callable[[httpx.Response], T],
        json: Any,
        params: dict[str, str | int] | None,
        max_bytes: int,
        urgent: bool,
    ) -> T:
        ticket = await self.pacer.acquire()
        async with self.in_flight.slot(urgent=urgent) as slot:
            if self.pacer.stale(ticket):  # the pace was cut while it waited for the slot
                ticket = await self.pacer.acquire()
                slot.started = self._clock()  # its latency counts from now
            self.stats.requests += 1
            timeline = self.timeline
            timeline.limit, timeline.pace_rps = self.in_flight.limit, self.pacer.rate
            sent_at = timeline.sent()
            departures.left(sent_at)
            try:
                try:
                    response = await send_bounded(
                        self._http,
                        method,
                        path,
                        deadline_s=self.settings.request_deadline_s,
                        max_bytes=max_bytes,
                        json=json,
                        params=params,
                    )
                except BaseException:  # no answer (or cancelled): out of flight all the same
                    timeline.answered(sent_at, ok=False)
                    self.stats.writes_landed += method != "GET"
                    raise
            except httpx.HTTPError as exc:
                # Not chained: httpx's own text is already in the message, with the key
                # redacted, and a chained cause would print unredacted.
                failure = transport_failure(
                    exc, where=self._where(method, path), root=self.base_url, secrets=self._secrets
                )
                if isinstance(failure, TransientError):
                    self.silence.unanswered(self.base_url, str(failure))
                raise failure from None
            except AnswerTooLarge as exc:
                raise MalformedAnswerError(f"{self._where(method, path)}: {exc}") from None
            self.silence.answered()
            refused = httpx.codes.is_client_error(response.status_code)
            self.stats.writes_landed += method != "GET" and not refused
            verdict = classify(response)
            rate_limited = response.status_code == httpx.codes.TOO_MANY_REQUESTS
            slot.answered(ok=verdict is Verdict.OK, rate_limited=rate_limited)
            timeline.answered(sent_at, ok=verdict is Verdict.OK, rate_limited=rate_limited)
        self.server_clock.note(response, sent=sent_at, received=self._clock())
        if not rate_limited:  # the limit let it through, whatever came of it (a 5xx too)
            self.pacer.on_success()
        if verdict is Verdict.OK:
            try:
                return parse(response)
            except (ValueError, ValidationError, RecursionError):
                raise MalformedAnswerError(
                    f"{self._where(method, path)}: HTTP {response.status_code} with a body "
                    f"that is not what the API documents",
                    status=response.status_code,
                ) from None
        if response.status_code == httpx.codes.TOO_MANY_REQUESTS:
            self.stats.rate_limited += 1
            self.pacer.on_rate_limited(ticket)
        raise refusal(self._where(method, path), response, verdict, self._secrets)

    def _on_retry(self, state: RetryCallState) -> None:
        self.stats.retries += 1
        self.timeline.retried()
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        logger.info(
            "%s; retry %d of %d in %.2f s",
            exc,
            state.attempt_number,
            self.settings.max_retries,
            wait,
            extra={RETRY_WAIT_FIELD: wait},
        )

    def _where(self, method: str, path: str) -> str:
        return f"{method} {API_PREFIX}/{path}"
