"""Extract and transform of a big file a piece at a time: its rows are never all in memory.

Rows are independent until dedupe, so each piece is selected (`where:`), mapped, normalized
and validated on its own, its source rows handed to `SourceRows` (which writes them to disk
for the report), and only its checked rows kept. Dedupe then runs once over all of them, so
the result is what the whole file read at once gives.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from crmsync.config import Step
from crmsync.extract import Extracted
from crmsync.report.outcomes import IDENTITY
from crmsync.run.artifacts import Transformed
from crmsync.run.source_rows import SourceRows
from crmsync.run.stages.extract import select
from crmsync.run.stages.partitions import Partitions
from crmsync.run.stages.transform import CHECK_ROWS, checked_rows, finish, source_columns
from crmsync.run.stages.unchanged import Unchanged, attach
from crmsync.transform.issues import concat_issues


@dataclass(frozen=True)
class ReadInPieces:
    """What reading a file in pieces leaves: the read without its rows (they went to
    `SourceRows`), every row read, the columns the step reads, the issues of every row, and
    the checked rows (none here when they went to `Partitions`)."""

    extracted: Extracted
    rows_read: pl.DataFrame  # _source, _row of every record, parsed or not
    columns: dict[str, list[str]]
    issues: pl.DataFrame
    checked: list[pl.DataFrame]

    def transformed(self, step: Step) -> Transformed:
        """The checked rows deduped as one, with their outcomes; the checked rows are let go
        of (the deduped ones are their copy: both held would double the step's peak)."""
        normalized = pl.concat(self.checked, how="diagonal_relaxed")  # see `checked_rows`
        self.checked.clear()
        return finish(normalized, self.issues, step, self.columns)


def read_in_pieces(
    step: Step,
    pieces: Iterator[Extracted],
    source: str,
    base_dir: Path,
    kept: SourceRows,
    into: Partitions | None = None,
    unchanged: Unchanged | None = None,
) -> ReadInPieces | None:
    """Every piece selected and checked, its checked rows kept (`into` the partitions when
    given); with `unchanged`, the rows known unchanged are set aside there unchecked. None:
    the file had no piece. Raises what `pieces` raises (NotStreamable: read the file whole
    instead), and KnownRowMet when a row set aside meets another of its key."""
    first: Extracted | None = None
    columns: dict[str, list[str]] = {}
    read: list[pl.DataFrame] = []
    rejects: list[pl.DataFrame] = []
    checked: list[pl.DataFrame] = []
    issues: list[pl.DataFrame] = []
    waiting = _ToCheck()
    footer: tuple[int, str | None] = (0, None)

    def check(frame: pl.DataFrame, made: pl.Series | None) -> None:
        rows, found = checked_rows(frame, step, columns, base_dir)
        if unchanged is not None:
            unchanged.checked(rows, found)
            rows = attach(rows, made)
        if into is None:
            checked.append(rows)
        else:
            into.add(rows)
        issues.append(found)

    for piece in _read_ahead(pieces):
        selected = select(
            piece, limit=None, where=step.where, source=source, filled=step.where_filled
        )
        footer = (piece.footer, piece.footer_first)  # the last piece's is the file's
        if first is None:  # a missing column is a ConfigError before any piece is checked
            first = selected
            columns = source_columns(step, selected, source)
        read += [selected.frame.select(IDENTITY), selected.rejects.select(IDENTITY)]
        rejects.append(selected.rejects)
        frame, made = selected.frame, None
        if unchanged is not None:
            frame, made = unchanged.split(frame, columns)
        kept.add(frame)  # the report never shows a row known unchanged
        if waiting.add(frame, made):
            check(*waiting.take())
    if first is None:
        return None
    if waiting.rows or not issues:  # once at least: what comes after has the columns
        check(*waiting.take())
    if unchanged is not None:
        unchanged.verify()
    extracted = dataclasses.replace(
        first,
        frame=first.frame.clear(),
        rejects=pl.concat(rejects),
        footer=footer[0],
        footer_first=footer[1],
    )
    return ReadInPieces(extracted, pl.concat(read), columns, concat_issues(issues), checked)


# Rows of several pieces are checked together until this many wait (a piece of a first read
# has more on its own, and is checked as it comes).
CHECKED_AT_ONCE = CHECK_ROWS // 2


class _ToCheck:
    """Rows of several pieces checked together: a rerun sets most of each piece aside, and
    each check of what is left costs some 50 ms however few its rows (the plan of every
    expression is made again), nine times in a million-row file."""

    def __init__(self) -> None:
        self.rows = 0
        self._frames: list[pl.DataFrame] = []
        self._made: list[pl.Series | None] = []

    def add(self, frame: pl.DataFrame, made: pl.Series | None) -> bool:
        """Hold a piece's rows to check; True when enough wait to be checked at once."""
        self.rows += frame.height
        self._frames.append(frame)
        self._made.append(made)
        return self.rows >= CHECKED_AT_ONCE

    def take(self) -> tuple[pl.DataFrame, pl.Series | None]:
        """The rows held, as one frame, with their fingerprints (None unless every piece had
        them); held no more."""
        frames, made = self._frames, self._made
        self.rows, self._frames, self._made = 0, [], []
        frame = frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")
        prints = [part for part in made if part is not None]
        if len(prints) < len(made):
            return frame, None
        return frame, prints[0] if len(prints) == 1 else pl.concat(prints)


def _read_ahead(pieces: Iterator[Extracted]) -> Iterator[Extracted]:
    """`pieces`, the next one parsed on a thread while the caller checks this one (polars
    lets go of the interpreter lock, so the two share the cores)."""
    with ThreadPoolExecutor(1, thread_name_prefix="read-ahead") as reader:
        coming = reader.submit(next, pieces, None)
        while (piece := coming.result()) is not None:
            coming = reader.submit(next, pieces, None)
            yield piece
