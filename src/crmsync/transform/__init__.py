"""Transform stage: pure functions from frame to frame (normalize, validate, dedupe).

Frames carry Rally wire names as columns plus `_source`/`_row` identity columns that ride along
untouched. Problems are returned as issue frames (`ISSUE_SCHEMA`), never raised.
"""

from __future__ import annotations

from crmsync.transform.dedupe import DedupeResult, dedupe
from crmsync.transform.issues import ISSUE_SCHEMA, MATCH_KEY, empty_issues
from crmsync.transform.normalize import NormalizeOptions, normalize
from crmsync.transform.normalizers import (
    clean_text,
    email_errors,
    email_match_key,
    format_datetime,
    is_free_mail,
    normalize_email,
    normalize_phone,
    normalize_tags,
    parse_bool,
    parse_datetime,
    parse_number,
    registrable_domain,
    split_full_name,
)
from crmsync.transform.spec import FieldSpec, Kind, UnsupportedRule, field_specs
from crmsync.transform.validate import validate

__all__ = [
    "ISSUE_SCHEMA",
    "MATCH_KEY",
    "DedupeResult",
    "FieldSpec",
    "Kind",
    "NormalizeOptions",
    "UnsupportedRule",
    "clean_text",
    "dedupe",
    "email_errors",
    "email_match_key",
    "empty_issues",
    "field_specs",
    "format_datetime",
    "is_free_mail",
    "normalize",
    "normalize_email",
    "normalize_phone",
    "normalize_tags",
    "parse_bool",
    "parse_datetime",
    "parse_number",
    "registrable_domain",
    "split_full_name",
    "validate",
]
