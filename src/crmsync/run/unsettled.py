"""What a row without an outcome is said to be when a step ends short: in doubt when its
write had left (or may have), and not sent when it had not, so a reader after Ctrl-C knows
which rows Rally may hold from this run."""

from __future__ import annotations

from dataclasses import dataclass

from crmsync.run.artifacts import Delivered

INTERRUPTED_ERROR = (
    "interrupted before its outcome was known: it may or may not be in Rally; "
    "run again to settle it (records Rally acknowledged are not sent twice)"
)
NOT_SENT_ERROR = "interrupted before it was sent: this run wrote nothing of it; run again"
EXPORT_INTERRUPTED_ERROR = "interrupted before the export's file was written: run again"
STOPPED_ERROR = (
    "the load stopped before this record's outcome was known ({reason}): it may or may not "
    "be in Rally; run again once that is fixed (records Rally acknowledged are not sent twice)"
)
STOPPED_UNSENT_ERROR = (
    "the load stopped before it was sent ({reason}): this run wrote nothing of it; run again "
    "once that is fixed"
)


@dataclass(frozen=True)
class Unsettled:
    """The errors of rows without an outcome: `in_doubt` for the rows in `rows`, `unsent`
    for the others (None: `in_doubt` for every one)."""

    in_doubt: str
    unsent: str | None = None
    rows: frozenset[int] = frozenset()


def unsettled(delivered: Delivered, *, export: bool) -> Unsettled:
    """What the rows a delivery left without an outcome are said to be."""
    rows = frozenset(delivered.in_doubt)
    if export:
        return Unsettled(EXPORT_INTERRUPTED_ERROR)
    if delivered.stopped:
        reason = delivered.stopped
        return Unsettled(
            STOPPED_ERROR.format(reason=reason), STOPPED_UNSENT_ERROR.format(reason=reason), rows
        )
    if delivered.interrupted:
        return Unsettled(INTERRUPTED_ERROR, NOT_SENT_ERROR, rows)
    return Unsettled(INTERRUPTED_ERROR)
