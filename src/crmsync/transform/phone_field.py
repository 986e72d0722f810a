"""A phone field of a frame finished: its numbers by the library where the vectorized plan
left them undecided (`phone_plan`, `finish_phones`), and an issue for each it cannot read.
"""

from __future__ import annotations

import polars as pl

from crmsync.transform.issues import ERROR, WARNING, issues_where, quoted
from crmsync.transform.normalizers.phone import finish_phones

_NEW = "__phone__"

# A number a spreadsheet showed in scientific notation and saved so ("1.50356E+10"): its
# last digits are gone, so no phone is left to keep.
SPREADSHEET_NUMBER = r"^[0-9]([.,][0-9]+)?[eE]\+?[0-9]+$"


def phone_field(
    frame: pl.DataFrame,
    field: str,
    decided: pl.DataFrame,
    default_region: str | None,
    *,
    keep: bool,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A phone field finished by the library; an unreadable number is kept as given with a
    warning (`keep`), or fails its row. One a spreadsheet rounded to scientific
    notation is never kept: its digits are lost, and sent as given it would put
    "1.50356E+10" into the record."""
    values, errors = finish_phones(frame[field], decided, default_region)
    rounded_rows = _rounded(frame[field], errors)
    staged = frame.with_columns(values.alias(_NEW), errors.alias(_NEW + "error"), rounded_rows)
    error, rounded = pl.col(_NEW + "error"), pl.col(_NEW + "rounded")
    given = quoted(pl.col(field))
    message = (
        pl.when(rounded)
        .then(
            pl.format(
                "{} is a number a spreadsheet rounded (scientific notation): its digits are "
                "lost{}; export the column as text",
                given,
                pl.lit(", so it is left out" if keep else ""),
            )
        )
        .otherwise(
            pl.format(
                "{} is not a phone number we can read ({}){}",
                given,
                error,
                pl.lit("; kept as given" if keep else ""),
            )
        )
    )
    severity = WARNING if keep else ERROR
    issues = issues_where(staged, error.is_not_null(), field, message, severity)
    if keep:  # a column copied only where a rounded number is left out
        kept = pl.when(~rounded).then(pl.col(_NEW)) if rounded_rows.any() else pl.col(_NEW)
    else:
        kept = pl.when(error.is_null()).then(pl.col(_NEW))
    return staged.with_columns(kept.alias(field)).drop(
        _NEW, _NEW + "error", _NEW + "rounded"
    ), issues


def _rounded(given: pl.Series, errors: pl.Series) -> pl.Series:
    """Whether each unreadable phone is a number a spreadsheet rounded (SPREADSHEET_NUMBER):
    looked for in the few unreadable ones only, not in the column."""
    rounded = pl.repeat(False, given.len(), dtype=pl.Boolean, eager=True).alias(_NEW + "rounded")
    unreadable = errors.is_not_null().arg_true()
    if unreadable.len():
        hits = given.gather(unreadable).str.contains(SPREADSHEET_NUMBER).fill_null(False)
        rounded.scatter(unreadable.filter(hits), True)
    return rounded
