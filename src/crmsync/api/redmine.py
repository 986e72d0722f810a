"""A small synchronous Redmine REST client: GET with the key in a header, retried like Rally's.

Answers are sorted by `crmsync.api.retry.classify` and retried by the same tenacity wait
(Retry-After, else full-jitter exponential backoff): every GET is idempotent, so 429, 5xx,
timeouts and lost connections are all retried. 401/403 is an AuthError; any other refusal a
SourceError. Messages name the method and path only: the key lives in one header.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from tenacity import Retrying, retry_if_exception, stop_after_attempt

from crmsync import __version__
from crmsync.api.http import check_api_key, redact, server_message, transport_failure
from crmsync.api.retry import (
    RETRY_AFTER_STATUSES,
    BackoffWait,
    Verdict,
    classify,
    parse_retry_after,
    should_retry,
)
from crmsync.api.settings import (
    DEFAULT_CONNECT_TIMEOUT_S,
    DEFAULT_MAX_BACKOFF_S,
    DEFAULT_MAX_RETRIES,
    DEFAULT_READ_TIMEOUT_S,
)
from crmsync.errors import (
    AmbiguousError,
    AuthError,
    ConfigError,
    CrmsyncError,
    MalformedAnswerError,
    NotFoundError,
    RetryableError,
    SourceError,
)

API_KEY_HEADER = "X-Redmine-API-Key"
POOL_HEADROOM = 2
HTTP_NOT_FOUND = 404
HTTP_REDIRECT_MIN, HTTP_REDIRECT_MAX = 300, 399

T = TypeVar("T")
SleepFn = Callable[[float], None]


class RedmineClient:
    """GETs against one Redmine; thread-safe (httpx.Client is), so notes can be read in parallel."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        transport: httpx.BaseTransport | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_backoff_s: float = DEFAULT_MAX_BACKOFF_S,
        sleep: SleepFn = time.sleep,
        connections: int = 1,
    ) -> None:
        check_api_key(api_key, "Redmine")
        self.root = base_url.strip().rstrip("/")
        if not self.root.startswith(("http://", "https://")):
            raise ConfigError(f"the Redmine URL must start with http:// or https://: {self.root}")
        self._path_prefix = urlsplit(self.root).path.rstrip("/")
        self._api_key = api_key
        self._max_retries = max_retries
        self._max_backoff_s = max_backoff_s
        self._sleep = sleep
        self._rng = random.Random()
        pool = connections + POOL_HEADROOM
        self._http = httpx.Client(
            base_url=self.root,
            headers={
                API_KEY_HEADER: api_key,
                "Accept": "application/json",
                "User-Agent": f"crmsync/{__version__}",
            },
            timeout=httpx.Timeout(
                connect=DEFAULT_CONNECT_TIMEOUT_S,
                read=DEFAULT_READ_TIMEOUT_S,
                write=DEFAULT_READ_TIMEOUT_S,
                pool=DEFAULT_READ_TIMEOUT_S,
            ),
            limits=httpx.Limits(max_connections=pool, max_keepalive_connections=pool),
            transport=transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"RedmineClient(root={self.root!r})"

    def __enter__(self) -> RedmineClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._http.close()

    def source_of(self, path: str) -> str:
        """What a row read from `path` names as its `_source`: the URL path, no host or query."""
        return self._path_prefix + path

    def get(self, path: str, params: dict[str, str | int], parse: Callable[[Any], T]) -> T:
        """GET `path` and parse its JSON body, retrying what may be retried.

        Raises AuthError (key refused), NotFoundError (404), SourceError (any other refusal,
        or still failing after the retries).
        """
        policy = Retrying(
            retry=retry_if_exception(lambda exc: should_retry(exc, idempotent=True)),
            wait=BackoffWait(self._max_backoff_s, self._rng),
            stop=stop_after_attempt(self._max_retries + 1),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            result: T = policy(self._attempt, path, params, parse)
        except (RetryableError, AmbiguousError) as exc:
            raise SourceError(
                f"still failing after {self._max_retries} retries: {exc}",
                source=self.source_of(path),
            ) from None
        return result

    def _attempt(self, path: str, params: dict[str, str | int], parse: Callable[[Any], T]) -> T:
        try:
            response = self._http.get(path, params=params)
        except httpx.HTTPError as exc:
            # Not chained: a chained httpx cause would print the request unredacted.
            raise transport_failure(
                exc, where=self._where(path), root=self.root, api_key=self._api_key
            ) from None
        verdict = classify(response)
        if verdict is Verdict.OK:
            try:
                return parse(response.json())
            except ValueError as exc:
                raise MalformedAnswerError(
                    f"{self._where(path)}: HTTP {response.status_code} with a body that is "
                    f"not what the API documents ({redact(str(exc), self._api_key)})",
                    status=response.status_code,
                ) from None
        raise self._refusal(path, response, verdict)

    def _refusal(self, path: str, response: httpx.Response, verdict: Verdict) -> CrmsyncError:
        status = response.status_code
        where = f"{self._where(path)}: HTTP {status}"
        if verdict is Verdict.AUTH:
            return AuthError(
                f"{where}: Redmine refused the API key (is it right, is the REST API enabled "
                "in Administration > Settings > API, and may this user view contacts?)",
                status=status,
            )
        retry_after = None
        if status in RETRY_AFTER_STATUSES:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if verdict is Verdict.RETRY:
            return RetryableError(where, status=status, retry_after=retry_after, sent=True)
        if verdict is Verdict.AMBIGUOUS:
            return AmbiguousError(where, status=status, retry_after=retry_after, sent=True)
        source = self.source_of(path)
        if status == HTTP_NOT_FOUND:
            return NotFoundError(
                "HTTP 404: not found (is the CRM plugin installed, the URL the Redmine root, "
                "the project right?)",
                source=source,
            )
        if HTTP_REDIRECT_MIN <= status <= HTTP_REDIRECT_MAX:
            return SourceError(
                f"HTTP {status}: redirected (to the login page?): is the REST API enabled?",
                source=source,
            )
        detail = server_message(response, self._api_key, _redmine_errors)
        return SourceError(f"HTTP {status}" + (f": {detail}" if detail else ""), source=source)

    def _where(self, path: str) -> str:
        return f"GET {self.source_of(path)}"


def _redmine_errors(body: Any) -> str | None:
    """Redmine's `{"errors": [...]}`, joined."""
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        return "; ".join(str(item) for item in body["errors"])
    return None
