"""One run per pipeline at a time: a lock file that dies with its process.

The lock is a file created atomically (``O_CREAT | O_EXCL``) holding
``{pid, host, started_at, pipeline}`` for people and for the error message, with an ``fcntl.flock``
held on it for as long as the run lasts. The kernel drops the flock when the process dies
(SIGKILL included), so "the file exists but nobody holds its flock" means a dead run: its lock is
taken over. A file whose flock is still held by a process other than the pid it names (a child
that inherited the descriptor) is taken over too when that pid is dead on this host.

Acquiring, taking over and releasing happen under a short flock on the lock's folder, so two
processes can never both decide that a stale lock is theirs, and a release cannot unlink a file
another process is just opening. POSIX only (crmsync runs from cron and systemd).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from crmsync.closing import Held
from crmsync.errors import ConfigError, LockedError

# The folder flock only covers a few file operations; waiting longer means something is wedged.
GUARD_TIMEOUT_S = 10.0
GUARD_POLL_S = 0.01
LOCK_FILE_MODE = 0o644


class PipelineLock(Held):
    """Exclusive right to run one pipeline; use as ``with PipelineLock(path, pipeline=...):``."""

    def __init__(self, lock_path: str | Path, *, pipeline: str) -> None:
        """Nothing happens until :meth:`acquire` (or ``with``)."""
        self.path = Path(lock_path)
        self.pipeline = pipeline
        # The pid whose stale lock this one replaced, so the caller can log it.
        self.took_over_from: int | None = None
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """True between acquire and release."""
        return self._fd is not None

    def acquire(self) -> Self:
        """Take the lock now or raise LockedError at once; never waits for another run."""
        if self._fd is not None:
            raise RuntimeError(f"{self.path} is already held by this PipelineLock")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with _guard(self.path.parent):
                self._fd = self._acquire_guarded()
        except OSError as exc:
            message = f"cannot take the lock {self.path}: {exc}"
            raise ConfigError(message, file=str(self.path)) from exc
        return self

    def release(self) -> None:
        """Remove the lock file and drop the flock (a no-op if not held)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            # Unlink only our own file: after a forced takeover the path may name another.
            with _guard(self.path.parent), contextlib.suppress(FileNotFoundError):
                if _same_file(os.fstat(fd), os.stat(self.path)):
                    self.path.unlink()
        finally:
            os.close(fd)

    # ----------------------------------------------------------------------------- internals

    def _acquire_guarded(self) -> int:
        try:
            return self._create()
        except FileExistsError:
            pass
        fd = os.open(self.path, os.O_RDWR | os.O_CLOEXEC)
        try:
            if _try_flock(fd):
                # Nobody holds it: the run that wrote it is gone. Reuse the file in place.
                self.took_over_from = _pid_of(_read_info(fd))
                _write_info(fd, self._info())
                return fd
            info = _read_info(fd)
            pid = _pid_of(info)
            if pid is None or info.get("host") != socket.gethostname() or _alive(pid):
                raise LockedError(self._held_message(info))
        except BaseException:
            os.close(fd)
            raise
        # Held by a descendant of a dead pid: give the path a fresh file; the orphan keeps the
        # unlinked one.
        os.close(fd)
        self.path.unlink()
        fd = self._create()
        self.took_over_from = pid
        return fd

    def _create(self) -> int:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, LOCK_FILE_MODE)
        try:
            if not _try_flock(fd):  # only possible if someone bypasses the folder guard
                raise LockedError(self._held_message({}))
            _write_info(fd, self._info())
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _info(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "pipeline": self.pipeline,
        }

    def _held_message(self, info: dict[str, Any]) -> str:
        pid = info.get("pid", "unknown")
        host = info.get("host")
        where = f"pid {pid}" + (f" on {host}" if host and host != socket.gethostname() else "")
        since = info.get("started_at", "an unknown time")
        return (
            f"pipeline {self.pipeline!r} is already running ({where} since {since}); "
            f"wait for it to finish, or stop it. Lock file: {self.path}"
        )


@contextlib.contextmanager
def _guard(folder: Path) -> Iterator[None]:
    """Serialize lock-file operations of all processes on this folder (briefly)."""
    fd = os.open(folder, os.O_RDONLY | os.O_CLOEXEC)
    try:
        deadline = time.monotonic() + GUARD_TIMEOUT_S
        while not _try_flock(fd):
            if time.monotonic() > deadline:
                raise LockedError(f"timed out waiting for the lock folder {folder}")
            time.sleep(GUARD_POLL_S)
        yield
    finally:
        os.close(fd)  # closing drops the flock


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


def _read_info(fd: int) -> dict[str, Any]:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 4096):
        chunks.append(chunk)
    try:
        info = json.loads(b"".join(chunks).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return info if isinstance(info, dict) else {}


def _write_info(fd: int, info: dict[str, Any]) -> None:
    data = json.dumps(info, ensure_ascii=False).encode("utf-8") + b"\n"
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    written = 0
    while written < len(data):
        written += os.write(fd, data[written:])


def _pid_of(info: dict[str, Any]) -> int | None:
    pid = info.get("pid")
    return pid if isinstance(pid, int) and not isinstance(pid, bool) and pid > 0 else None


def _alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host (it may belong to another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)
