"""What a test holds of a running Redmine sandbox (`crmsync.sandbox.testing.running_redmine`)."""

from __future__ import annotations

from typing import Any

import httpx

CLIENT_TIMEOUT_S = 30.0


class RedmineHandle:
    """A running Redmine sandbox: its root URL, a key it accepts, and its counters."""

    def __init__(self, base_url: str, api_key: str) -> None:
        self.base_url = base_url  # the Redmine root: /contacts.json sits right under it
        self.api_key = api_key
        self._client = httpx.Client(base_url=base_url, timeout=CLIENT_TIMEOUT_S)

    def __repr__(self) -> str:
        return f"RedmineHandle(base_url={self.base_url!r})"

    def stats(self) -> dict[str, Any]:
        """GET /_sandbox/stats: requests by method, path template and status; record counts."""
        response = self._client.get("/_sandbox/stats")
        response.raise_for_status()
        stats: dict[str, Any] = response.json()
        return stats

    def reset_stats(self) -> None:
        self._client.post("/_sandbox/reset").raise_for_status()

    def close(self) -> None:
        self._client.close()
