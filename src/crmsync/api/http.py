"""What crmsync's two HTTP clients (Rally's loader, the Redmine reader) share: the API key
check, redaction, URLs as they may be shown, the plain-http rule, and turning a failed answer
or transport error into a crmsync error.

Every message built here has the key replaced by `[redacted]`: servers and proxies may quote
a request back, and httpx's own texts may carry it. A server may also quote only part of it
(its own message cut short), so any piece of a secret long enough to matter is redacted too,
and a body is redacted whole before it is cut to a message's length.
"""

from __future__ import annotations

import ipaddress
import string
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from crmsync.api.retry import Verdict, classify
from crmsync.errors import AmbiguousError, ConfigError, CrmsyncError, RetryableError

REDACTED = "[redacted]"
MAX_ERROR_TEXT = 300  # characters of a body kept in a message when it has no error field
# A run of this many characters of a secret is redacted wherever it appears: a server that
# cuts its echo of the key short must not leave 21 of its 22 characters in a report.
SECRET_FRAGMENT_CHARS = 8
# A key's first or last characters down to this many are redacted where they start or end a
# run of text: a server that masks a key as "****3456" echoes its tail.
SECRET_END_CHARS = 4
_HEADER_SAFE = frozenset(string.ascii_letters + string.digits + string.punctuation)
# Keys are ASCII (check_api_key): folding only A-Z keeps every index of a text where it was,
# which str.lower() does not ('İ' becomes two characters).
_ASCII_FOLD = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
LOOPBACK_SUFFIX = ".localhost"  # RFC 6761: always the loopback interface


def check_api_key(api_key: str, system: str) -> None:
    """ConfigError unless `api_key` can travel in an HTTP header (printable ASCII, no spaces)."""
    if not api_key or not set(api_key) <= _HEADER_SAFE:
        raise ConfigError(
            f"the {system} API key is empty or holds characters an HTTP header cannot carry"
        )


def redact(text: str, *secrets: str | None) -> str:
    """`text` with every secret, and every piece of one at least SECRET_FRAGMENT_CHARS long,
    replaced by `[redacted]`, in any case: a server or proxy may echo a key upper-cased.

    A secret shorter than that is replaced where it stands as a word of its own, not inside
    a longer one: a key "y" in "key" is a coincidence of letters, and replacing every "y"
    left messages no one could read."""
    for secret in secrets:
        if not secret:
            continue
        if len(secret) < SECRET_FRAGMENT_CHARS:
            text = _redact_word(text, secret)
            continue
        for form in _forms(secret):
            text = _redact_one(text, form)
        text = _redact_ends(text, secret)
    return text


def _forms(secret: str) -> list[str]:
    """The secret as written, and as URLs carry it: percent-encoded as Python's quote does
    and with every character but letters and digits encoded (either case of hex digit)."""
    every = "".join(c if c.isalnum() else f"%{ord(c):02X}" for c in secret)
    return list(dict.fromkeys((secret, quote(secret, safe=""), every, every.lower())))


def _redact_ends(text: str, secret: str) -> str:
    """The first or last SECRET_END_CHARS or more characters of `secret` where a text shows
    a key cut short (`****3456`, `sk_live_ab...`): standing as a word of its own, such a
    piece is redacted however short, down to SECRET_END_CHARS. A secret URL's head is its
    scheme (`https`), no secret: every alert about an "HTTP 401" read "[redacted] 401"."""
    longest = min(SECRET_FRAGMENT_CHARS, len(secret)) - 1
    url = "://" in secret
    for size in range(longest, SECRET_END_CHARS - 1, -1):
        for piece in (secret[-size:], *(() if url else (secret[:size],))):
            text = _redact_word(text, piece)
    return text


def _redact_word(text: str, secret: str) -> str:
    folded, folded_secret = text.translate(_ASCII_FOLD), secret.translate(_ASCII_FOLD)
    kept: list[str] = []
    start = 0
    at = folded.find(folded_secret)
    while at != -1:
        end = at + len(secret)
        inside = (secret[0].isalnum() and at > 0 and text[at - 1].isalnum()) or (
            secret[-1].isalnum() and end < len(text) and text[end].isalnum()
        )
        if inside:
            at = folded.find(folded_secret, at + 1)
            continue
        kept += [text[start:at], REDACTED]
        start = end
        at = folded.find(folded_secret, end)
    kept.append(text[start:])
    return "".join(kept)


def _redact_one(text: str, secret: str) -> str:
    folded_secret = secret.translate(_ASCII_FOLD)
    size = min(SECRET_FRAGMENT_CHARS, len(secret))
    if len(text) < size:
        return text
    folded = text.translate(_ASCII_FOLD)
    pieces = {folded_secret[i : i + size] for i in range(len(secret) - size + 1)}
    kept: list[str] = []
    start = i = 0
    while i <= len(text) - size:
        if folded[i : i + size] not in pieces:
            i += 1
            continue
        end = i + size
        while end < len(text) and folded[i : end + 1] in folded_secret:
            end += 1
        kept += [text[start:i], REDACTED]
        start = i = end
    kept.append(text[start:])
    return "".join(kept)


def _userinfo_split(url: str) -> tuple[str, str, str]:
    """`url` as (what precedes the user info, the user info, the rest), by plain string
    work: urlsplit raises on URLs people mistype (`https://[host`), which must still be shown
    without their password."""
    text = url.strip()
    scheme, sep, rest = text.partition("//")
    if not sep:
        return text, "", ""
    end = min((rest.find(ch) for ch in "/?#" if ch in rest), default=len(rest))
    userinfo, at, host = rest[:end].rpartition("@")
    if not at:
        return text, "", ""
    return scheme + sep, userinfo, host + rest[end:]


def public_url(url: str) -> str:
    """`url` as it may be shown, logged or stored: without the user and password that
    `https://user:pass@host` carries (they stay in the request only)."""
    head, userinfo, rest = _userinfo_split(url)
    return head + rest if userinfo else head


def url_secrets(url: str) -> tuple[str, ...]:
    """The user info of a URL (`user:password`) and its password, to redact from texts that
    may quote the URL back."""
    _, userinfo, _ = _userinfo_split(url)
    password = userinfo.partition(":")[2]
    return tuple(secret for secret in (userinfo, password) if secret)


def is_loopback(url: str) -> bool:
    """True when `url`'s host is this machine: 127.0.0.0/8, ::1 or a localhost name."""
    try:
        host = (urlsplit(url.strip()).hostname or "").rstrip(".").lower()
    except ValueError:
        return False
    if host in LOOPBACK_NAMES or host.endswith(LOOPBACK_SUFFIX):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def plain_http(url: str) -> bool:
    """True when `url` would send the key unencrypted over a network: http:// to a host
    other than this machine."""
    return url.strip().lower().startswith("http://") and not is_loopback(url)


def server_message(
    response: httpx.Response, secrets: tuple[str, ...], pick: Callable[[Any], str | None]
) -> str:
    """The server's own error text, redacted: what `pick` finds in the JSON body (None when
    the body has none, or is not JSON), else the start of the body. Redacted before it is
    cut, so a cut never splits a secret into a piece redaction would miss."""
    try:
        body = response.json()
    except (ValueError, RecursionError):
        body = None
    found = pick(body)
    text = found if found is not None else response.text.strip()
    return redact(text, *secrets)[:MAX_ERROR_TEXT]


def transport_failure(
    exc: httpx.HTTPError, *, where: str, root: str, secrets: tuple[str, ...]
) -> CrmsyncError:
    """The crmsync error for a request that got no answer: RetryableError when it was never
    sent, AmbiguousError when its answer was lost, ConfigError when it never can be sent.

    Raise it `from None`: a chained httpx cause would print the request unredacted.
    """
    text = redact(str(exc), *secrets)
    message = f"{where}: {type(exc).__name__}" + (f": {text}" if text else "")
    verdict = classify(exc)
    if verdict is Verdict.RETRY:
        return RetryableError(f"{message} (not sent)", sent=False)
    if verdict is Verdict.AMBIGUOUS:
        return AmbiguousError(f"{message} (the answer was lost)", sent=True)
    return ConfigError(f"cannot send to {root}: {message}")


def redirect_hint(response: httpx.Response, secrets: tuple[str, ...]) -> str:
    """What a 3xx says, for a message: where it points (never followed: the key would go
    with it) and the root to configure instead."""
    location = response.headers.get("Location", "").strip()
    if not location:
        return "redirected, without saying where"
    target = public_url(str(response.request.url.join(location)))
    parts = urlsplit(target)
    root = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    return redact(
        f"redirected to {target} (not followed: the key would go along); if that is the "
        f"server's new address, configure its root ({root}) instead",
        *secrets,
    )
