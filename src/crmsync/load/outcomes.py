"""What the load stage is told (LoadSettings) and what it answers (RecordOutcome, LoadResult)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from crmsync.api.settings import ClientSettings, setting_error
from crmsync.schema import MAX_BULK

LoadMode = Literal["bulk", "upsert"]
LOAD_MODES: tuple[LoadMode, ...] = ("bulk", "upsert")
DEFAULT_BATCH_SIZE = MAX_BULK

OutcomeStatus = Literal["created", "updated", "failed"]


@dataclass(frozen=True, kw_only=True)
class LoadSettings(ClientSettings):
    """How records are sent: one bulk of `batch_size` records or one upsert per request, and
    the client settings those requests go out with."""

    mode: LoadMode = "bulk"
    batch_size: int = DEFAULT_BATCH_SIZE

    @staticmethod
    def error(name: str, value: object) -> str | None:
        if name == "mode" and value not in LOAD_MODES:
            return f"must be one of {', '.join(LOAD_MODES)}, not {value!r}"
        if name == "batch_size" and not (isinstance(value, int) and 1 <= value <= MAX_BULK):
            return f"must be a whole number from 1 to {MAX_BULK}, not {value!r}"
        return setting_error(name, value)


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
