"""Counting, before anything runs, the rows a suggested mapping would fail and the cells it
would send as written: what the starter file warns about.

The counts follow what ``crmsync run`` does with the same mapping: the first non-empty of a
field's columns, a full name split into first and last name where those are empty (by the
normalizer's own ``split_full_name``), placeholders such as ``n/a`` read as empty.
"""

from __future__ import annotations

import polars as pl

from crmsync.starter import values as v
from crmsync.starter.model import Mapped, Table
from crmsync.starter.names import name_gaps, names_hint
from crmsync.transform.normalizers.names import split_full_name
from crmsync.transform.placeholders import no_value_to_null

GIVEN, FAMILY = "_given", "_family"
NAME_FIELDS = ("firstName", "lastName")
DELETED_FLAG = "isdeleted"  # Salesforce's IsDeleted, is_deleted in snake_case copies


def mapped_values(table: Table, fields: dict[str, Mapped]) -> pl.DataFrame:
    """One column per field that reads columns: its value on every row (null when empty)."""
    frame = table.frame if table.frame is not None else pl.DataFrame()
    exprs = []
    for name, item in fields.items():
        if isinstance(item.value, dict) and "template" in item.value:
            continue
        columns = [c for c in item.columns if c in frame.columns]
        if columns:
            exprs.append(pl.coalesce([no_value_to_null(pl.col(c)) for c in columns]).alias(name))
    return frame.select(exprs) if exprs else pl.DataFrame({"_": [None] * table.rows})


def rescued_by_full_name(table: Table, fields: dict[str, Mapped]) -> int:
    """Rows missing a first or last name whose full name holds both."""
    mapped = mapped_values(table, fields)
    if "fullName" not in mapped.columns:
        return 0
    split = split_full_name(mapped.select("fullName"), "fullName", first=GIVEN, last=FAMILY)
    lacking = pl.repeat(False, mapped.height, eager=True)
    for name in NAME_FIELDS:
        lacking = lacking | (mapped[name].is_null() if name in mapped.columns else True)
    both = split[GIVEN].is_not_null() & split[FAMILY].is_not_null()
    return int((lacking & both).sum())


def missing_counts(table: Table, fields: dict[str, Mapped], required: list[str]) -> dict[str, int]:
    """Required field -> rows where the mapping leaves it empty (those rows fail validation)."""
    mapped = mapped_values(table, fields)
    if "fullName" in mapped.columns:
        mapped = split_full_name(mapped, "fullName")
    counts: dict[str, int] = {}
    for name in required:
        missing = mapped[name].null_count() if name in mapped.columns else table.rows
        if missing:
            counts[name] = missing
    return counts


def keyless_rows(table: Table, fields: dict[str, Mapped], key: str | None) -> int:
    """Rows the mapping gives no match key (a company without a domain)."""
    if key is None or table.frame is None:
        return 0
    mapped = mapped_values(table, fields)
    return mapped[key].null_count() if key in mapped.columns else table.rows


def field_notes(table: Table, item: Mapped) -> tuple[str, ...]:
    """What a mapped column's values will do when sent: placeholders, odd emails, ::: lists."""
    values = [value for column in item.columns[:1] for value in table.values(column)]
    notes: list[str] = []
    placeholders, found = v.placeholder_count(values)
    if placeholders:
        notes.append(
            f"{cells(placeholders, 'says', 'say')} there is no value ({v.examples(found)}): "
            "read as empty"
        )
    if item.field == "email":
        several, other, example = v.email_problems(values)
        if several:
            notes.append(
                f"{cells(several, 'holds', 'hold')} several addresses (a@x.com;b@y.com): the "
                "first is used, the others are kept in notes, with a warning"
            )
        if other:
            notes.append(
                f"{cells(other, 'holds', 'hold')} no email address (e.g. {example!r}): those "
                "rows fail"
            )
    elif multi := v.multi_value_count(values):
        done = {
            "phone": "the first is used, the second is the mobile, with a warning",
            "mobile": "the first is used, the others go to notes, with a warning",
        }
        notes.append(
            f'{cells(multi, "holds", "hold")} several values (" ::: " between them): '
            + done.get(item.field, "sent as one")
        )
    return tuple(notes)


def cells(count: int, verb_one: str, verb_many: str) -> str:
    """'1 cell says' / '3 cells say'."""
    return f"1 cell {verb_one}" if count == 1 else f"{count} cells {verb_many}"


def rows_of(count: int, rows: int, verb: str = "have") -> str:
    """'1 of 30 rows has' / '3 of 30 rows have'."""
    singular = {"have": "has", "are": "is"}.get(verb, verb)
    return f"{count} of {rows} rows {singular if count == 1 else verb}"


def row_hints(
    table: Table, fields: dict[str, Mapped], required: list[str], why_no_names: str = ""
) -> list[str]:
    """Paragraphs about rows that will fail for an empty required field, with what helps."""
    if table.frame is None or not table.rows:
        return []
    considered = [f for f in required if f in fields or (f in NAME_FIELDS and "fullName" in fields)]
    counts = missing_counts(table, fields, considered)
    rows = table.rows
    hints = []
    if any(counts.get(f, 0) for f in NAME_FIELDS):
        gaps = name_gaps(table, mapped_values(table, fields))
        hints.append(names_hint(gaps, rows, fields, why_no_names))
    for name, missing in counts.items():
        if name in NAME_FIELDS:
            continue
        what = "an email (it is a contact's key)" if name == "email" else f"a {name}"
        hints.append(
            f"{rows_of(missing, rows)} no {name}: Rally requires {what}, so those rows fail "
            "(stage validate) and are listed in errors.csv."
        )
    hints += opt_out_hints(table)
    for column in table.columns:
        if column.casefold().replace("_", "") == DELETED_FLAG:
            deleted = sum(1 for value in table.values(column) if value.casefold() == "true")
            if deleted:
                hints.append(
                    f'{rows_of(deleted, rows, "are")} deleted in the source ("{column}" is true). '
                    f'To leave them out:\n  where: {{{column}: "false"}}'
                )
    return hints


# Mailchimp's audience export is one file per status: the unsubscribed and the cleaned
# (bounced) ones carry the time they left, and Rally's create request has no field for it.
OPT_OUTS = (
    (
        ("UNSUB_TIME", "UNSUB_REASON"),
        "unsubscribed from the Mailchimp audience (an unsubscribed members export: {set})",
        "mailchimp-unsubscribed",
    ),
    (
        ("CLEAN_TIME",),
        "were cleaned from the Mailchimp audience, their address bounced (a cleaned members "
        "export: {set})",
        "mailchimp-bounced",
    ),
)


def opt_out_hints(table: Table) -> list[str]:
    """What a file of people who left a mailing list says: Rally would take them for ordinary
    contacts, so they are marked by a tag, or not imported."""
    hints = []
    for columns, what, tag in OPT_OUTS:
        column = next((c for c in table.columns if c in columns), None)
        if column is None:
            continue
        rows = len(table.values(column))
        said = f"{column} is set on {rows} of {table.rows} rows" if rows else f"{column}"
        hints.append(
            f"The people in this file {what.format(set=said)}. Rally's create request has no "
            "unsubscribe field: loaded as they are, they become ordinary contacts. Mark them "
            "with a tag (it replaces any other tags mapped), or do not import this file:\n"
            f"  tags: {{constant: {tag}}}"
        )
    return hints
