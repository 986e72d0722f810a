"""The load stage: send records to Rally fast, never twice, and say what became of each.

client     RallyClient: pooled httpx, X-Api-Key, endpoints, retries, pacing
retry      classify(): the one reading of an answer; the tenacity policy
pacing     Pacer: AIMD request rate learned from 429s
concurrency  ConcurrencyLimit: requests in flight, grown while the API keeps up
loader     load_records(): batching, concurrency, 4xx splitting, ambiguous writes
reconcile  matching listed records to what an ambiguous bulk sent
outcomes   LoadSettings, RecordOutcome, LoadResult
"""

from crmsync.load.client import ClientStats, RallyClient, RequestRefused
from crmsync.load.loader import load_records
from crmsync.load.outcomes import LoadMode, LoadResult, LoadSettings, RecordOutcome
from crmsync.load.retry import AmbiguousError, RetryableError, Verdict, classify

__all__ = [
    "AmbiguousError",
    "ClientStats",
    "LoadMode",
    "LoadResult",
    "LoadSettings",
    "RallyClient",
    "RecordOutcome",
    "RequestRefused",
    "RetryableError",
    "Verdict",
    "classify",
    "load_records",
]
