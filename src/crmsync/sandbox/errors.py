"""The one exception the sandbox's handlers raise to answer an error."""

from __future__ import annotations


class ApiError(Exception):
    """Answer `status` with `{"error": message}`; the message never holds a key or a body."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(f"{status}: {message}")
