"""How an API client talks to a server: requests in flight, retries, timeouts.

One definition of every default, read by the pipeline file's `load:` section, by the loader
and by the source clients alike. Checked on construction, so a bad value never reaches the wire.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from crmsync.errors import ConfigError

DEFAULT_CONCURRENCY = 4
DEFAULT_MAX_CONCURRENCY = 16
DEFAULT_MAX_RETRIES = 8
DEFAULT_MAX_BACKOFF_S = 60.0
DEFAULT_CONNECT_TIMEOUT_S = 10.0
DEFAULT_READ_TIMEOUT_S = 60.0
MAX_CONCURRENCY_LIMIT = 64  # more requests in flight than any tenant's rate limit rewards
MAX_RETRIES_LIMIT = 50


@dataclass(frozen=True, kw_only=True)
class ClientSettings:
    """Requests in flight start at `concurrency` and adapt up to `max_concurrency` as latency
    and the rate limit allow (equal values fix them); each request is retried at most
    `max_retries` times after its first attempt, never waiting more than `max_backoff_s`."""

    concurrency: int = DEFAULT_CONCURRENCY
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    max_retries: int = DEFAULT_MAX_RETRIES
    max_backoff_s: float = DEFAULT_MAX_BACKOFF_S
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S
    read_timeout_s: float = DEFAULT_READ_TIMEOUT_S

    def __post_init__(self) -> None:
        if not 1 <= self.concurrency <= MAX_CONCURRENCY_LIMIT:
            raise ConfigError(
                f"concurrency must be between 1 and {MAX_CONCURRENCY_LIMIT}, not {self.concurrency}"
            )
        if not self.concurrency <= self.max_concurrency <= MAX_CONCURRENCY_LIMIT:
            raise ConfigError(
                f"max concurrency must be at least the concurrency ({self.concurrency}) and at"
                f" most {MAX_CONCURRENCY_LIMIT}, not {self.max_concurrency}"
            )
        if not 0 <= self.max_retries <= MAX_RETRIES_LIMIT:
            raise ConfigError(
                f"max retries must be between 0 and {MAX_RETRIES_LIMIT}, not {self.max_retries}"
            )
        for name in ("max_backoff_s", "connect_timeout_s", "read_timeout_s"):
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):
                raise ConfigError(f"{name} must be a positive number of seconds, not {value}")
