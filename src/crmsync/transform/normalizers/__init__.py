"""Pure normalizers, one module per kind of value.

Each is an expression (vectorized, for polars to run on every row) or, where a library has to
see the value (phone numbers, public suffixes, email-validator's verdict), a Series function
that calls the library once per UNIQUE value and remembers the answer.
"""

from __future__ import annotations

from crmsync.transform.normalizers.domain import registrable_domain
from crmsync.transform.normalizers.email import (
    email_errors,
    email_match_key,
    is_free_mail,
    normalize_email,
)
from crmsync.transform.normalizers.names import clean_text, split_full_name
from crmsync.transform.normalizers.phone import normalize_phone
from crmsync.transform.normalizers.tags import normalize_tags
from crmsync.transform.normalizers.values import (
    format_datetime,
    parse_bool,
    parse_datetime,
    parse_number,
)

__all__ = [
    "clean_text",
    "email_errors",
    "email_match_key",
    "format_datetime",
    "is_free_mail",
    "normalize_email",
    "normalize_phone",
    "normalize_tags",
    "parse_bool",
    "parse_datetime",
    "parse_number",
    "registrable_domain",
    "split_full_name",
]
