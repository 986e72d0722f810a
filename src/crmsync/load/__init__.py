"""The load stage: send records to Rally fast, never twice, and say what became of each.

loader     load_records(): batching, concurrency, 4xx splitting, ambiguous writes
ledger     one outcome per item, exactly once; the ids outcomes own
reconcile  matching listed records to what an ambiguous bulk sent
outcomes   LoadSettings, RecordOutcome, LoadResult

The HTTP client it sends through (retries, pacing, concurrency) is in `crmsync.api`.
"""

from crmsync.load.loader import load_records
from crmsync.load.outcomes import LoadMode, LoadResult, LoadSettings, OutcomeStatus, RecordOutcome

__all__ = [
    "LoadMode",
    "LoadResult",
    "LoadSettings",
    "OutcomeStatus",
    "RecordOutcome",
    "load_records",
]
