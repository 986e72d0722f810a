"""One request, bounded in time and size: the way both API clients send.

httpx's timeouts are per operation (connect, each read, each write), so a server that sends a
byte a second never trips a read timeout and can hold a run, and its pipeline's lock, for
ever. And httpx reads a whole answer into memory: a 1 GB answer cost 2.4 GB. So:

- a **deadline** covers the whole request: connecting, sending, the headers and the body.
  When it passes the request fails with `DeadlineExceeded`, an httpx timeout, which
  `retry.classify` sorts like any lost answer (AMBIGUOUS: the server may have acted);
- a **cap** on the body: a successful answer is read up to `max_bytes` (after
  decompression), and more is `AnswerTooLarge`, which the clients treat as a malformed
  answer. An error answer is read up to ERROR_BODY_BYTES and cut there: only its message
  is wanted.

The answer comes back as a plain `httpx.Response` holding the body read.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

ERROR_BODY_BYTES = 64 * 1024
# Headers that describe the body as it came over the wire, not as it is held now.
_WIRE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class DeadlineExceeded(httpx.TimeoutException):
    """No complete answer within the request's deadline (a trickling or stalled server)."""


class AnswerTooLarge(Exception):
    """A successful answer longer than the most its endpoint can legitimately send."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"the answer is larger than {limit:,} bytes, more than it can hold")


async def send_bounded(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    deadline_s: float,
    max_bytes: int,
    **options: Any,
) -> httpx.Response:
    """Send a request and read its answer within `deadline_s`, at most `max_bytes` of body
    when it is a success. `options` are httpx's (json, params, headers)."""
    request = http.build_request(method, url, **options)
    scope = asyncio.timeout(deadline_s)
    try:
        async with scope:
            response = await http.send(request, stream=True)
            try:
                body = await _read(response, max_bytes)
            finally:
                await response.aclose()
    except TimeoutError:
        if not scope.expired():
            raise
        raise DeadlineExceeded(
            f"no complete answer within {deadline_s:g} s", request=request
        ) from None
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _WIRE_HEADERS]
    return httpx.Response(response.status_code, headers=headers, content=body, request=request)


async def _read(response: httpx.Response, max_bytes: int) -> bytes:
    strict = response.is_success
    limit = max_bytes if strict else ERROR_BODY_BYTES
    declared = response.headers.get("Content-Length", "")
    if strict and declared.isdigit() and int(declared) > limit:
        raise AnswerTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            if strict:
                raise AnswerTooLarge(limit)
            chunks.append(chunk[: len(chunk) - (size - limit)])
            break
        chunks.append(chunk)
    return b"".join(chunks)
