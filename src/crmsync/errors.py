"""The exception tree, grouped by what the caller should do.

    CrmsyncError                root: anything crmsync raises on purpose
    ├── ConfigError             the run cannot start: bad pipeline file, missing env var (exit 2)
    ├── SourceError             the source cannot be read: missing or malformed file (exit 2)
    ├── AuthError               the destination or source refused the key (exit 2)
    ├── LockedError             another run of the same pipeline holds its lock (exit 4)
    ├── UnreachableError        the destination did not answer, even after retries (exit 2)
    ├── TransientError          worth retrying: 429, 5xx, timeouts, dropped connections
    └── FatalHTTPError          a request the server refused for good (other 4xx)

Exceptions carry data (file, line, status) so reports never parse a message. None of them
ever holds an API key: requests are described by method and path only.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_ROWS_FAILED = 1
EXIT_CANNOT_START = 2
EXIT_INTERRUPTED = 3
EXIT_LOCKED = 4
EXIT_INTERNAL = 70  # EX_SOFTWARE: a bug in crmsync, not in the input


class CrmsyncError(Exception):
    """Root of every error crmsync raises on purpose."""

    exit_code = EXIT_CANNOT_START


class ConfigError(CrmsyncError):
    """The pipeline file or the environment is not usable; nothing was sent."""

    def __init__(self, message: str, *, path: str | None = None, file: str | None = None) -> None:
        self.path = path
        self.file = file
        where = ""
        if file:
            where += f"{file}: "
        if path:
            where += f"{path}: "
        super().__init__(f"{where}{message}")


class SourceError(CrmsyncError):
    """The source file (or API) cannot be read as a whole."""

    def __init__(self, message: str, *, source: str, line: int | None = None) -> None:
        self.source = source
        self.line = line
        where = f"{source}, line {line}" if line is not None else source
        super().__init__(f"{where}: {message}")


class AuthError(CrmsyncError):
    """The server refused the API key (401/403)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


class LockedError(CrmsyncError):
    """Another run of the same pipeline is in progress; this one did nothing."""

    exit_code = EXIT_LOCKED


class UnreachableError(CrmsyncError):
    """The destination could not be reached before anything was sent."""


class TransientError(CrmsyncError):
    """A failure worth retrying: rate limit, server fault, timeout, dropped connection."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        sent: bool = True,
    ) -> None:
        self.status = status
        self.retry_after = retry_after
        # False only when the request provably never reached the server (connect failed).
        self.sent = sent
        super().__init__(message)


class FatalHTTPError(CrmsyncError):
    """The server refused the request for good (a 4xx other than 401/403/429)."""

    def __init__(self, message: str, *, status: int) -> None:
        self.status = status
        super().__init__(message)
