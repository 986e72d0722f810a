"""The Rally tenant a pipeline writes to: where it is, how to connect, its name in the state."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from concurrent.futures import Future
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from typing import Any

import httpx

from crmsync.api import ClientSettings, RallyClient
from crmsync.api.http import public_url
from crmsync.config import DestinationConfig
from crmsync.errors import FatalHTTPError, TransientError, UnreachableError
from crmsync.schema import RallyObject
from crmsync.state import destination_scope

# The check before a run reads its sources: short, so a destination that does not answer
# stops the run in seconds, with its host and the cause.
PROBE_CONNECT_TIMEOUT_S = 5.0
PROBE_READ_TIMEOUT_S = 15.0
PROBE_RETRIES = 1
PROBE_MAX_BACKOFF_S = 2.0
PROBE_DEADLINE_S = PROBE_CONNECT_TIMEOUT_S + PROBE_READ_TIMEOUT_S  # a trickle cannot stretch it
NOT_FOUND = HTTPStatus.NOT_FOUND.value


class Check:
    """The destination's probe, run on a thread of its own while the run reads its sources:
    a round trip to Rally (a quarter of a second and more) no longer waits in front of the
    read. `wait` answers what the probe found: nothing, or its AuthError/UnreachableError.
    A daemon thread: a run that ends first does not wait for the probe's timeouts."""

    def __init__(self, probe: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self._future: Future[None] = Future()
        threading.Thread(
            target=self._run, args=(probe,), name="crmsync-destination-check", daemon=True
        ).start()

    def _run(self, probe: Callable[[], Coroutine[Any, Any, None]]) -> None:
        try:
            asyncio.run(probe())
        except Exception as exc:
            self._future.set_exception(exc)
        else:
            self._future.set_result(None)

    def wait(self) -> None:
        self._future.result()

    async def wait_async(self) -> None:
        await asyncio.wrap_future(self._future)


@dataclass(frozen=True)
class Destination:
    """A tenant's root and key; `transport` replaces the network (tests hand in an in-process
    Rally, with no patching). `base_url` is what may be shown and stored: without the user
    and password a URL may carry, which only `url` keeps, for the requests."""

    url: str = field(repr=False)
    api_key: str = field(repr=False)
    transport: httpx.AsyncBaseTransport | None = field(default=None, repr=False)
    available: bool = True  # False: its variables are not set (a dry run may go without)
    checked: bool = False  # the run's probe found it answering and the key accepted
    allow_insecure_http: bool = False  # plain http:// to another machine (warned every run)
    check: Check | None = field(default=None, repr=False, compare=False)  # the probe, running

    @classmethod
    def of(
        cls,
        config: DestinationConfig,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        available: bool = True,
        allow_insecure_http: bool = False,
    ) -> Destination:
        return cls(
            config.base_url,
            config.api_key.get_secret_value(),
            transport,
            available=available,
            allow_insecure_http=allow_insecure_http,
        )

    @property
    def base_url(self) -> str:
        return public_url(self.url)

    @property
    def scope(self) -> str:
        """The tenant's name in the state database (never the key, nor a password)."""
        return destination_scope(self.base_url, self.api_key)

    async def probe(self, obj: RallyObject, deadline_s: float = PROBE_DEADLINE_S) -> None:
        """One cheap request with short timeouts and at most one retry, before anything is
        sent: AuthError when the key is refused, UnreachableError naming the host and the
        cause when Rally does not answer, in seconds rather than after a run's retries. Each
        attempt ends within `deadline_s`, at most PROBE_DEADLINE_S."""
        settings = ClientSettings(
            max_retries=PROBE_RETRIES,
            max_backoff_s=PROBE_MAX_BACKOFF_S,
            connect_timeout_s=PROBE_CONNECT_TIMEOUT_S,
            read_timeout_s=PROBE_READ_TIMEOUT_S,
            request_deadline_s=min(deadline_s, PROBE_DEADLINE_S),
        )
        async with self._client(settings) as client:
            await self._check_auth(client, obj)

    def start_check(self, obj: RallyObject, deadline_s: float = PROBE_DEADLINE_S) -> Destination:
        """This destination, its `probe` started on a thread and counted as checked: what
        needs Rally waits for the probe (`connect`, `settle`), the reading of sources does
        not."""
        return replace(self, checked=True, check=Check(lambda: self.probe(obj, deadline_s)))

    def settle(self) -> None:
        """Wait for the probe `start_check` started: its AuthError or UnreachableError."""
        if self.check is not None:
            self.check.wait()

    async def _check_auth(self, client: RallyClient, obj: RallyObject) -> None:
        """Rally's answer to one cheap list: AuthError when the key is refused,
        UnreachableError when Rally does not answer or the URL names no Rally API."""
        try:
            await client.check_auth(obj)
        except TransientError as exc:
            raise UnreachableError(
                f"cannot reach Rally at {self.base_url} (nothing was sent): {exc}"
            ) from None
        except FatalHTTPError as exc:
            if exc.status != NOT_FOUND:
                raise
            # a list every tenant has is not there: the URL names no Rally API root
            raise UnreachableError(
                f"no Rally API at {self.base_url} (nothing was sent): {exc}; "
                "destination.base_url should be the tenant's root URL, as in its API documents"
            ) from None

    def _client(self, settings: ClientSettings) -> RallyClient:
        return RallyClient(
            self.url,
            self.api_key,
            settings=settings,
            transport=self.transport,
            allow_insecure_http=self.allow_insecure_http,
        )

    @asynccontextmanager
    async def connect(
        self, obj: RallyObject, settings: ClientSettings
    ) -> AsyncIterator[RallyClient]:
        """A client whose key Rally accepted: AuthError when refused, UnreachableError when
        Rally does not answer (nothing was sent either way). Not asked again once `checked`;
        a probe still running is waited for."""
        if self.check is not None:
            await self.check.wait_async()
        async with self._client(settings) as client:
            if not self.checked:
                await self._check_auth(client, obj)
            yield client
