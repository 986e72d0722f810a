"""Every exception crmsync raises on purpose, grouped by what the caller should do.

    CrmsyncError                    root
    │
    │   the run cannot start; nothing was sent (exit 2)
    ├── ConfigError                 bad pipeline file, missing env var, unusable argument
    │   └── StateError              the state database is damaged, full or unreadable
    ├── SourceError                 the source cannot be read as a whole (missing, malformed)
    │   └── NotFoundError           a source API answered 404 (a record gone while reading)
    ├── AuthError                   the destination or a source refused the key
    ├── UnreachableError            the destination did not answer, even after retries
    │
    │   another run holds the pipeline (exit 4)
    ├── LockedError
    │
    │   the run stopped after it had sent records (exit 5)
    ├── StoppedError                a later step could not start; what was sent is recorded
    │
    │   one request failed; the client or the loader decides (never reaches the user as is)
    ├── TransientError              worth another try
    │   ├── RetryableError          nothing was done (429, connection never made): re-send
    │   └── AmbiguousError          the server may have acted (5xx, lost answer): re-send only
    │       │                       what is idempotent, reconcile the rest
    │       └── MalformedAnswerError  a 2xx whose body is not what the API documents
    └── FatalHTTPError              refused for good (a 4xx other than 401/403/429)
        └── RequestRefused          ... with the server's own message, for the record's outcome

Exceptions carry data (file, line, status, detail) so reports never parse a message. None of
them ever holds an API key: requests are described by method and path only, and every server
text is redacted before it is put in a message.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_ROWS_FAILED = 1
EXIT_CANNOT_START = 2
EXIT_INTERRUPTED = 3
EXIT_LOCKED = 4
# The run stopped after it had sent records (the key refused mid-run, a later step unable to
# start, the report not written): unlike 2, something did reach Rally; the run's report and
# history hold what.
EXIT_STOPPED = 5
# The run finished but broke what the pipeline file expects of a healthy run (`expect:`): too
# many rows failed, too few read, too slow, nothing changing. A person should look.
EXIT_EXPECTATIONS = 6
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


class StateError(ConfigError):
    """The state database cannot be read or written (damaged, full, unreadable)."""


class SourceError(CrmsyncError):
    """The source file (or API) cannot be read as a whole."""

    def __init__(self, message: str, *, source: str, line: int | None = None) -> None:
        self.source = source
        self.line = line
        where = f"{source}, line {line}" if line is not None else source
        super().__init__(f"{where}: {message}")


class NotFoundError(SourceError):
    """A source API answered 404: for a record's page, it was deleted while the run read others."""


class AuthError(CrmsyncError):
    """The server refused the API key (401/403)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


class LockedError(CrmsyncError):
    """Another run of the same pipeline is in progress; this one did nothing."""

    exit_code = EXIT_LOCKED


class StoppedError(CrmsyncError):
    """The run stopped after earlier steps had sent records: not a run that never started."""

    exit_code = EXIT_STOPPED


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


class RetryableError(TransientError):
    """Nothing was done (429, connection never made): sending again is safe."""


class AmbiguousError(TransientError):
    """The server may have acted (5xx, lost answer): re-send only what is idempotent."""


class MalformedAnswerError(AmbiguousError):
    """A 2xx whose body is not what the API documents: the write may well have happened."""


class FatalHTTPError(CrmsyncError):
    """The server refused the request for good (a 4xx other than 401/403/429)."""

    def __init__(self, message: str, *, status: int) -> None:
        self.status = status
        super().__init__(message)


class RequestRefused(FatalHTTPError):
    """A 4xx refusal; `detail` is the server's own message (redacted), for the record's outcome."""

    def __init__(self, message: str, *, status: int, detail: str) -> None:
        super().__init__(message, status=status)
        self.detail = detail
