"""Cells holding several emails or phones: the first is the field's value, the others are kept.

Exports put a contact's addresses in one cell (``a@x.com;b@y.com``, Google's
``a@x.com ::: b@y.com``, one per line); sent whole, the email fails validation and the phone is
unreadable. Here the first becomes the value; a second phone becomes the mobile when that is
empty, and what is left goes to the notes ("Other emails: ..."), with a warning naming the cell,
never a failure. A cell counts as several only when two or more of its parts look like the
thing (an "@", or seven digits): "555-0100, ext. 12" is one phone.

A lookup key's column whose cells hold several keys says so with its ``separator`` (HubSpot's
``Associated Company IDs``, ``1234;5678``): the first is looked up (``first_of``), quietly, as
a lookup by name takes the first of several names.
"""

from __future__ import annotations

import polars as pl

from crmsync.schema import RallyObject
from crmsync.transform.issues import WARNING, concat_issues, empty_issues, issues_where, quoted
from crmsync.transform.normalizers.tags import unwrap_json_array

SEPARATORS = r"\s*(?:\s:::\s|;|,|\||\r?\n)\s*"  # between two values of one cell
ANY_SEPARATOR = r":::|;|,|\||\n"  # a cell without any of these holds one value
OPENS_ARRAY = r"^\s*\["  # a JSON array of values, unwrapped before the split
# either of the above anywhere, in one pattern as fast as a literal search (an anchored
# alternative beside the separators took three times as long)
MAY_HOLD_SEVERAL = r"[;,|\n\[]|:::"
UNIT = "\x1f"  # never in a cell once separators are replaced by it
MIN_PHONE_DIGITS = 7
EMAIL, PHONE, MOBILE, NOTES, DOMAIN = "email", "phone", "mobile", "notes", "domain"
_PARTS, _REST = "__parts__", "__rest__"
_NOTE_LABELS = {EMAIL: "Other emails", PHONE: "Other phones", MOBILE: "Other mobiles"}


def _looks_like(kind: str) -> pl.Expr:
    part = pl.element()
    if kind == EMAIL:
        return part.str.contains("@", literal=True)
    return part.str.count_matches(r"[0-9]") >= MIN_PHONE_DIGITS


def first_of(cell: pl.Expr, separator: str) -> pl.Expr:
    """The first non-blank of the values ``separator`` parts each cell into, trimmed; null
    for a cell of none."""
    parts = cell.cast(pl.String).str.split(separator).list.eval(pl.element().str.strip_chars())
    return parts.list.eval(pl.element().filter(pl.element() != "")).list.first()


def _parts(field: str, kind: str | None = None) -> pl.Expr:
    """The cell's parts that look like the field's kind of value (`kind`: another field's,
    e.g. emails in a domain), in order."""
    split = pl.col(field).cast(pl.String).str.replace_all(SEPARATORS, UNIT).str.split(UNIT)
    return split.list.eval(pl.element().str.strip_chars().filter(_looks_like(kind or field)))


def _append(notes: pl.Expr, text: pl.Expr) -> pl.Expr:
    """`text` added to the notes on a line of its own (null text leaves them as they were)."""
    return (
        pl.when(text.is_null())
        .then(notes)
        .when(notes.is_null())
        .then(text)
        .otherwise(pl.concat_str([notes, text], separator="\n"))
    )


def _unwrapped(frame: pl.DataFrame, field: str) -> pl.DataFrame:
    """A cell holding a JSON array of strings (how a JSON file's list of emails reads:
    `["a@x.com","b@y.com"]`) as its values joined by commas, which the split then reads; only
    looked for when a cell opens with a bracket (a cheap scan)."""
    cell = pl.col(field).cast(pl.String)
    if not frame.select(cell.str.contains(OPENS_ARRAY).any()).item():
        return frame
    return frame.with_columns(unwrap_json_array(cell).alias(field))


def _may_hold_several(frame: pl.DataFrame, field: str) -> bool:
    """Whether any cell has a separator at all: most files have none, and one scan is much
    cheaper than splitting every cell."""
    found = frame.select(pl.col(field).cast(pl.String).str.contains(ANY_SEPARATOR).any())
    return bool(found.item())


def _may_hold_any(frame: pl.DataFrame, fields: list[str]) -> set[str]:
    """The fields with a cell that may hold several values (a separator, or a JSON array),
    found in one parallel scan: most files hold one value a cell throughout, and a scan per
    column and kind in turn took 115 ms of a million rows."""
    present = [field for field in fields if field in frame.columns]
    if not present:
        return set()
    found = frame.select(
        pl.col(field).cast(pl.String).str.contains(MAY_HOLD_SEVERAL).any() for field in present
    ).row(0, named=True)
    return {field for field, seen in found.items() if seen}


def _split_one(
    frame: pl.DataFrame, field: str, obj: RallyObject
) -> tuple[pl.DataFrame, pl.DataFrame]:
    frame = _unwrapped(frame, field)
    if not _may_hold_several(frame, field):
        return frame, empty_issues()
    fields = obj.wire_fields
    has_mobile, has_notes = MOBILE in frame.columns, NOTES in frame.columns
    staged = frame.with_columns(_parts(field).alias(_PARTS))
    count = pl.col(_PARTS).list.len()
    several = count >= 2
    to_mobile = several & pl.lit(field == PHONE and MOBILE in fields)
    if has_mobile:
        to_mobile = to_mobile & pl.col(MOBILE).is_null()
    rest = pl.col(_PARTS).list.slice(pl.when(to_mobile).then(2).otherwise(1)).list.join(", ")
    staged = staged.with_columns(pl.when(several).then(rest).alias(_REST))
    others = "the others are kept in notes" if NOTES in fields else "the others are left out"
    said = (
        pl.when(to_mobile & (count == 2))
        .then(pl.lit("; the second is the mobile"))
        .when(to_mobile)
        .then(pl.lit(f"; the second is the mobile, {others}"))
        .otherwise(pl.lit(f"; {others.replace('others are', 'other is', 1)}"))
    )
    said = pl.when(~to_mobile & (count > 2)).then(pl.lit(f"; {others}")).otherwise(said)
    what = "addresses" if field == EMAIL else "numbers"
    message = pl.format(
        "{} holds {} " + what + ": the first is used{}", quoted(pl.col(field)), count, said
    )
    issues = issues_where(staged, several, field, message, WARNING)
    updates = {field: pl.when(several).then(pl.col(_PARTS).list.first()).otherwise(pl.col(field))}
    if field == PHONE and MOBILE in fields:
        current = pl.col(MOBILE) if has_mobile else pl.lit(None, pl.String)
        second = pl.when(to_mobile).then(pl.col(_PARTS).list.get(1, null_on_oob=True))
        updates[MOBILE] = pl.coalesce(current.cast(pl.String), second)
    if NOTES in fields:
        notes = pl.col(NOTES).cast(pl.String) if has_notes else pl.lit(None, pl.String)
        label = pl.lit(_NOTE_LABELS[field])
        text = pl.when(pl.col(_REST) != "").then(pl.format("{}: {}", label, pl.col(_REST)))
        updates[NOTES] = _append(notes, text)
    result = staged.with_columns(expr.alias(name) for name, expr in updates.items())
    added = [c for c in (MOBILE, NOTES) if c in updates and c not in frame.columns]
    empty = [c for c in added if result[c].null_count() == result.height]
    return result.drop(_PARTS, _REST, *empty), issues


def split_several(frame: pl.DataFrame, obj: RallyObject) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(frame, warnings): each email, mobile and phone cell holding several values reduced to
    its first, the others kept (see the module docstring). A company's domain read from such a
    cell of emails is the first one's, quietly: the contacts' own step warns about the cell.
    Rows and order unchanged."""
    parts = []
    fields = [f for f in (EMAIL, MOBILE, PHONE, DOMAIN) if f in obj.wire_fields]
    maybe = _may_hold_any(frame, fields)
    for field in (EMAIL, MOBILE, PHONE):  # the mobile first: a phone's second may fill it
        if field in maybe:
            frame, issues = _split_one(frame, field, obj)
            parts.append(issues)
    if DOMAIN in maybe and _may_hold_several(frame, DOMAIN):
        emails = frame.select(_parts(DOMAIN, EMAIL).alias(_PARTS))[_PARTS]
        first = pl.when(emails.list.len() >= 2).then(emails.list.first())
        frame = frame.with_columns(pl.coalesce(first, pl.col(DOMAIN)).alias(DOMAIN))
    return frame, concat_issues(parts)
