"""What crmsync remembers between runs: a SQLite state database, and stable payload hashes.

- :class:`StateDB` (``db.py``): runs and step summaries, the id map, row hashes for change
  detection, watermarks, batch checkpoints for resume;
- ``schema.py``: the schema, its version and forward migrations;
- ``hashing.py``: :func:`payload_hash` / :func:`payload_hashes`, SHA-256 over canonical JSON,
  stable across library versions.

The pipeline's lock lives in :mod:`crmsync.lock`.
"""

from crmsync.state.db import RunRecord, StateDB
from crmsync.state.hashing import canonical_json, payload_hash, payload_hashes
from crmsync.state.schema import SCHEMA_VERSION

__all__ = [
    "SCHEMA_VERSION",
    "RunRecord",
    "StateDB",
    "canonical_json",
    "payload_hash",
    "payload_hashes",
]
