"""Columns derived from a Redmine contacts frame for mapping into Rally.

Rally has one phone and one mobile where Redmine has a list; Rally has no custom fields, so
each becomes a `cf:<name>` column (map it to a Rally field) and all of them a `name: value`
text block (keep them in notes).
"""

from __future__ import annotations

import json

import polars as pl

CUSTOM_FIELDS = "custom_fields"
CUSTOM_TEXT = "custom_fields_text"
SECOND_PHONE = "second_phone"
OTHER_EMAILS_TEXT = "other_emails_text"
CUSTOM_PREFIX = "cf:"


def _fields(text: str | None) -> dict[str, str]:
    if not text:
        return {}
    try:
        decoded = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(decoded, dict):
        return {}
    return {
        str(name): ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        for name, value in decoded.items()
        if value not in (None, "", [])
    }


def with_derived_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """Add second_phone, other_emails_text, custom_fields_text and a cf:<name> column per
    custom field."""
    out = frame
    if "other_emails" in frame.columns:
        text = pl.format("Other emails: {}", pl.col("other_emails"))
        out = out.with_columns(text.alias(OTHER_EMAILS_TEXT))
    if "other_phones" in frame.columns:
        second = pl.col("other_phones").str.split(", ").list.first()
        out = out.with_columns(second.alias(SECOND_PHONE))
    if CUSTOM_FIELDS not in frame.columns:
        return out
    parsed = {text: _fields(text) for text in frame[CUSTOM_FIELDS].unique().to_list()}
    names = sorted({name for fields in parsed.values() for name in fields})
    texts = {
        text: "\n".join(f"{name}: {value}" for name, value in fields.items()) or None
        for text, fields in parsed.items()
        if text is not None
    }
    column = pl.col(CUSTOM_FIELDS)
    extra = [column.replace_strict(texts, default=None, return_dtype=pl.String).alias(CUSTOM_TEXT)]
    for name in names:
        values = {t: f[name] for t, f in parsed.items() if t is not None and name in f}
        extra.append(
            column.replace_strict(values, default=None, return_dtype=pl.String).alias(
                CUSTOM_PREFIX + name
            )
        )
    return out.with_columns(extra)
