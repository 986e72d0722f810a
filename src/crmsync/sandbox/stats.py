"""Counts of the requests the sandbox answered, for tests and benchmarks to read back.

Paths are counted by template (record ids become `{id}`), so a run of a million records adds
a handful of rows, not a million.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

API_PREFIX = "/api/v1/"
WRITE_METHODS = frozenset({"POST", "PUT", "DELETE"})
_COLLECTION_ACTIONS = frozenset({"bulk", "upsert"})
_ITEM_DEPTH = 5  # "", "api", "v1", object, id
# On the stats answer: which process serves the port (a test that starts a sandbox checks it
# reached its own, not one another test started on the same port a moment before).
PID_HEADER = "X-Sandbox-Pid"
SERVED_BY = {PID_HEADER: str(os.getpid())}


def path_template(path: str) -> str:
    """`/api/v1/contacts/<guid>` -> `/api/v1/contacts/{id}`; other paths unchanged."""
    if not path.startswith(API_PREFIX):
        return path
    parts = path.split("/")
    if len(parts) == _ITEM_DEPTH and parts[-1] and parts[-1] not in _COLLECTION_ACTIONS:
        parts[-1] = "{id}"
        return "/".join(parts)
    return path


class RequestStats:
    """Requests by (method, path template, status), and the number of API writes."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str, int]] = Counter()
        self._writes = 0

    def record(self, method: str, path: str, status: int) -> None:
        self._counts[(method, path_template(path), status)] += 1
        if method in WRITE_METHODS and path.startswith(API_PREFIX):
            self._writes += 1

    def clear(self) -> None:
        self._counts.clear()
        self._writes = 0

    def snapshot(self, records: dict[str, int]) -> dict[str, Any]:
        """The body of GET /_sandbox/stats."""
        rows = sorted(self._counts.items(), key=lambda item: (item[0][1], item[0][0], item[0][2]))
        return {
            "requests": [
                {"method": method, "path": path, "status": status, "count": count}
                for (method, path, status), count in rows
            ],
            "records": records,
            "writes": self._writes,
        }
