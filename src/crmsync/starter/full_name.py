"""A full-name column beside first- and last-name columns: kept only where it gives names to
rows that have neither, never where its split would make one up.

``crmsync run`` fills an empty first or last name from the split of the full name. Where a row
has one of them and the full name is that name alone (Redmine's company rows, whose first name
is the company's; a Salesforce lead whose LastName is "Kowalski Plumbing"), the split gives a
name the row never had ("Maier Bau GmbH" + "GmbH"). Such a file keeps its full name unmapped:
those rows then fail on the missing name, which the report says, or take a ``default``.
"""

from __future__ import annotations

import polars as pl

from crmsync.starter.builder import Builder
from crmsync.starter.counts import FAMILY, GIVEN, mapped_values, rows_of
from crmsync.starter.model import Mapped, Table
from crmsync.transform.normalizers.names import split_full_name

NAMES = ("firstName", "lastName")


def _same(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    return a.str.strip_chars().str.to_lowercase() == b.str.strip_chars().str.to_lowercase()


def full_name_effects(table: Table, fields: dict[str, Mapped]) -> tuple[int, int, str]:
    """(rows with neither name that the split names, rows whose one name the split would
    contradict by making up the other, the full name of the first such row)."""
    mapped = mapped_values(table, fields)
    if "fullName" not in mapped.columns or not set(NAMES) <= set(mapped.columns):
        return 0, 0, ""
    split = split_full_name(mapped.select("fullName"), "fullName", first=GIVEN, last=FAMILY)
    first, last = mapped["firstName"], mapped["lastName"]
    given, family = split[GIVEN], split[FAMILY]
    both = given.is_not_null() & family.is_not_null()
    rescued = first.is_null() & last.is_null() & both
    frame = pl.DataFrame({"f": first, "l": last, "g": given, "s": family})
    made_up = frame.select(
        (
            (pl.col("f").is_not_null() & pl.col("l").is_null() & pl.col("s").is_not_null())
            & ~_same(pl.col("f"), pl.col("g")).fill_null(False)
        )
        | (
            (pl.col("f").is_null() & pl.col("l").is_not_null() & pl.col("g").is_not_null())
            & ~_same(pl.col("l"), pl.col("s")).fill_null(False)
        )
    ).to_series()
    example = mapped["fullName"].filter(made_up)
    return int(rescued.sum()), int(made_up.sum()), str(example[0]) if example.len() else ""


def full_name(build: Builder) -> None:
    """Keep a full name beside first and last name only where it names rows without names
    and makes none up."""
    full = build.fields.get("fullName")
    if full is None or not ({"firstName", "lastName"} <= build.fields.keys()):
        return
    rescued, made_up, example = full_name_effects(build.table, build.fields)
    rows = build.table.rows
    if rescued and not made_up:
        note = f"fills first and last name where they are empty: {rows_of(rescued, rows)} only this"
        build.fields["fullName"] = Mapped("fullName", full.value, full.why, (*full.notes, note))
        return
    del build.fields["fullName"]
    why = "a full name; first and last name come from their own columns"
    if made_up:
        why += (
            f" ({rows_of(made_up, rows)} only one of them and a full name its split would make "
            f'the other up from, e.g. "{example}")'
        )
    build.left[full.columns[0]] = why
