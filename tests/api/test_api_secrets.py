"""The API key never appears in an exception, a traceback, a log line, a repr or an outcome."""

from __future__ import annotations

import asyncio
import logging
import traceback
from typing import Any

import httpx
import pytest

from crmsync.errors import CrmsyncError
from crmsync.load import LoadSettings
from crmsync.schema import OBJECTS

COMMIT_THEN_DROP = "commit+drop"


FAILURES: list[tuple[str, str, Any]] = [
    ("auth-401", "bulk", 401),
    ("auth-403", "bulk", 403),
    ("not-found", "bulk", 404),
    ("refused", "bulk", 400),
    ("rate-limited", "bulk", (429, {"Retry-After": "1"})),
    ("server-error", "bulk", 500),
    ("connect", "bulk", httpx.ConnectError("could not connect")),
    ("read-timeout", "bulk", httpx.ReadTimeout("timed out")),
    ("dropped", "bulk", COMMIT_THEN_DROP),
    ("upserts-fail", "upsert", 503),
    ("malformed", "bulk", lambda response: httpx.Response(200, text="garbage")),
]


def _texts_of(error: BaseException) -> list[str]:
    return [str(error), repr(error), "".join(traceback.format_exception(error))]


@pytest.mark.parametrize(
    ("endpoint", "action"), [f[1:] for f in FAILURES], ids=[f[0] for f in FAILURES]
)
def test_key_never_leaks(
    fake: Any, caplog: pytest.LogCaptureFixture, endpoint: str, action: Any
) -> None:
    fake.plan(endpoint, *[action] * 10)
    texts: list[str] = []
    caplog.set_level(logging.DEBUG)
    try:
        items = [fake.contact(i) for i in range(3)]
        result = fake.load(items, settings=LoadSettings(max_retries=2))
    except CrmsyncError as error:
        texts += _texts_of(error)
    else:
        texts += [repr(outcome) for outcome in result.outcomes]
        texts += [outcome.error or "" for outcome in result.outcomes]
        assert result.count("failed") + result.count("created") == 3
    texts.append(caplog.text)
    texts.append(repr(fake.client()))
    assert texts
    assert not [text for text in texts if fake.api_key in text]


def test_key_quoted_back_by_the_server_or_httpx_is_redacted(
    fake: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key = fake.api_key
    fake.plan("bulk", lambda response: httpx.Response(422, json={"error": f"key {key} is odd"}))
    result = fake.load([fake.contact(0)])
    (outcome,) = result.outcomes
    assert outcome.error is not None and "[redacted]" in outcome.error
    assert key not in outcome.error

    fake.plan("list", *[httpx.ConnectError(f"proxy said {key}")] * 2)

    async def probe() -> None:
        async with fake.client(LoadSettings(max_retries=1)) as client:
            await client.check_auth(OBJECTS["contacts"])

    with pytest.raises(CrmsyncError) as caught:
        asyncio.run(probe())
    texts = [*_texts_of(caught.value), caplog.text]
    assert "proxy said [redacted]" in texts[0]
    assert not [text for text in texts if key in text]
