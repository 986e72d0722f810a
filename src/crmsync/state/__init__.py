"""What crmsync remembers between runs: a SQLite state database, and the pipeline's lock.

- ``db.py``: :class:`StateDB`, one object per table (runs, ids, hashes, watermarks);
- ``step_state.py``: :class:`StepState`, one step's slice of it, scoped per destination;
- ``schema.py``: the schema, its version and forward migrations;
- ``hashing.py``: :func:`payload_hash` / :func:`payload_hashes`, SHA-256 over canonical JSON,
  stable across library versions;
- ``lock.py``: :class:`PipelineLock`, one run per pipeline at a time.
"""

from crmsync.state.db import StateDB
from crmsync.state.hashing import canonical_json, payload_hash, payload_hashes
from crmsync.state.lock import PipelineLock
from crmsync.state.runs import RunRecord
from crmsync.state.schema import SCHEMA_VERSION
from crmsync.state.step_state import StepState, destination_scope

__all__ = [
    "SCHEMA_VERSION",
    "PipelineLock",
    "RunRecord",
    "StateDB",
    "StepState",
    "canonical_json",
    "destination_scope",
    "payload_hash",
    "payload_hashes",
]
