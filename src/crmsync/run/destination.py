"""The Rally tenant a pipeline writes to: where it is, how to connect, its name in the state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx

from crmsync.api import ClientSettings, RallyClient
from crmsync.api.http import public_url
from crmsync.config import DestinationConfig
from crmsync.errors import TransientError, UnreachableError
from crmsync.schema import RallyObject
from crmsync.state import destination_scope


@dataclass(frozen=True)
class Destination:
    """A tenant's root and key; `transport` replaces the network (tests hand in an in-process
    Rally, with no patching). `base_url` is what may be shown and stored: without the user
    and password a URL may carry, which only `url` keeps, for the requests."""

    url: str = field(repr=False)
    api_key: str = field(repr=False)
    transport: httpx.AsyncBaseTransport | None = field(default=None, repr=False)
    allow_insecure_http: bool = False

    @classmethod
    def of(
        cls,
        config: DestinationConfig,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        allow_insecure_http: bool = False,
    ) -> Destination:
        return cls(
            config.base_url, config.api_key.get_secret_value(), transport, allow_insecure_http
        )

    @property
    def base_url(self) -> str:
        return public_url(self.url)

    @property
    def scope(self) -> str:
        """The tenant's name in the state database (never the key, nor a password)."""
        return destination_scope(self.base_url, self.api_key)

    @asynccontextmanager
    async def connect(
        self, obj: RallyObject, settings: ClientSettings
    ) -> AsyncIterator[RallyClient]:
        """A client whose key Rally accepted: AuthError when refused, UnreachableError when
        Rally does not answer (nothing was sent either way)."""
        async with RallyClient(
            self.url,
            self.api_key,
            settings=settings,
            transport=self.transport,
            allow_insecure_http=self.allow_insecure_http,
        ) as client:
            try:
                await client.check_auth(obj)
            except TransientError as exc:
                raise UnreachableError(
                    f"cannot reach Rally at {self.base_url} (nothing was sent): {exc}"
                ) from None
            yield client
