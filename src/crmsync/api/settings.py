"""How an API client talks to a server: requests in flight, retries, timeouts.

One definition of every default and every limit, read by the pipeline file's `load:` section,
by the loader and by the source clients alike. Checked on construction (`setting_error` is
the one check, which the pipeline file's validation calls too), so a bad value never reaches
the wire.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

from crmsync.errors import ConfigError

DEFAULT_CONCURRENCY = 4
DEFAULT_MAX_CONCURRENCY = 16
DEFAULT_MAX_RETRIES = 8
DEFAULT_MAX_BACKOFF_S = 60.0
DEFAULT_CONNECT_TIMEOUT_S = 10.0
DEFAULT_READ_TIMEOUT_S = 60.0
# The most one request may take, sending and reading its whole answer: a read timeout alone
# never fires against a server that sends a byte at a time.
DEFAULT_REQUEST_DEADLINE_S = 120.0
# Inclusive bounds of the counts: more in flight than any tenant's rate limit rewards, or more
# retries than any outage is worth waiting out, is a typo.
COUNT_LIMITS: dict[str, tuple[int, int]] = {
    "concurrency": (1, 64),
    "max_concurrency": (1, 64),
    "max_retries": (0, 50),
}
# A day: 1e308 seconds is finite, and turns a cap off as surely as .inf does.
MAX_SECONDS = 86_400.0
SECONDS_SETTINGS = (
    "max_backoff_s",
    "connect_timeout_s",
    "read_timeout_s",
    "request_deadline_s",
)


def setting_error(name: str, value: object) -> str | None:
    """Why `value` is no usable client setting `name`, or None. An infinite timeout or backoff
    is refused (and so is more than a day): it would turn the cap off and let one server hold a
    run forever."""
    if name in COUNT_LIMITS:
        low, high = COUNT_LIMITS[name]
        if not isinstance(value, int) or not low <= value <= high:
            return f"must be a whole number from {low} to {high}, not {value!r}"
    if name in SECONDS_SETTINGS and not (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 < value <= MAX_SECONDS
    ):
        return f"must be a positive, finite number of seconds (a day at most), not {value!r}"
    return None


@dataclass(frozen=True, kw_only=True)
class ClientSettings:
    """Requests in flight start at `concurrency` and adapt up to `max_concurrency` as latency
    and the rate limit allow (equal values fix them); each request is retried at most
    `max_retries` times after its first attempt, never waiting more than `max_backoff_s`;
    one attempt, its whole answer read, never lasts more than `request_deadline_s`."""

    concurrency: int = DEFAULT_CONCURRENCY
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    max_retries: int = DEFAULT_MAX_RETRIES
    max_backoff_s: float = DEFAULT_MAX_BACKOFF_S
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S
    read_timeout_s: float = DEFAULT_READ_TIMEOUT_S
    request_deadline_s: float = DEFAULT_REQUEST_DEADLINE_S

    @staticmethod
    def error(name: str, value: object) -> str | None:
        """Why `value` is no usable setting `name` of this class, or None."""
        return setting_error(name, value)

    def __post_init__(self) -> None:
        for item in fields(self):
            problem = self.error(item.name, getattr(self, item.name))
            if problem is not None:
                raise ConfigError(f"{item.name} {problem}")
        if self.max_concurrency < self.concurrency:
            raise ConfigError(
                f"max_concurrency must be at least concurrency ({self.concurrency}),"
                f" not {self.max_concurrency}"
            )


@dataclass
class ClientStats:
    """Counters over the client's life; LoadResult reports the difference over one load."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    # writes that may have changed something: answered 2xx or 5xx, or not answered at all
    # (a 4xx is a refusal that changed nothing)
    writes_landed: int = 0

    def snapshot(self) -> ClientStats:
        return replace(self)
