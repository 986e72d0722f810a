"""A range where a number goes: "11-50" employees, "$1M-$5M" revenue, "10,001+".

Company-size and revenue columns of HubSpot, LinkedIn Sales Navigator and data vendors hold
bands, not numbers. No number stands for a band, and failing the row for it lost the whole
company (its name, domain and city with it). So a band in a number field is left out of the
record with a warning naming the cell; any other text that is no number still fails the row.
"""

from __future__ import annotations

import polars as pl

from crmsync.transform.issues import WARNING, concat_issues, empty_issues, issues_where, quoted

_AMOUNT = r"[$€£¥]?\s*\d[\d,.\s]*(?:[kmb]|mm|bn)?"
_BAND = rf"{_AMOUNT}\s*(?:-|–|—|to)\s*{_AMOUNT}"  # 11-50, $1M - $5M, 1,001 to 5,000
_OPEN = rf"{_AMOUNT}\s*\+|(?:over|above)\s+{_AMOUNT}"  # 10,001+, over 500
RANGE = rf"(?i)^\s*(?:{_BAND}|{_OPEN})\s*$"


def bands_left_out(frame: pl.DataFrame, fields: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(frame, warnings): each of `fields` (text columns of number fields) without its bands,
    a warning for each band left out."""
    found = [field for field in fields if frame.schema.get(field) == pl.String]
    if not found:
        return frame, empty_issues()
    bands = {field: pl.col(field).str.contains(RANGE).fill_null(False) for field in found}
    issues = [
        issues_where(
            frame,
            band,
            field,
            pl.format("{} is a range, not a number: left out", quoted(pl.col(field))),
            WARNING,
        )
        for field, band in bands.items()
    ]
    cleared = frame.with_columns(
        pl.when(~band).then(pl.col(field)).alias(field) for field, band in bands.items()
    )
    return cleared, concat_issues(issues)
