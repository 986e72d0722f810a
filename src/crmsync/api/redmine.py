"""A small synchronous Redmine REST client: GET with the key in a header, retried like Rally's.

Answers are sorted by `crmsync.api.retry.classify` and retried by the same tenacity wait
(Retry-After, else full-jitter exponential backoff): every GET is idempotent, so 429, 5xx,
timeouts, lost connections and answers that are too large or malformed are all retried.
401/403 is an AuthError; any other refusal a SourceError. Messages name the method and path
only: the key lives in one header.

Callers are synchronous (and may be several threads, reading notes in parallel), but a
deadline over a whole request, headers and body, needs cancellation, which only the async
client has: requests run on an event loop of the client's own thread, each under
`bounded.send_bounded`, and the calling thread waits for its answer.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable, Coroutine
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from tenacity import Retrying, retry_if_exception, stop_after_attempt

from crmsync import __version__
from crmsync.api.answers import HTTP_REDIRECT_MAX, HTTP_REDIRECT_MIN
from crmsync.api.bounded import AnswerTooLarge, send_bounded
from crmsync.api.http import (
    check_api_key,
    plain_http,
    public_url,
    redact,
    redirect_hint,
    server_message,
    transport_failure,
    url_secrets,
)
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
    DEFAULT_REQUEST_DEADLINE_S,
)
from crmsync.closing import Closing
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
# The most an answer may hold: a page is at most 100 contacts (or one contact with its notes),
# and Redmine sets no length on their text, so each may take this much.
MAX_CONTACT_BYTES = 256 * 1024
MAX_ANSWER_BYTES = 100 * MAX_CONTACT_BYTES

T = TypeVar("T")
SleepFn = Callable[[float], None]


class _LoopThread:
    """An event loop running on a daemon thread; `run` blocks the calling thread (any thread)
    until a coroutine finishes there."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="crmsync-redmine-http", daemon=True
        )
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


class RedmineClient(Closing):
    """GETs against one Redmine; thread-safe, so notes can be read in parallel.

    The key is refused over plain http:// to another machine unless `allow_insecure_http`;
    messages never show the URL's user and password.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_backoff_s: float = DEFAULT_MAX_BACKOFF_S,
        request_deadline_s: float = DEFAULT_REQUEST_DEADLINE_S,
        sleep: SleepFn = time.sleep,
        connections: int = 1,
        allow_insecure_http: bool = False,
    ) -> None:
        check_api_key(api_key, "Redmine")
        root = base_url.strip().rstrip("/")
        self.root = public_url(root)
        if not root.lower().startswith(("http://", "https://")):
            raise ConfigError(f"the Redmine URL must start with http:// or https://: {self.root}")
        if plain_http(root) and not allow_insecure_http:
            raise ConfigError(
                f"refusing to send the Redmine API key unencrypted to {self.root}: use "
                "https://, or set allow_insecure_http: true in the pipeline file"
            )
        self._path_prefix = urlsplit(root).path.rstrip("/")
        self._secrets = (api_key, *url_secrets(root))
        self._max_retries = max_retries
        self._max_backoff_s = max_backoff_s
        self._deadline_s = request_deadline_s
        self._sleep = sleep
        self._rng = random.Random()
        pool = connections + POOL_HEADROOM
        self._http = httpx.AsyncClient(
            base_url=root,
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
        self._loop = _LoopThread()

    def __repr__(self) -> str:
        return f"RedmineClient(root={self.root!r})"

    def close(self) -> None:
        """Close the connections and stop the client's thread."""
        try:
            self._loop.run(self._http.aclose())
        finally:
            self._loop.close()

    def redact(self, text: str) -> str:
        """`text` (a record the server sent, kept for a report) without the key in it."""
        return redact(text, *self._secrets)

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
            response = self._loop.run(
                send_bounded(
                    self._http,
                    "GET",
                    path,
                    deadline_s=self._deadline_s,
                    max_bytes=MAX_ANSWER_BYTES,
                    params=params,
                )
            )
        except httpx.HTTPError as exc:
            # Not chained: a chained httpx cause would print the request unredacted.
            raise transport_failure(
                exc, where=self._where(path), root=self.root, secrets=self._secrets
            ) from None
        except AnswerTooLarge as exc:
            raise MalformedAnswerError(f"{self._where(path)}: {exc}") from None
        verdict = classify(response)
        if verdict is Verdict.OK:
            try:
                return parse(response.json())
            except RecursionError:
                raise MalformedAnswerError(
                    f"{self._where(path)}: HTTP {response.status_code} with JSON nested "
                    "too deeply to read",
                    status=response.status_code,
                ) from None
            except ValueError as exc:
                if _is_html(response):  # retried all the same: a maintenance page passes
                    raise MalformedAnswerError(
                        f"{self._where(path)}: HTTP {response.status_code} with an HTML page, "
                        "not the API's JSON (a login or maintenance page, a proxy? is the URL "
                        "the Redmine root, and its REST API enabled?)",
                        status=response.status_code,
                    ) from None
                raise MalformedAnswerError(
                    f"{self._where(path)}: HTTP {response.status_code} with a body that is "
                    f"not what the API documents ({redact(str(exc), *self._secrets)})",
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
        if status == HTTPStatus.NOT_FOUND:
            return NotFoundError(
                "HTTP 404: not found (is the CRM plugin installed, the URL the Redmine root, "
                "the project right?)",
                source=source,
            )
        if HTTP_REDIRECT_MIN <= status <= HTTP_REDIRECT_MAX:
            return SourceError(
                f"HTTP {status}: {redirect_hint(response, self._secrets)} (to a login page? "
                "is the REST API enabled?)",
                source=source,
            )
        detail = server_message(response, self._secrets, _redmine_errors)
        return SourceError(f"HTTP {status}" + (f": {detail}" if detail else ""), source=source)

    def _where(self, path: str) -> str:
        return f"GET {self.source_of(path)}"


def _redmine_errors(body: Any) -> str | None:
    """Redmine's `{"errors": [...]}`, joined."""
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        return "; ".join(str(item) for item in body["errors"])
    return None


def _is_html(response: httpx.Response) -> bool:
    """An answer that is a web page, which the message should say: "not what the API
    documents (Expecting value: line 1 column 1)" left the user to guess."""
    kind = response.headers.get("Content-Type", "").lower()
    return "html" in kind or response.content.lstrip()[:1] == b"<"
