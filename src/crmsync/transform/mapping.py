"""Mapping: source columns -> Rally wire fields, as one polars projection.

Headers are matched ignoring case, spaces and punctuation, so "E-mail Address",
"email address" and "EmailAddress" name the same column.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence

import polars as pl

from crmsync.config import FieldMapping
from crmsync.errors import ConfigError

IDENTITY_COLUMNS = ("_source", "_row")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def header_key(name: str) -> str:
    """The form two headers are compared in: lowercase letters and digits only."""
    return _NOT_ALNUM.sub("", name.casefold())


def resolve_columns(
    mapping: Mapping[str, FieldMapping], columns: Sequence[str], *, source: str
) -> dict[str, str]:
    """Rally field -> the actual source column each mapped column names.

    A mapped column the file does not have is a ConfigError before anything is sent:
    loading a file whose email column was renamed would fail every row.
    """
    exact = set(columns)
    by_key: dict[str, str] = {}
    for column in columns:
        by_key.setdefault(header_key(column), column)
    resolved: dict[str, str] = {}
    problems: list[str] = []
    for field, spec in mapping.items():
        if spec.column is None:
            continue
        if spec.column in exact:
            resolved[field] = spec.column
        elif header_key(spec.column) in by_key:
            resolved[field] = by_key[header_key(spec.column)]
        else:
            close = difflib.get_close_matches(spec.column, list(columns), n=1, cutoff=0.5)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"mapping.{field}: column {spec.column!r} is not in the file{hint}")
    if problems:
        available = ", ".join(repr(c) for c in columns) or "(none)"
        problems.append(f"columns in the file: {available}")
        raise ConfigError("\n  ".join(problems), file=source)
    return resolved


def _literal(value: object) -> pl.Expr:
    return pl.lit(None if value is None else str(value), dtype=pl.String)


def apply_mapping(
    frame: pl.DataFrame, mapping: Mapping[str, FieldMapping], columns: Mapping[str, str]
) -> pl.DataFrame:
    """A frame of Rally wire fields (all String) plus the identity columns.

    `columns` comes from `resolve_columns`. Values stay strings here: typing them is the
    normalizer's job, which can then report a bad value against its field.
    """
    exprs: list[pl.Expr] = [pl.col(name) for name in IDENTITY_COLUMNS]
    for field, spec in mapping.items():
        if spec.constant is not None:
            expr = _literal(spec.constant)
        else:
            expr = pl.col(columns[field]).cast(pl.String) if field in columns else _literal(None)
            if spec.default is not None:
                blank = expr.is_null() | (expr.str.strip_chars() == "")
                expr = pl.when(blank).then(_literal(spec.default)).otherwise(expr)
        exprs.append(expr.alias(field))
    return frame.select(exprs)
