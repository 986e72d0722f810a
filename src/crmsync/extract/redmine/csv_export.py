"""Redmine CRM's CSV (and XLS-style) contact exports, mapped onto the contacts frame.

The file itself is read by ``crmsync.extract.read_source`` (encoding detection: ISO-8859-1,
UTF-8 with BOM, ...; the `,` or `;` separator; physical line numbers; rejects), then its English
column captions are mapped, vectorized, onto the frame's columns. Both header sets the plugin
has written (its current export and the older XLS-style one) are known; any other column is a
custom field. What the export does not carry stays null: `is_company` in the newer set (only the
XLS-style set has `Is company`), ids of users, `country_code`, and whether a custom field is
multi-valued (its values stay one text).
Times written `YYYY-MM-DD HH:MM[:SS]` become `YYYY-MM-DDTHH:MM:SSZ` (taken as UTC, the export
user's zone); other spellings stay as written.
"""

from __future__ import annotations

import logging
from pathlib import Path

import polars as pl

from crmsync.errors import SourceError
from crmsync.extract import read_source
from crmsync.extract.redmine.frame import CONTACT_COLUMNS, custom_fields_text
from crmsync.extract.redmine.parse import FALSE_WORDS, TRUE_WORDS
from crmsync.extract.result import ROW_COL, SOURCE_COL, Extracted

log = logging.getLogger(__name__)

# Lowercased caption -> what it holds. "list:" columns hold comma-separated values.
CAPTIONS: dict[str, str] = {
    "#": "id",
    "id": "id",
    "is company": "is_company",
    "first name": "first_name",
    "middle name": "middle_name",
    "last name": "last_name",
    "job title": "job_title",
    "company": "company",
    "phone": "list:phone",
    "email": "list:email",
    "address": "address",
    "street 1": "street",
    "street 2": "street2",
    "city": "city",
    "state": "region",
    "zip": "postcode",
    "country": "country",
    "skype": "skype_name",
    "website": "website",
    "birthday": "birthday",
    "tags": "list:tags",
    "responsible": "assigned_to_name",
    "assignee": "assigned_to_name",
    "author": "author_name",
    "background": "background",
    "created": "created_on",
    "updated": "updated_on",
    "full name": "",  # derived from the name parts: nothing of its own
}
LIST_PREFIX = "list:"
LIST_JOIN = ", "
# Enough to tell a Redmine contacts export from any other CSV.
REQUIRED_CAPTIONS = ("first name",)
NOT_AN_EXPORT = (
    "not a Redmine CRM contacts export: expected English column captions such as "
    "'#', 'First name', 'Last name', 'Email' (found: {})"
)
TIME_WITH_SECONDS = r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})$"
TIME_WITHOUT_SECONDS = r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})$"


def read_csv_export(path: str | Path, *, encoding: str | None = None) -> Extracted:
    """The contacts frame of a CSV export; its rejects are the file's unreadable lines."""
    raw = read_source("csv", path, encoding=encoding)
    captions = {name: name.strip().lower() for name in raw.columns}
    found = set(captions.values())
    if not all(caption in found for caption in REQUIRED_CAPTIONS):
        shown = ", ".join(repr(name) for name in raw.columns[:8]) or "no columns"
        raise SourceError(NOT_AN_EXPORT.format(shown), source=str(path))
    by_target: dict[str, str] = {}
    custom: list[str] = []
    for name, caption in captions.items():
        target = CAPTIONS.get(caption)
        if target is None:
            custom.append(name)
        elif target and target not in by_target:
            by_target[target] = name
    frame = raw.frame
    columns = _mapped_columns(by_target)
    mapped = frame.select(*columns, pl.col(SOURCE_COL), pl.col(ROW_COL))
    mapped = mapped.with_columns(
        pl.Series("custom_fields", _custom_fields(frame, custom), dtype=pl.String)
    )
    blank_to_null = [
        pl.when(pl.col(name).str.len_bytes() > 0).then(pl.col(name)).alias(name)
        for name in CONTACT_COLUMNS
    ]
    mapped = mapped.select(*blank_to_null, SOURCE_COL, ROW_COL)
    return Extracted(
        frame=mapped,
        rejects=raw.rejects,
        columns=CONTACT_COLUMNS,
        encoding=raw.encoding,
        delimiter=raw.delimiter,
    )


def _mapped_columns(by_target: dict[str, str]) -> list[pl.Expr]:
    def source(target: str) -> pl.Expr:
        name = by_target.get(target)
        return pl.col(name) if name is not None else pl.lit(None, pl.String)

    phones = _split(source(LIST_PREFIX + "phone"))
    emails = _split(source(LIST_PREFIX + "email"))
    exprs: dict[str, pl.Expr] = {name: source(name) for name in CONTACT_COLUMNS}
    exprs["is_company"] = _flag(source("is_company"))
    exprs["email"] = emails.list.first()
    exprs["other_emails"] = emails.list.slice(1).list.join(LIST_JOIN)
    exprs["phone"] = phones.list.first()
    exprs["other_phones"] = phones.list.slice(1).list.join(LIST_JOIN)
    exprs["tags"] = _split(source(LIST_PREFIX + "tags")).list.join(LIST_JOIN)
    exprs["street"] = _street(by_target)
    exprs["assigned_to_id"] = pl.lit(None, pl.String)
    exprs["country_code"] = pl.lit(None, pl.String)
    for name in ("created_on", "updated_on"):
        exprs[name] = _iso_time(source(name))
    del exprs["custom_fields"]  # filled from the unknown columns afterwards
    return [exprs[name].cast(pl.String).alias(name) for name in CONTACT_COLUMNS if name in exprs]


def _split(expr: pl.Expr) -> pl.Expr:
    """`"a, b,"` -> `["a", "b"]`."""
    return expr.str.split(",").list.eval(
        pl.element().str.strip_chars().filter(pl.element().str.strip_chars().str.len_bytes() > 0)
    )


def _flag(expr: pl.Expr) -> pl.Expr:
    word = expr.str.strip_chars().str.to_lowercase()
    return (
        pl.when(word.is_in(sorted(TRUE_WORDS - {""})))
        .then(pl.lit("true"))
        .when(word.is_in(sorted(FALSE_WORDS - {""})))
        .then(pl.lit("false"))
        .otherwise(pl.lit(None, pl.String))
    )


def _street(by_target: dict[str, str]) -> pl.Expr:
    """Street 1 (and Street 2 after a comma) in the newer set; Address in the older one."""
    if "street" in by_target:
        parts = [pl.col(by_target["street"])]
        if "street2" in by_target:
            parts.append(pl.col(by_target["street2"]))
        return pl.concat_str(parts, separator=LIST_JOIN, ignore_nulls=True)
    if "address" in by_target:
        return pl.col(by_target["address"])
    return pl.lit(None, pl.String)


def _iso_time(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace(TIME_WITH_SECONDS, "${1}T${2}Z").str.replace(
        TIME_WITHOUT_SECONDS, "${1}T${2}:00Z"
    )


def _custom_fields(frame: pl.DataFrame, names: list[str]) -> list[str | None]:
    """One compact JSON object per row from the custom-field columns (blank cells left out)."""
    if not names:
        return [None] * frame.height
    columns = [frame[name].to_list() for name in names]
    texts: list[str | None] = []
    for values in zip(*columns, strict=True):
        present = {
            name.strip(): value
            for name, value in zip(names, values, strict=True)
            if value is not None and value.strip()
        }
        texts.append(custom_fields_text(present))
    return texts
