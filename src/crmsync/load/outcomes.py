"""What the load stage is told (LoadSettings) and what it answers (RecordOutcome, LoadResult)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from crmsync.errors import ConfigError
from crmsync.schema import MAX_BULK

LoadMode = Literal["bulk", "upsert"]
LOAD_MODES: tuple[LoadMode, ...] = ("bulk", "upsert")

DEFAULT_BATCH_SIZE = MAX_BULK
DEFAULT_CONCURRENCY = 4
DEFAULT_MAX_CONCURRENCY = 16
DEFAULT_MAX_RETRIES = 8
DEFAULT_MAX_BACKOFF_S = 60.0
DEFAULT_CONNECT_TIMEOUT_S = 10.0
DEFAULT_READ_TIMEOUT_S = 60.0

OutcomeStatus = Literal["created", "updated", "failed"]


@dataclass(frozen=True)
class LoadSettings:
    """How records are sent. Checked on construction, so a bad value never reaches the wire."""

    mode: LoadMode = "bulk"
    batch_size: int = DEFAULT_BATCH_SIZE  # 1..MAX_BULK records per bulk request
    # Requests in flight: `concurrency` at the start, adapting up to `max_concurrency` as
    # latency and the rate limit allow (load/concurrency.py); equal values fix it.
    concurrency: int = DEFAULT_CONCURRENCY
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    max_retries: int = DEFAULT_MAX_RETRIES  # retries per request after the first attempt
    max_backoff_s: float = DEFAULT_MAX_BACKOFF_S  # cap of one wait
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S
    read_timeout_s: float = DEFAULT_READ_TIMEOUT_S

    def __post_init__(self) -> None:
        if self.mode not in LOAD_MODES:
            modes = ", ".join(LOAD_MODES)
            raise ConfigError(f"load mode must be one of {modes}, not {self.mode!r}")
        if not 1 <= self.batch_size <= MAX_BULK:
            raise ConfigError(f"batch size must be between 1 and {MAX_BULK}, not {self.batch_size}")
        if self.concurrency < 1:
            raise ConfigError(f"concurrency must be at least 1, not {self.concurrency}")
        if self.max_concurrency < self.concurrency:
            raise ConfigError(
                f"max concurrency must be at least the concurrency ({self.concurrency}),"
                f" not {self.max_concurrency}"
            )
        if self.max_retries < 0:
            raise ConfigError(f"max retries must not be negative, not {self.max_retries}")
        for name in ("max_backoff_s", "connect_timeout_s", "read_timeout_s"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, not {getattr(self, name)}")


@dataclass(frozen=True, slots=True)  # a million of them in a big load
class RecordOutcome:
    """What became of one record. `error` never holds the API key."""

    key: int  # the caller's key for the record (a row position); opaque here
    status: OutcomeStatus
    rally_id: str | None
    error: str | None
    http_status: int | None = None
    reconciled: bool = False  # established after an ambiguous write, by upsert or by listing


@dataclass
class LoadResult:
    """Exactly one outcome per input item, in any order, and honest counters."""

    outcomes: list[RecordOutcome]
    requests: int  # HTTP requests sent: all kinds, retries and reconciliation included
    retries: int
    rate_limited: int  # 429 answers seen

    def count(self, status: OutcomeStatus) -> int:
        """How many outcomes have `status`."""
        return sum(1 for outcome in self.outcomes if outcome.status == status)
