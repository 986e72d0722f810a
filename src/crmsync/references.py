"""Reference fields (companyId, contactId): source keys -> Rally ids through the id map.

A lookup tries its keys in order (a domain column, an email's domain, a company name, the
source system's id); the first that resolves wins. Keys are normalized here the same way
they are when the id map is filled, so "WWW.Acme.com/about" finds the company loaded as
acme.com. Keys come from the state database (earlier steps and runs) and, for what it does
not know, from Rally's own list, so records that already exist in the tenant still link.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl

from crmsync.config import LookupKey, Step
from crmsync.transform import is_free_mail, normalize_email, registrable_domain

LOOKUP_PREFIX = "_lookup"
SINGULAR = {"companies": "company", "contacts": "contact"}
# Where a key kind lives in the id map: an email's domain is a company domain.
STORED_KIND = {
    "domain": "domain",
    "email": "email",
    "email_domain": "domain",
    "name": "name",
    "source_id": "source_id",
}
# The Rally field each stored kind is listed by, per object.
LISTED_FIELD = {
    ("contacts", "email"): "email",
    ("companies", "domain"): "domain",
    ("companies", "name"): "name",
}


def key_column(field_name: str, index: int) -> str:
    return f"{LOOKUP_PREFIX}:{field_name}:{index}"


# Legal forms dropped from the end of a company name before comparing, so a person's
# "Nordwind Logistik" finds the company "Nordwind Logistik GmbH".
LEGAL_FORMS = (
    "inc",
    "incorporated",
    "corp",
    "corporation",
    "co",
    "company",
    "ltd",
    "limited",
    "llc",
    "llp",
    "lp",
    "plc",
    "gmbh",
    "ag",
    "kg",
    "ug",
    "sa",
    "sas",
    "sarl",
    "sl",
    "srl",
    "spa",
    "bv",
    "nv",
    "oy",
    "ab",
    "as",
    "aps",
    "sp z oo",
    "pty",
    "pte",
    "kk",
    "se",
)
_LEGAL_FORM_TAIL = (
    r"(?:[\s,&]+(?:"
    + "|".join(
        r"\s*".join(r"\.?".join(part) + r"\.?" for part in form.split()) for form in LEGAL_FORMS
    )
    + r"))+\s*$"
)


def name_key(expr: pl.Expr) -> pl.Expr:
    """A company name compared by its letters and digits, legal form dropped:
    "Globex, Inc." = "globex" and "Wisła Software Sp. z o.o." = "wisłasoftware"."""
    lowered = expr.str.to_lowercase().str.strip_chars()
    key = lowered.str.replace(_LEGAL_FORM_TAIL, "").str.replace_all(r"[^\p{L}\p{N}]+", "")
    return pl.when(key.str.len_chars() > 0).then(key)


def normalize_key(values: pl.Series, kind: str) -> pl.Series:
    """The id-map form of one kind of key; null where the value holds no usable key."""
    text = values.cast(pl.String).str.strip_chars()
    frame = pl.DataFrame({"v": text})
    if kind == "email":
        return frame.select(normalize_email(pl.col("v"))).to_series()
    if kind == "name":
        return frame.select(name_key(pl.col("v"))).to_series()
    if kind == "source_id":
        return frame.select(pl.when(pl.col("v") != "").then(pl.col("v"))).to_series()
    domain = registrable_domain(text)
    if kind == "email_domain":
        mailbox = text.str.contains("@").fill_null(False)
        free = pl.DataFrame({"d": domain}).select(is_free_mail(pl.col("d"))).to_series()
        return (
            pl.DataFrame({"d": domain, "ok": mailbox & ~free.fill_null(False)})
            .select(pl.when(pl.col("ok")).then(pl.col("d")))
            .to_series()
        )
    return domain


def raw_column(field_name: str, index: int) -> str:
    return f"{key_column(field_name, index)}:raw"


def key_columns(source: pl.DataFrame, step: Step, columns: Mapping[str, str]) -> list[pl.Series]:
    """Per lookup key, its normalized key and the value as given, to ride along with the
    mapped frame: the key finds the record, the raw value words the error when none does.

    `columns` maps key_column names to the actual source columns (resolved like mappings).
    """
    out = []
    for field_name, lookup in step.lookups.items():
        for index, key in enumerate(lookup.by):
            name = key_column(field_name, index)
            raw = source[columns[name]].cast(pl.String).str.strip_chars()
            out.append(normalize_key(raw, key.kind).alias(name))
            out.append(raw.alias(raw_column(field_name, index)))
    return out


def lookup_sources(step: Step) -> dict[str, str]:
    """key_column name -> the source column it is computed from."""
    return {
        key_column(field_name, index): key.column
        for field_name, lookup in step.lookups.items()
        for index, key in enumerate(lookup.by)
    }


@dataclass
class IdMaps:
    """(object, stored kind) -> {key: Rally id}, filled from the state DB and Rally."""

    maps: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)

    def get(self, obj: str, kind: str) -> dict[str, str]:
        return self.maps.setdefault((obj, STORED_KIND.get(kind, kind)), {})


def needed_keys(frame: pl.DataFrame, step: Step) -> dict[tuple[str, str], set[str]]:
    """(object, stored kind) -> the distinct keys this frame asks for."""
    needed: dict[tuple[str, str], set[str]] = {}
    for field_name, lookup in step.lookups.items():
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


def resolve(
    frame: pl.DataFrame, step: Step, maps: IdMaps
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(frame with reference fields filled, failures, warnings: _source, _row, field, error).

    A row whose keys are all empty keeps a null reference; a row with a key that finds
    nothing fails (or keeps null with on_missing: null), so no request carries a broken id.
    """
    failures = []
    warnings = []
    for field_name, lookup in step.lookups.items():
        resolved = []
        for index, key in enumerate(lookup.by):
            mapping = maps.get(lookup.object, key.kind)
            column = pl.col(key_column(field_name, index))
            resolved.append(column.replace_strict(mapping, default=None, return_dtype=pl.String))
        frame = frame.with_columns(pl.coalesce(resolved).alias(field_name))
        if lookup.on_missing != "null":
            asked = [_asked(field_name, i, key) for i, key in enumerate(lookup.by)]
            described = [
                pl.when(ask).then(
                    pl.format(
                        "{} '{}'", pl.lit(_kind_label(key)), pl.col(raw_column(field_name, i))
                    )
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
    schema = {"_source": pl.String, "_row": pl.Int64, "field": pl.String, "error": pl.String}
    failed = pl.concat(failures) if failures else pl.DataFrame(schema=schema)
    warned = pl.concat(warnings) if warnings else pl.DataFrame(schema=schema)
    return frame, failed, warned
