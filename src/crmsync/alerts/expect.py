"""A finished run measured against the pipeline's `expect:`: which expectations it broke,
with the figures, so a person reading the log or the alert knows what to look at.

Counts are summed over the steps; shares are of the rows read (a run that read nothing has
no share failed). Only a real run that ran to its end is measured: a dry run, an interrupted
run or one stopped after sending has its own exit code and its own message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from crmsync.config.alerts import Expectations, Threshold
from crmsync.report import RunSummary
from crmsync.report.wording import counted


@dataclass(frozen=True)
class Broken:
    """One expectation a run broke: its name, the limit as written, what the run did."""

    expectation: str
    limit: str
    actual: str
    message: str


def _share(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


def _over(threshold: Threshold, part: int, whole: int) -> bool:
    if threshold.percent:
        return _share(part, whole) > threshold.value
    return part > threshold.value


def _rows(part: int, whole: int, what: str) -> str:
    return f"{part} of {counted(whole, 'row')} read {what} ({_share(part, whole):.1f}%)"


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def broken_expectations(
    expect: Expectations, steps: Sequence[RunSummary], duration_s: float
) -> list[Broken]:
    """The expectations the run broke, in the order the file lists them."""
    read = sum(step.rows_read for step in steps)
    failed = sum(step.failed for step in steps)
    unchanged = sum(step.unchanged for step in steps)
    broken = []
    if expect.max_failed is not None and _over(expect.max_failed, failed, read):
        actual = _rows(failed, read, "failed")
        broken.append(
            Broken(
                "max_failed",
                str(expect.max_failed),
                actual,
                f"max_failed {expect.max_failed}: {actual}",
            )
        )
    if expect.min_rows_read is not None and read < expect.min_rows_read:
        actual = f"{counted(read, 'row')} read"
        broken.append(
            Broken(
                "min_rows_read",
                str(expect.min_rows_read),
                actual,
                f"min_rows_read {expect.min_rows_read}: only {actual}",
            )
        )
    if expect.max_duration is not None and duration_s > expect.max_duration:
        limit, actual = _duration(expect.max_duration), _duration(duration_s)
        broken.append(
            Broken("max_duration", limit, actual, f"max_duration {limit}: the run took {actual}")
        )
    if expect.max_unchanged is not None and _over(expect.max_unchanged, unchanged, read):
        actual = _rows(unchanged, read, "unchanged")
        broken.append(
            Broken(
                "max_unchanged",
                str(expect.max_unchanged),
                actual,
                f"max_unchanged {expect.max_unchanged}: {actual} (has the source stopped "
                "changing?)",
            )
        )
    return broken
