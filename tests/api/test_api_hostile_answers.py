"""Answers no honest server sends, through the real clients over httpx transports: keys echoed
across a cut, plain http, passwords in URLs, redirects, JSON nested 100,000 deep, answers too
large for their endpoint, and answers trickled a byte at a time (in virtual time)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import httpx
import pytest

from crmsync.api import RallyClient, RedmineClient
from crmsync.api.answers import MAX_RECORD_BYTES
from crmsync.api.bounded import ERROR_BODY_BYTES
from crmsync.api.http import SECRET_FRAGMENT_CHARS, public_url, redact
from crmsync.errors import (
    AmbiguousError,
    ConfigError,
    CrmsyncError,
    MalformedAnswerError,
    RequestRefused,
    SourceError,
)
from crmsync.load import LoadSettings
from crmsync.schema import OBJECTS

CONTACTS = OBJECTS["contacts"]
KEY = "rk_live_S3CRET-test-key-0042"  # the fake's key (tests/conftest.py)
DEEP = b"[" * 100_000 + b"]" * 100_000
Runner = Callable[[Coroutine[Any, Any, Any]], Any]


def pieces(text: str, secret: str, size: int = SECRET_FRAGMENT_CHARS) -> list[str]:
    """Every run of `size` characters of `secret` found in `text`."""
    runs = (secret[i : i + size] for i in range(len(secret) - size + 1))
    return [run for run in runs if run in text]


# -- redaction ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "x" * 290 + KEY + " was refused",  # the whole key across the 300-character cut
        "you sent " + KEY[:21],  # the server cut its own echo short
        KEY[5:] + " is not a key",  # ... or started it late
        "a" * 100_000 + KEY,  # a long body, the key at its end
    ],
    ids=["across-the-cut", "prefix-at-the-end", "suffix-at-the-start", "long-body"],
)
def test_no_piece_of_an_echoed_key_survives(fake: Any, body: str, caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    fake.plan("bulk", lambda response: httpx.Response(422, text=body))
    (outcome,) = fake.load([fake.contact(0)]).outcomes
    assert outcome.status == "failed" and outcome.error
    assert pieces(outcome.error, KEY) == []
    assert pieces(caplog.text, KEY) == []
    assert "[redacted]" in outcome.error or len(body) > ERROR_BODY_BYTES


def test_redact_takes_every_long_piece_and_leaves_the_rest() -> None:
    secret = "abcdefghijklmnopqrstuv"
    assert redact(f"<{secret}>", secret) == "<[redacted]>"
    assert redact("x abcdefgh y", secret) == "x [redacted] y"
    assert redact("x bcdefgh y", secret) == "x bcdefgh y"  # 7 from the middle: a coincidence
    assert redact("opqrstuv and jklmnopq", secret) == "[redacted] and [redacted]"
    assert redact("anything", None, "") == "anything"
    assert redact("the key is short", "short") == "the key is [redacted]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bad key ****stuv", "bad key ****[redacted]"),  # a masked key shows its tail
        ("key abcd... refused", "key [redacted]... refused"),  # or its head, cut short
        ("key=abcdefghijklmnopqrstuv&x=1", "key=[redacted]&x=1"),
        ("%61bcdefghijklmnopqrstu%76", "%61[redacted]%76"),
    ],
    ids=["masked-tail", "cut-head", "as-written", "some-encoded"],
)
def test_the_ends_of_a_key_are_redacted_however_short(text: str, expected: str) -> None:
    assert redact(text, "abcdefghijklmnopqrstuv") == expected


def test_a_key_in_a_url_is_redacted_in_its_encoded_forms() -> None:
    key = "secret-key-123456"
    for echo in ("secret%2Dkey%2D123456", "secret%2dkey%2d123456", "SECRET%2DKEY%2D12"):
        assert redact(f"GET /x?key={echo}", key) == "GET /x?key=[redacted]"
    assert redact("abcd and vuts and stuvw", "abcdefghijklmnopqrstuv") == (
        "[redacted] and vuts and stuvw"  # the tail reversed, or run on: no key's end
    )


def test_a_short_key_is_redacted_where_it_stands_alone_not_inside_words() -> None:
    assert redact("work_memroy: unknown key (did you mean?)", "y") == (
        "work_memroy: unknown key (did you mean?)"
    )
    assert redact("key y refused; Y again; y", "y") == (
        "key [redacted] refused; [redacted] again; [redacted]"
    )
    assert redact("api_key=abc&x=abcd", "ABC") == "api_key=[redacted]&x=abcd"
    assert redact("sent -k- and a-k-b", "-k-") == "sent [redacted] and a[redacted]b"
    assert redact("é1é 1", "1") == "é1é [redacted]"  # letters of any script make a word


@pytest.mark.parametrize(
    "echo",
    [KEY.upper(), KEY.lower(), KEY[:12].swapcase(), "x" * 295 + KEY.upper()],
    ids=["upper", "lower", "prefix-swapped", "upper-across-the-cut"],
)
def test_an_echo_in_another_case_leaves_no_piece(fake: Any, echo: str) -> None:
    fake.plan("bulk", lambda response: httpx.Response(422, text="bad key: " + echo))
    (outcome,) = fake.load([fake.contact(0)]).outcomes
    assert outcome.error and pieces(outcome.error.lower(), KEY.lower()) == []


def test_redact_keeps_the_length_of_text_whose_case_changes_it() -> None:
    # 'İ'.lower() is two characters: matching must not shift what it cuts out
    assert redact("İİ abcdefgh İ", "ABCDEFGHIJ") == "İİ [redacted] İ"


def test_a_redmine_echo_leaves_no_piece_of_the_key() -> None:
    secret = "redmine-S3CRET-key-4242"

    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, text="y" * 295 + request.headers["X-Redmine-API-Key"])

    client = RedmineClient("https://redmine.example", secret, transport=httpx.MockTransport(echo))
    with client, pytest.raises(SourceError) as caught:
        client.get("/contacts.json", {}, lambda body: body)
    assert pieces(str(caught.value), secret) == []


# -- where the key may go ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "refused"),
    [
        ("http://192.0.2.2", True),
        ("http://acme.rallycrm.io", True),
        ("HTTP://10.0.0.1:8765/api/v1", True),
        ("https://192.0.2.2", False),
        ("http://127.0.0.1:8765", False),
        ("http://127.8.9.10", False),
        ("http://localhost:8765", False),
        ("http://rally.localhost", False),
        ("http://[::1]:8765", False),
    ],
)
def test_plain_http_is_refused_except_to_this_machine(url: str, refused: bool) -> None:
    if refused:
        with pytest.raises(ConfigError, match=r"unencrypted .* allow_insecure_http"):
            RallyClient(url, KEY)
        with pytest.raises(ConfigError, match=r"unencrypted .* allow_insecure_http"):
            RedmineClient(url, KEY)
        RallyClient(url, KEY, allow_insecure_http=True)
        RedmineClient(url, KEY, allow_insecure_http=True).close()
    else:
        RallyClient(url, KEY)
        RedmineClient(url, KEY).close()


def test_a_password_in_the_url_is_sent_but_never_shown(caplog: Any) -> None:
    seen: list[str | None] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Authorization"))
        raise httpx.ConnectError(f"cannot reach {request.url}", request=request)

    url = "https://admin:pa55word-very-secret@acme.rallycrm.io"
    client = RallyClient(
        url, KEY, transport=httpx.MockTransport(refuse), settings=LoadSettings(max_retries=0)
    )
    assert client.base_url == "https://acme.rallycrm.io" == public_url(url)
    with pytest.raises(CrmsyncError) as caught:
        asyncio.run(client.check_auth(CONTACTS))
    texts = [str(caught.value), repr(client), caplog.text]
    assert not [text for text in texts if "pa55word" in text or "admin:" in text]
    assert seen and seen[0] is not None and seen[0].startswith("Basic ")  # still sent


def test_a_redirect_is_not_followed_and_names_where_it_points(fake: Any) -> None:
    location = "https://acme.rallycrm.io/api/v1/contacts?limit=1"
    fake.plan("list", lambda response: httpx.Response(301, headers={"Location": location}))

    async def probe() -> None:
        async with fake.client() as client:
            await client.check_auth(CONTACTS)

    with pytest.raises(RequestRefused) as caught:
        asyncio.run(probe())
    message = str(caught.value)
    assert "HTTP 301" in message and f"redirected to {location}" in message
    assert "configure its root (https://acme.rallycrm.io)" in message
    assert fake.count("list") == 1


def test_a_redmine_redirect_names_where_it_points() -> None:
    def login(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "/login?back_url=x"})

    client = RedmineClient("https://redmine.example", KEY, transport=httpx.MockTransport(login))
    with client, pytest.raises(SourceError, match=r"redirected to https://redmine\.example/login"):
        client.get("/contacts.json", {}, lambda body: body)


# -- answers that are too deep or too large ----------------------------------------------------


def test_deep_json_in_a_list_answer_is_retried_then_fails(fake: Any) -> None:
    fake.plan("list", *[lambda response: httpx.Response(200, content=DEEP)] * 3)

    async def probe() -> None:
        async with fake.client(LoadSettings(max_retries=2)) as client:
            await client.check_auth(CONTACTS)

    with pytest.raises(MalformedAnswerError):
        asyncio.run(probe())
    assert fake.count("list") == 3


def test_deep_json_in_a_bulk_answer_is_reconciled_without_duplicates(fake: Any) -> None:
    fake.plan("bulk", lambda response: httpx.Response(200, content=DEEP))  # written, then this
    result = fake.load([fake.contact(i) for i in range(3)])
    assert result.count("created") == 3
    assert sorted(r["email"] for r in fake.stored("contacts")) == [
        fake.contact(i)["email"] for i in range(3)
    ]
    assert fake.count("list") >= 1  # what the bulk did was looked up, not guessed


def test_deep_json_in_an_error_answer_is_just_its_text(fake: Any) -> None:
    fake.plan("bulk", lambda response: httpx.Response(422, content=DEEP))
    (outcome,) = fake.load([fake.contact(0)]).outcomes
    assert outcome.status == "failed" and outcome.error is not None
    assert outcome.error.startswith("[[[")


def test_a_redmine_page_of_deep_json_is_retried_then_fails() -> None:
    def deep(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=DEEP)

    client = RedmineClient(
        "https://redmine.example", KEY, transport=httpx.MockTransport(deep), max_retries=1,
        sleep=lambda seconds: None,
    )  # fmt: skip
    with client, pytest.raises(SourceError, match="nested too deeply"):
        client.get("/contacts.json", {}, lambda body: body)


def zeros(total: int, chunk: int = 64 * 1024) -> AsyncIterator[bytes]:
    async def stream() -> AsyncIterator[bytes]:
        sent = 0
        while sent < total:
            yield b"0" * chunk
            sent += chunk

    return stream()


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
def test_an_answer_larger_than_its_endpoint_allows_is_malformed(fake: Any, declared: bool) -> None:
    size = 2 * 100 * MAX_RECORD_BYTES  # twice what a page of 100 records may hold

    def huge(response: httpx.Response) -> httpx.Response:
        headers = {"Content-Length": str(size)} if declared else {}
        return httpx.Response(200, headers=headers, content=zeros(size))

    fake.plan("list", huge, huge)

    async def probe() -> None:
        async with fake.client(LoadSettings(max_retries=1)) as client:
            await client.list_page(CONTACTS)

    with pytest.raises(MalformedAnswerError, match="larger than"):
        asyncio.run(probe())
    assert fake.count("list") == 2


def test_a_huge_error_answer_is_cut_not_read(fake: Any) -> None:
    fake.plan("bulk", lambda response: httpx.Response(400, content=zeros(10**9)))
    (outcome,) = fake.load([fake.contact(0)]).outcomes
    assert outcome.status == "failed" and outcome.error == "0" * 300


# -- answers that never end --------------------------------------------------------------------


def trickle(every_s: float) -> AsyncIterator[bytes]:
    async def stream() -> AsyncIterator[bytes]:
        while True:
            await asyncio.sleep(every_s)
            yield b" "

    return stream()


def test_a_trickled_answer_meets_the_deadline_in_virtual_time(in_virtual_time: Runner) -> None:
    calls: list[float] = []

    async def slow(request: httpx.Request) -> httpx.Response:
        calls.append(asyncio.get_running_loop().time())
        return httpx.Response(200, content=trickle(1.0))  # a byte a second, for ever

    async def probe() -> None:
        settings = LoadSettings(max_retries=1, read_timeout_s=2.0, request_deadline_s=30.0)
        client = RallyClient(
            "https://acme.rallycrm.io", KEY, settings=settings,
            transport=httpx.MockTransport(slow),
        )  # fmt: skip
        async with client:
            await client.bulk_create(CONTACTS, [{"email": "a@example.com"}])

    with pytest.raises(AmbiguousError, match="DeadlineExceeded: no complete answer within 30 s"):
        in_virtual_time(probe())
    assert calls == [0.0]  # a write whose answer was lost is never simply sent again


def test_a_trickled_redmine_answer_meets_the_deadline() -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=trickle(0.02))

    client = RedmineClient(
        "https://redmine.example", KEY, transport=httpx.MockTransport(slow), max_retries=1,
        request_deadline_s=0.2, sleep=lambda seconds: None,
    )  # fmt: skip
    with client, pytest.raises(SourceError, match=r"still failing .* no complete answer"):
        client.get("/contacts.json", {}, lambda body: body)


def test_a_secret_url_leaves_the_word_http_alone() -> None:
    """A webhook URL is a secret; its scheme is not: "HTTP 401" stays readable in alerts."""
    url = "https://hooks.slack.com/services/T000/B000/XXSECRETTOKEN1"
    said = redact(f"GET /api/v1/contacts: HTTP 401; posted to {url} (...TOKEN1)", url)
    assert said == "GET /api/v1/contacts: HTTP 401; posted to [redacted] (...[redacted])"


@pytest.mark.parametrize("status", [200, 204])
def test_an_update_answered_without_a_body_is_written_once(status: int) -> None:
    """A Rally that answers PUT with 204 No Content (or an empty 200) wrote the record: one
    request, an empty answer, no retry of a committed write."""
    puts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        puts.append(request.method)
        return httpx.Response(status)

    async def go() -> dict[str, Any] | None:
        async with RallyClient(
            "https://acme.rallycrm.io", KEY, transport=httpx.MockTransport(handler)
        ) as client:
            return await client.update(OBJECTS["contacts"], "c-1", {"email": "a@b.co"})

    assert asyncio.run(go()) is None
    assert puts == ["PUT"]
