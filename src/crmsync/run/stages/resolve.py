"""Resolve: reference fields (companyId, contactId) from source keys to Rally ids.

A lookup tries its keys in order (a domain column, an email's domain, a company name, the
source system's id); the first that resolves wins. The keys are computed from the source row
during the transform (`lookup_columns`), normalized the way the id map stores them, and ride
along with the row; here they are looked up in the run's `IdIndex`.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from crmsync.config import Lookup, LookupKey
from crmsync.report.outcomes import IDENTITY, empty_issues
from crmsync.run.artifacts import Resolved
from crmsync.run.ids import STORED_KIND, IdIndex, Needed
from crmsync.transform.keys import normalize_key
from crmsync.transform.placeholders import no_value_to_null
from crmsync.transform.several import first_of

LOOKUP_PREFIX = "_lookup"
SINGULAR = {"companies": "company", "contacts": "contact"}


def key_column(field_name: str, index: int) -> str:
    """The column holding the normalized key of one lookup key of a field."""
    return f"{LOOKUP_PREFIX}:{field_name}:{index}"


def raw_column(field_name: str, index: int) -> str:
    """The column holding that key as the source gave it, to word the error."""
    return f"{key_column(field_name, index)}:raw"


def lookup_sources(lookups: Mapping[str, Lookup]) -> dict[str, str]:
    """key_column name -> the source column it is computed from."""
    return {
        key_column(field_name, index): key.column
        for field_name, lookup in lookups.items()
        for index, key in enumerate(lookup.by)
    }


def lookup_columns(
    source: pl.DataFrame, lookups: Mapping[str, Lookup], columns: Mapping[str, str]
) -> list[pl.Series]:
    """Per lookup key, its normalized key and the value as given (of a cell of several, the
    first), to ride along with the mapped frame: the key finds the record, the raw value
    words the error when none does (and is what an export writes).

    `columns` maps key_column names to the actual source columns (resolved like mappings).
    """
    out = []
    for field_name, lookup in lookups.items():
        for index, key in enumerate(lookup.by):
            name = key_column(field_name, index)
            cell = no_value_to_null(pl.col(columns[name]))
            if key.separator:  # several keys in a cell: the first is this row's
                cell = first_of(cell, key.separator)
            raw = source.select(cell).to_series().str.strip_chars()
            out.append(normalize_key(raw, key.kind).alias(name))
            out.append(raw.alias(raw_column(field_name, index)))
    return out


def needed_keys(frame: pl.DataFrame, lookups: Mapping[str, Lookup]) -> Needed:
    """(object, stored kind) -> the distinct keys this frame asks for."""
    needed: dict[tuple[str, str], set[str]] = {}
    for field_name, lookup in lookups.items():
        for index, key in enumerate(lookup.by):
            values = frame[key_column(field_name, index)].drop_nulls().unique().to_list()
            needed.setdefault((lookup.object, STORED_KIND[key.kind]), set()).update(values)
    return needed


def _kind_label(key: LookupKey) -> str:
    return {"email_domain": "email domain", "source_id": "source id"}.get(key.kind, key.kind)


def _asked(field_name: str, index: int, key: LookupKey) -> pl.Expr:
    """Did the row give this key? A free-mail address is no company's email domain, so
    skipping it is not a miss; any other value given that finds nothing is."""
    found = pl.col(key_column(field_name, index)).is_not_null()
    if key.kind == "email_domain":
        return found
    raw = pl.col(raw_column(field_name, index))
    return found | (raw.is_not_null() & (raw != ""))


def _said(field_name: str, index: int, key: LookupKey) -> pl.Expr:
    """The key as an error quotes it: as given, but an email's domain as that domain."""
    if key.kind == "email_domain":
        return pl.col(key_column(field_name, index))
    return pl.col(raw_column(field_name, index))


def resolve(frame: pl.DataFrame, lookups: Mapping[str, Lookup], ids: IdIndex) -> Resolved:
    """Reference fields filled in; a row whose keys are all empty keeps a null reference; a
    row with a key that finds nothing fails (or keeps null with on_missing: null, or warns),
    so no request carries a broken id."""
    failures: list[pl.DataFrame] = []
    warnings: list[pl.DataFrame] = []
    for field_name, lookup in lookups.items():
        resolved = []
        for index, key in enumerate(lookup.by):
            mapping = ids.get(lookup.object, key.kind)
            column = pl.col(key_column(field_name, index))
            resolved.append(column.replace_strict(mapping, default=None, return_dtype=pl.String))
        frame = frame.with_columns(pl.coalesce(resolved).alias(field_name))
        if lookup.on_missing == "null":
            continue
        asked = [_asked(field_name, i, key) for i, key in enumerate(lookup.by)]
        described = [
            pl.when(ask).then(
                pl.format("{} '{}'", pl.lit(_kind_label(key)), _said(field_name, i, key))
            )
            for i, (ask, key) in enumerate(zip(asked, lookup.by, strict=True))
        ]
        broken = frame.filter(pl.any_horizontal(asked) & pl.col(field_name).is_null())
        (failures if lookup.on_missing == "fail" else warnings).append(
            broken.select(
                "_source",
                "_row",
                pl.lit(field_name).alias("field"),
                pl.format(
                    "no {} found for {}",
                    pl.lit(SINGULAR[lookup.object]),
                    pl.concat_str(described, separator=" or ", ignore_nulls=True),
                ).alias("error"),
            )
        )
    failed = pl.concat(failures) if failures else empty_issues()
    warned = pl.concat(warnings) if warnings else empty_issues()
    kept = frame.join(failed.select(IDENTITY), on=IDENTITY, how="anti", maintain_order="left")
    return Resolved(frame=kept, failures=failed, warnings=warned)
