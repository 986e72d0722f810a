"""Rows without names, counted the way ``crmsync run`` will fill them, and the choices the
starter file offers for them (commented: the user decides).

A contact's names come from their columns, then the full name split, then, with
``normalize.names_from_email``, the email address of a row with neither name, then each name's
``default``. The counts here run the normalizer's own functions on the file's rows, so what
init promises is what the run does.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from crmsync.starter.model import Mapped, Table
from crmsync.transform.normalizers.fallback_names import names_from_email
from crmsync.transform.normalizers.names import FIRST_NAME, LAST_NAME, split_full_name

DEFAULT_NAME = "(unknown)"
LINES_SHOWN = 5


@dataclass(frozen=True)
class NameGaps:
    """Rows that lack a first or a last name after the columns and the full name."""

    lines: tuple[int, ...]  # the file's line (or record) of each such row
    both_from_email: int  # rows with neither name whose email gives both
    first_from_email: int  # ... whose email gives a first name only
    still_missing: dict[str, int]  # name -> rows still without it after names_from_email
    word: str = "line"  # what `lines` count

    @property
    def rows(self) -> int:
        return len(self.lines)


def name_gaps(table: Table, mapped: pl.DataFrame) -> NameGaps:
    """`mapped` is the mapping's value per field on every row (``counts.mapped_values``)."""
    if "fullName" in mapped.columns:
        mapped = split_full_name(mapped, "fullName")
    empty = pl.repeat(None, mapped.height, dtype=pl.String, eager=True)
    first = mapped[FIRST_NAME] if FIRST_NAME in mapped.columns else empty
    last = mapped[LAST_NAME] if LAST_NAME in mapped.columns else empty
    email = mapped["email"] if "email" in mapped.columns else empty
    frame = pl.DataFrame({"first": first, "last": last, "email": email})
    given, family = names_from_email(pl.col("email"))
    neither = pl.col("first").is_null() & pl.col("last").is_null()
    counted = frame.select(
        lacking=pl.col("first").is_null() | pl.col("last").is_null(),
        both=neither & given.is_not_null() & family.is_not_null(),
        first_only=neither & given.is_not_null() & family.is_null(),
        no_first=pl.col("first").is_null() & ~(neither & given.is_not_null()),
        no_last=pl.col("last").is_null() & ~(neither & family.is_not_null()),
    )
    frame_rows = table.frame if table.frame is not None else pl.DataFrame()
    if "_row" in frame_rows.columns:
        lines = frame_rows["_row"]
    else:  # rows without their file's lines: one header line, then a row per line
        lines = pl.int_range(2, mapped.height + 2, eager=True)
    return NameGaps(
        lines=tuple(int(n) for n in lines.filter(counted["lacking"])),
        both_from_email=int(counted["both"].sum()),
        first_from_email=int(counted["first_only"].sum()),
        still_missing={
            FIRST_NAME: int(counted["no_first"].sum()),
            LAST_NAME: int(counted["no_last"].sum()),
        },
        word=table.row_word,
    )


def line_list(lines: tuple[int, ...], word: str = "line") -> str:
    """'lines 3, 4 and 9' / 'lines 3, 4, 6, 7, 9 and 25 more' ('records ...' for `word`
    record)."""
    shown = ", ".join(str(n) for n in lines[:LINES_SHOWN])
    more = len(lines) - LINES_SHOWN
    if more > 0:
        return f"{word}s {shown} and {more} more"
    if len(lines) == 1:
        return f"{word} {shown}"
    head, _, tail = shown.rpartition(", ")
    return f"{word}s {head} and {tail}"


def email_offer(gaps: NameGaps) -> str:
    """What ``names_from_email: true`` would do, for its commented line; empty when nothing."""
    if not (gaps.both_from_email or gaps.first_from_email):
        return ""
    parts = []
    if gaps.both_from_email:
        parts.append(
            f"{gaps.both_from_email} would get both names from their email address "
            "(anna.berg@x.com: Anna Berg)"
        )
    if gaps.first_from_email:
        would = "" if parts else " would get"
        parts.append(f"{gaps.first_from_email}{would} a first name only (anna@x.com: Anna)")
    return "of the rows without a name, " + ", ".join(parts)


def default_lines(gaps: NameGaps, fields: dict[str, Mapped]) -> list[str]:
    """The mapping lines that give each still-missing name a default, to copy."""
    out = []
    for name in (FIRST_NAME, LAST_NAME):
        if not gaps.still_missing.get(name):
            continue
        item = fields.get(name)
        column = f'column: "{item.columns[0]}", ' if item and len(item.columns) == 1 else ""
        out.append(f'  {name}: {{{column}default: "{DEFAULT_NAME}"}}')
    return out


def names_hint(gaps: NameGaps, rows: int, fields: dict[str, Mapped], why: str) -> str:
    """The paragraph about rows that fail for want of a name, and the ways out."""
    count = f"{gaps.rows} of {rows} rows {'has' if gaps.rows == 1 else 'have'}"
    where = line_list(gaps.lines, gaps.word)
    text = (
        f"{count} no first or last name ({where}): Rally requires both, so "
        "those rows fail (stage validate) and are listed in errors.csv."
    )
    if why:
        text += f" {why[0].upper()}{why[1:]}."
    if "fullName" in fields:
        text += " Their full name is one word, a placeholder or empty."
    offer = email_offer(gaps)
    defaults = default_lines(gaps, fields)
    if offer:
        still = "; a default fills what is still missing:" if defaults else "."
        text += f" To load them, set names_from_email: true (under normalize, below): {offer}"
        text += still
    elif defaults:
        text += " To load them anyway, give the names a default:"
    return "\n".join([text, *defaults])
