"""Mapping: source columns -> Rally wire fields, as one polars projection.

Headers are matched ignoring case, spaces and punctuation, so "E-mail Address",
"email address" and "EmailAddress" name the same column.
"""

from __future__ import annotations

import csv
import difflib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import polars as pl

from crmsync.config import TEMPLATE_FIELD, FieldMapping
from crmsync.errors import ConfigError

IDENTITY_COLUMNS = ("_source", "_row")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def header_key(name: str) -> str:
    """The form two headers are compared in: lowercase letters and digits only."""
    return _NOT_ALNUM.sub("", name.casefold())


def resolve_columns(
    mapping: Mapping[str, FieldMapping], columns: Sequence[str], *, source: str
) -> dict[str, list[str]]:
    """Rally field -> the actual source columns it reads, in order.

    A mapped column the file does not have is a ConfigError before anything is sent:
    loading a file whose email column was renamed would fail every row.
    """
    exact = set(columns)
    by_key: dict[str, str] = {}
    for column in columns:
        by_key.setdefault(header_key(column), column)
    resolved: dict[str, list[str]] = {}
    problems: list[str] = []
    for field, spec in mapping.items():
        found = []
        for wanted in spec.columns:
            if wanted in exact:
                found.append(wanted)
            elif header_key(wanted) in by_key:
                found.append(by_key[header_key(wanted)])
            else:
                close = difflib.get_close_matches(wanted, list(columns), n=1, cutoff=0.5)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                problems.append(f"mapping.{field}: column {wanted!r} is not in the file{hint}")
        if found:
            resolved[field] = found
    if problems:
        available = ", ".join(repr(c) for c in columns) or "(none)"
        problems.append(f"columns in the file: {available}")
        raise ConfigError("\n  ".join(problems), file=source)
    return resolved


def load_values_file(path: Path) -> dict[str, str]:
    """A two-column CSV (source value, Rally value) with a header row, as a dict."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except OSError as exc:
        raise ConfigError(f"cannot read values file: {exc.strerror}", file=str(path)) from None
    values = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < 2 or not row[0].strip():
            raise ConfigError(
                f"line {line}: expected two columns: source value, Rally value", file=str(path)
            )
        values[row[0].strip()] = row[1].strip()
    return values


def _literal(value: object) -> pl.Expr:
    return pl.lit(None if value is None else str(value), dtype=pl.String)


def _blank_to_null(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr.is_null() | (expr.str.strip_chars() == "")).then(None).otherwise(expr)


def _template(template: str, actual: Sequence[str]) -> pl.Expr:
    """Placeholders filled from their columns; an empty one drops out with the spaces and
    separators around it collapsing, so "{first} {middle}" with no middle is "Ann"."""
    names = iter(actual)
    pieces: list[pl.Expr] = []
    position = 0
    for match in TEMPLATE_FIELD.finditer(template):
        pieces.append(pl.lit(template[position : match.start()]))
        pieces.append(pl.col(next(names)).cast(pl.String).fill_null(""))
        position = match.end()
    pieces.append(pl.lit(template[position:]))
    text = pl.concat_str(pieces)
    text = text.str.replace_all(r"[ \t]{2,}", " ").str.replace_all(r"\n{3,}", "\n\n")
    return _blank_to_null(text.str.strip_chars(" \t\n,;-"))


def _translate(expr: pl.Expr, values: Mapping[str, str], *, keep: bool) -> pl.Expr:
    folded = {key.casefold(): value for key, value in values.items()}
    key = expr.str.strip_chars().str.to_lowercase()
    fallback = expr if keep else pl.lit(None, dtype=pl.String)
    return key.replace_strict(folded, default=fallback, return_dtype=pl.String)


def apply_mapping(
    frame: pl.DataFrame,
    mapping: Mapping[str, FieldMapping],
    columns: Mapping[str, Sequence[str]],
    translations: Mapping[str, Mapping[str, str]] | None = None,
) -> pl.DataFrame:
    """A frame of Rally wire fields (all String) plus the identity columns.

    `columns` comes from `resolve_columns`; `translations` holds each field's `values`
    merged with its `values_file`. Values stay strings here: typing them is the normalizer's
    job, which can then report a bad value against its field.
    """
    translations = translations or {}
    exprs: list[pl.Expr] = [pl.col(name) for name in IDENTITY_COLUMNS]
    for field, spec in mapping.items():
        actual = columns.get(field, [])
        if spec.constant is not None:
            expr = _literal(spec.constant)
        elif spec.template is not None:
            expr = _template(spec.template, actual)
        elif actual:
            expr = pl.coalesce([_blank_to_null(pl.col(c).cast(pl.String)) for c in actual])
        else:
            expr = _literal(None)
        if field in translations:
            expr = _translate(expr, translations[field], keep=spec.unmatched == "keep")
        if spec.default is not None:
            expr = pl.coalesce(_blank_to_null(expr), _literal(spec.default))
        exprs.append(expr.alias(field))
    return frame.select(exprs)


def translations_for(
    mapping: Mapping[str, FieldMapping], base_dir: Path
) -> dict[str, dict[str, str]]:
    """Each field's `values`, with its `values_file` (relative to the pipeline) read in."""
    out: dict[str, dict[str, str]] = {}
    for field, spec in mapping.items():
        values: dict[str, str] = {}
        if spec.values_file is not None:
            path = (
                spec.values_file if spec.values_file.is_absolute() else base_dir / spec.values_file
            )
            values.update(load_values_file(path))
        values.update(spec.values or {})
        if values:
            out[field] = values
    return out
