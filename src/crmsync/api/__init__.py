"""The HTTP clients of the systems crmsync reads and writes, and what they share.

rally        RallyClient: pooled async httpx, X-Api-Key, the endpoints, retries, pacing
redmine      RedmineClient: GETs against Redmine CRM, retried the same way
retry        classify(): the one reading of an answer; the tenacity policy
pacing       Pacer: AIMD request rate learned from 429s
concurrency  ConcurrencyLimit: requests in flight, grown while the API keeps up
answers      what Rally's answers say and may hold, the tenant root
http         the key check, redaction, and transport failures as crmsync errors
settings     ClientSettings: requests in flight, retries, timeouts, their defaults; ClientStats

Extract (reading a source) and load (writing Rally) both use these; neither imports the other.
"""

from crmsync.api.answers import api_root
from crmsync.api.rally import RallyClient
from crmsync.api.redmine import RedmineClient
from crmsync.api.retry import Verdict, classify
from crmsync.api.settings import ClientSettings, ClientStats

__all__ = [
    "ClientSettings",
    "ClientStats",
    "RallyClient",
    "RedmineClient",
    "Verdict",
    "api_root",
    "classify",
]
