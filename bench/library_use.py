"""How often the transform asked the libraries its expressions stand in for.

A second, untimed pass of normalize and validate over the same frame, each library's
per-value cache emptied first, counts for phonenumbers and email-validator: the values the
fields held, how many the vectorized expressions decided, how many were left for the library,
and how many calls those made. A library sees each distinct value once, so the difference
between the rows left and the calls is the per-value cache's hits. (Domains go through
tldextract the same way; a contacts file has none.)
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

import polars as pl

from crmsync.schema import RallyObject
from crmsync.transform import NormalizeOptions, normalize, validate
from crmsync.transform.normalizers import email as email_module
from crmsync.transform.normalizers import phone as phone_module


def library_use(
    frame: pl.DataFrame, obj: RallyObject, options: NormalizeOptions
) -> dict[str, dict[str, int]]:
    """Per library: values, decided (by expressions), left (rows the library must answer: for
    emails, in normalize, then in validate), calls (distinct values it parsed), hits (answers
    its cache gave again)."""
    finishing = sys.modules["crmsync.transform.phone_field"]  # where phones are finished
    validating = sys.modules["crmsync.transform.validate"]
    phones: Counter[str] = Counter()
    emails: Counter[str] = Counter()
    finish, forms = finishing.finish_phones, email_module._library_forms
    errors_of = validating.email_errors

    def counted_finish(values: pl.Series, decided: pl.DataFrame, region: Any) -> Any:
        present = values.drop_nulls().len()
        answered = decided.filter(pl.col("fast").is_not_null() | pl.col("fast_error").is_not_null())
        phones["values"] += present
        phones["decided"] += answered.height
        phones["left"] += present - answered.height
        return finish(values, decided, region)

    def counted_forms(series: pl.Series) -> pl.Series:
        value = pl.col("value")
        unusual = (value.str.len_bytes() != value.str.len_chars()) | value.str.contains(
            "xn--", literal=True
        )
        found = pl.DataFrame({"value": series}).select(
            value.is_not_null().sum().alias("values"),
            (unusual & ~email_module.simple_email(value)).fill_null(False).sum().alias("left"),
        )
        emails["values"] += int(found["values"][0])
        emails["decided"] += int(found["values"][0]) - int(found["left"][0])
        emails["left"] += int(found["left"][0])
        return forms(series)

    def counted_errors(series: pl.Series) -> pl.Series:
        value = pl.col("value")
        undecided = value.is_not_null() & ~email_module.simple_email(value)
        undecided = undecided & email_module.certain_reject(value).is_null()
        found = pl.DataFrame({"value": series}).select(undecided.fill_null(False).sum())
        emails["left"] += int(found.item())
        return errors_of(series)

    phone_module.parse_phone.cache_clear()
    email_module._library.cache_clear()
    finishing.finish_phones, email_module._library_forms = counted_finish, counted_forms
    validating.email_errors = counted_errors
    try:
        normalized, _ = normalize(frame, obj, options)
        validate(normalized, obj)
    finally:
        finishing.finish_phones, email_module._library_forms = finish, forms
        validating.email_errors = errors_of
    for counts, cached in (
        (phones, phone_module.parse_phone.cache_info()),
        (emails, email_module._library.cache_info()),
    ):
        counts["calls"], counts["hits"] = cached.misses, cached.hits
    return {"phonenumbers": dict(phones), "email-validator": dict(emails)}


def describe(use: dict[str, dict[str, int]]) -> list[str]:
    """One line per library, for the benchmark's report."""
    lines = []
    for name, counts in use.items():
        left, calls = counts.get("left", 0), counts.get("calls", 0)
        rate = f"{1 - calls / left:.2%}" if left else "n/a"
        lines.append(
            f"  {name:<16}{counts.get('values', 0):>10,} values, "
            f"{counts.get('decided', 0):,} decided by expressions, {left:,} left for the "
            f"library: {calls:,} calls ({rate} of those rows answered per distinct value; "
            f"{counts.get('hits', 0):,} answers asked again from its cache)"
        )
    return lines
