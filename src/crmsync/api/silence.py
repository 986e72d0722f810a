"""When Rally has stopped answering altogether: the load stops instead of waiting out every
request's timeout and retries, batch after batch.

A server that accepts connections and never answers made each batch wait through some nine
full timeouts (a 250-row load took 545 s; 10,000 rows would take hours). Each request only
sees its own failures, so the client counts them together: after SILENT_REQUESTS requests in
a row got no answer at all (a timeout, a connection lost) and SILENT_S seconds passed since
the last answer of any kind, the next failure stops the run, as an unreachable host does.
Any answer, an error status included, shows the server is there and starts the count again.
"""

from __future__ import annotations

from collections.abc import Callable

from crmsync.errors import ConfigError

SILENT_REQUESTS = 8
SILENT_S = 300.0


class Silence:
    """Requests that got no answer since the last one that did, on the client's clock."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._since = clock()
        self._count = 0

    def answered(self) -> None:
        self._since = self._clock()
        self._count = 0

    def unanswered(self, root: str, failure: str) -> None:
        """Count one request without an answer; ConfigError (the run stops) once Rally has
        been silent for SILENT_REQUESTS requests and SILENT_S seconds."""
        self._count += 1
        silent_s = self._clock() - self._since
        if self._count >= SILENT_REQUESTS and silent_s >= SILENT_S:
            raise ConfigError(
                f"cannot send to {root}: no answer to the last {self._count} requests in "
                f"{silent_s:.0f} s (the last: {failure}); Rally is down or unreachable, so the "
                "load stops here: run it again when Rally answers"
            )
