"""Issue frames: the raw material of the report, one row per problem with a row's field."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import polars as pl

SOURCE = "_source"
ROW = "_row"
MATCH_KEY = "_match_key"
INTERNAL_PREFIX = "_"
_POSITION = "__position__"

ERROR = "error"  # fails the row
WARNING = "warning"  # the row goes on; the report mentions it

ISSUE_SCHEMA: dict[str, pl.DataType] = {
    SOURCE: pl.String(),
    ROW: pl.Int64(),
    "field": pl.String(),
    "error": pl.String(),
    "severity": pl.String(),
}


def empty_issues() -> pl.DataFrame:
    return pl.DataFrame(schema=ISSUE_SCHEMA)


def is_internal(column: str) -> bool:
    """Columns starting with "_" carry identity or bookkeeping, never payload."""
    return column.startswith(INTERNAL_PREFIX)


def payload_columns(frame: pl.DataFrame) -> list[str]:
    return [column for column in frame.columns if not is_internal(column)]


@dataclass(frozen=True)
class Message:
    """A field's issue: worded by `text` in the rows where `where` holds, and only there (a
    message quoting the cell as the file has it costs several passes a row; few rows fail)."""

    where: pl.Expr
    text: pl.Expr


def issues_from_messages(
    frame: pl.DataFrame, messages: Mapping[str, Message], severity: str = ERROR
) -> pl.DataFrame:
    """One issue per (row, field) whose message's `where` holds (and whose text is not
    null), in frame order.

    Every `where` is found in one pass; each field's failing rows are then taken out (the
    columns its text reads, those rows only) and worded there. So only failing rows are ever
    materialized or worded (an unpivot of every field of a million rows would cost more
    memory than the frame). Taken out, not filtered where they are: polars (2.1) panics
    wording a filter of columns whose chunks do not line up.
    """
    if not messages or frame.height == 0:
        return empty_issues()
    fields = list(messages)
    failing = (
        frame.lazy()
        .select(
            pl.col(ROW).alias(_POSITION),  # a column, so a literal `where` spans every row
            *(
                messages[name].where.fill_null(False).alias(str(at))
                for at, name in enumerate(fields)
            ),
        )
        .collect()
    )
    branches = []
    for index, field in enumerate(fields):
        positions = failing.get_column(str(index)).arg_true()
        if positions.is_empty():
            continue
        text = messages[field].text
        read = [
            name
            for name in dict.fromkeys(text.meta.root_names())
            if name in frame.columns and name not in (SOURCE, ROW)
        ]
        rows = frame.select(pl.col(SOURCE, ROW, *read).gather(positions))
        branches.append(
            rows.select(
                positions.alias(_POSITION),
                pl.col(SOURCE).cast(pl.String),
                pl.col(ROW).cast(pl.Int64),
                pl.lit(field, pl.String).alias("field"),
                text.cast(pl.String).alias("error"),
            ).filter(pl.col("error").is_not_null())
        )
    if not branches:
        return empty_issues()
    return (
        pl.concat(branches, how="vertical")
        .sort(_POSITION, maintain_order=True)  # frame order; fields in the given order
        .select(SOURCE, ROW, "field", "error", pl.lit(severity).alias("severity"))
    )


def issues_where(
    frame: pl.DataFrame, failed: pl.Expr, field: str, message: pl.Expr, severity: str = ERROR
) -> pl.DataFrame:
    """One issue per row of `frame` where `failed` holds, worded by `message` (an expression)
    in those rows only, as `issues_from_messages` words them."""
    return issues_from_messages(frame, {field: Message(failed, message)}, severity)


def concat_issues(parts: Iterable[pl.DataFrame]) -> pl.DataFrame:
    frames = [part.select(list(ISSUE_SCHEMA)) for part in parts if part.height]
    if not frames:
        return empty_issues()
    return pl.concat(frames, how="vertical")


QUOTED_CHARS = 80  # a longer value is shown by its start and its length


def quoted(expr: pl.Expr) -> pl.Expr:
    """A value as a message shows it: in double quotes, so blanks and spaces are visible. A
    long one (a whole paragraph pasted into the lead score) shows its first QUOTED_CHARS
    characters and says how many it has: the report's line stays one a person can read."""
    text = expr.cast(pl.String)
    length = text.str.len_chars()
    return (
        pl.when(length > QUOTED_CHARS)
        .then(pl.format('"{}..." ({} characters)', text.str.slice(0, QUOTED_CHARS), length))
        .otherwise(pl.format('"{}"', text))
    )


def named_rows(frame: pl.DataFrame, names: pl.DataFrame) -> pl.Series:
    """True for each row of `frame` whose (_source, _row) is one of `names`' rows."""
    if names.height == 0:
        return pl.repeat(False, frame.height, dtype=pl.Boolean, eager=True)
    source = names[SOURCE].cast(pl.String)
    if source.n_unique() == 1 and frame.select((pl.col(SOURCE) == source[0]).all()).item():
        # one file (the usual case): its line numbers alone name the rows, no struct to hash
        return frame[ROW].is_in(names[ROW].implode())
    named = names.select(pl.struct(SOURCE, ROW).alias("id")).unique()["id"]
    return frame.select(pl.struct(SOURCE, ROW).is_in(named.implode())).to_series()
