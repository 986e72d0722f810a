"""What a healthy run looks like (`expect:`) and whom to tell when one is not (`notify:`).

    expect:
      max_failed: 2%          rows failed: a share of the rows read, or a count (20)
      min_rows_read: 1000     fewer rows read than this (an empty or cut-off source file)
      max_duration: 30m       the whole run: 90s, 30m, 2h, 1h30m, or seconds
      max_unchanged: 99.9%    rows unchanged: a share of the rows read, or a count
    notify:
      webhook: {url: ${ALERT_WEBHOOK_URL}}

The webhook's URL is a secret (a Slack or Teams URL is its own credential): it comes from the
environment, is never shown, and must be https:// unless it is on this machine.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, SecretStr, field_validator

from crmsync.api.http import plain_http
from crmsync.config.base import Section

PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")
COUNT = re.compile(r"^\s*(\d+)\s*$")
DURATION = re.compile(r"^\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*(?:(\d+(?:\.\d+)?)\s*s)?\s*$")
SECONDS = {"h": 3600, "m": 60, "s": 1}
DEFAULT_WEBHOOK_TIMEOUT_S = 10.0
DEFAULT_WEBHOOK_ATTEMPTS = 4
MAX_WEBHOOK_ATTEMPTS = 10


class Threshold(Section):
    """A limit on a count: a share of the rows read (`percent`) or a number of rows."""

    value: float
    percent: bool

    def __str__(self) -> str:
        return f"{self.value:g}%" if self.percent else f"{self.value:g}"


def _threshold(value: Any) -> Any:
    """2% -> a share of the rows read, 20 -> a count; anything else is refused here, with
    what would have been right."""
    if isinstance(value, Threshold | dict):
        return value
    if isinstance(value, bool):
        raise ValueError(
            f"must be a count (e.g. 20) or a share of the rows read (e.g. 2%), got {value!r}"
        )
    if isinstance(value, int) and value >= 0:
        return {"value": value, "percent": False}
    text = str(value)
    if found := PERCENT.match(text):
        share = float(found.group(1))
        if share > 100:
            raise ValueError(f"a share of the rows read is at most 100%, got {text.strip()}")
        return {"value": share, "percent": True}
    if found := COUNT.match(text):
        return {"value": int(found.group(1)), "percent": False}
    raise ValueError(
        f"must be a count (e.g. 20) or a share of the rows read (e.g. 2%), got {value!r}"
    )


def _seconds(value: Any) -> Any:
    """30m, 2h, 1h30m, 90s, or a number of seconds, as seconds."""
    if isinstance(value, bool):
        raise ValueError(f"must be a duration like 30m, 2h or 90s, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        found = DURATION.match(str(value))
        if not found or not any(found.groups()):
            raise ValueError(f"must be a duration like 30m, 2h, 1h30m or 90s, got {value!r}")
        hours, minutes, secs = found.groups()
        seconds = int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(secs or 0)
    if seconds <= 0:
        raise ValueError(f"must be longer than no time at all, got {value!r}")
    return seconds


Limit = Annotated[Threshold, BeforeValidator(_threshold)]


class Expectations(Section):
    """What a healthy run looks like; a run that breaks one exits 6 (see the README)."""

    max_failed: Limit | None = Field(
        default=None,
        description="Most rows that may fail: a share of the rows read (2%) or a count.",
    )
    min_rows_read: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="Fewest rows the run must read, over all its steps."
    )
    max_duration: Annotated[float, BeforeValidator(_seconds)] | None = Field(
        default=None, description="Longest the whole run may take: 90s, 30m, 2h, 1h30m."
    )
    max_unchanged: Limit | None = Field(
        default=None,
        description="Most rows that may be unchanged (a source that stopped changing): a "
        "share of the rows read (99.9%) or a count.",
    )


class WebhookConfig(Section):
    url: SecretStr = Field(
        description="Where the message is POSTed (a Slack or Teams incoming webhook, or any "
        "JSON receiver); use ${ALERT_WEBHOOK_URL}: the URL is a secret."
    )
    timeout_s: Annotated[float, Field(gt=0, le=120)] = Field(
        default=DEFAULT_WEBHOOK_TIMEOUT_S, description="Longest one attempt may take."
    )
    max_attempts: Annotated[int, Field(ge=1, le=MAX_WEBHOOK_ATTEMPTS)] = Field(
        default=DEFAULT_WEBHOOK_ATTEMPTS,
        description="Attempts in all, with exponential backoff between them.",
    )

    @field_validator("url")
    @classmethod
    def _encrypted(cls, value: SecretStr) -> SecretStr:
        url = value.get_secret_value().strip()
        if not re.match(r"^https?://[^/\s]+", url, re.IGNORECASE):
            raise ValueError("must be an http(s) URL (not shown: it is a secret)")
        if plain_http(url):
            raise ValueError("must be https:// (plain http:// only to this machine)")
        return SecretStr(url)


class NotifyConfig(Section):
    """Whom to tell about a run that broke an expectation, failed, crashed or could not start."""

    webhook: WebhookConfig
