"""When a state file last passed its page-by-page damage check, so an unchanged file is not
read whole again at every open.

The check (SQLite's quick_check) reads every page: 0.8 s of a core for the state of a million
records with the file in the page cache, 2.9 s from disk, and 44 s for the 11 GB state of ten
million, every nightly run. It finds a file damaged by something other than SQLite's own
writes: a bad disk, a copy cut short, a hand edit. A file that passed it and that only
crmsync has written since, closing it cleanly each time, needs no new check.

So when crmsync closes a state file it has checked (or found still checked), it writes a mark
beside it (`<file>.checked`): the file's size, inode and modification time, and when the last
check passed. The next open skips the check when the file still matches the mark, no write-ahead
log or journal is left over (a process killed mid-write leaves one), and the last check is
younger than RECHECK_AFTER. Anything else (no mark, a file changed or replaced since, a run
killed, a week gone by) checks every page again, as before.

File times are coarse (a few milliseconds on Linux, two seconds on FAT), so a change made
right after the close could keep the time the mark holds. The close therefore sets the file's
modification time back to a whole second in the past before it writes the mark: any later
write stamps a later time.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from crmsync.atomic import replacing

MARK_SUFFIX = ".checked"
RECHECK_AFTER_S = 7 * 24 * 3600  # a file unchanged but for crmsync's writes: checked weekly
LEFT_OVER = ("-wal", "-journal")  # what a connection not closed cleanly leaves beside the file
_NS = 1_000_000_000


@dataclass(frozen=True)
class CheckedMark:
    """The state file as crmsync closed it, and when it last passed the check (epoch s)."""

    size: int
    inode: int
    mtime_ns: int
    checked_at: float


def mark_path(path: Path) -> Path:
    return path.with_name(path.name + MARK_SUFFIX)


def read_mark(path: Path) -> CheckedMark | None:
    """The mark beside `path`, or None when there is none or it cannot be read as one."""
    try:
        data = json.loads(mark_path(path).read_text(encoding="utf-8"))
        return CheckedMark(
            size=int(data["size"]),
            inode=int(data["inode"]),
            mtime_ns=int(data["mtime_ns"]),
            checked_at=float(data["checked_at"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def still_checked(path: Path, now: float | None = None) -> float | None:
    """When `path` last passed the check, if it is unchanged since crmsync closed it and that
    check is recent enough to stand; None when every page must be checked."""
    mark = read_mark(path)
    if mark is None:
        return None
    now = time.time() if now is None else now
    if not 0 <= now - mark.checked_at < RECHECK_AFTER_S:
        return None
    for suffix in LEFT_OVER:
        with contextlib.suppress(FileNotFoundError):
            if os.stat(path.with_name(path.name + suffix)).st_size > 0:
                return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    same = (stat.st_size, stat.st_ino, stat.st_mtime_ns) == (mark.size, mark.inode, mark.mtime_ns)
    return mark.checked_at if same else None


def write_mark(path: Path, checked_at: float) -> None:
    """Mark `path` (closed by this process) as checked at `checked_at`; see the module
    docstring for why its modification time is set back first. A mark that cannot be
    written is no error: the next open checks every page."""
    try:
        stat = os.stat(path)
        stamp = (time.time_ns() // _NS - 1) * _NS
        if stamp < stat.st_mtime_ns:  # never forward: a clock set back keeps the file's time
            os.utime(path, ns=(stat.st_atime_ns, stamp))
        stat = os.stat(path)
        mark = CheckedMark(stat.st_size, stat.st_ino, stat.st_mtime_ns, checked_at)
        with replacing(mark_path(path)) as out:
            out.write(json.dumps(asdict(mark)).encode("utf-8"))
    except OSError:
        forget_mark(path)


def forget_mark(path: Path) -> None:
    """No mark beside `path`: its next open checks every page."""
    with contextlib.suppress(OSError):
        mark_path(path).unlink(missing_ok=True)
