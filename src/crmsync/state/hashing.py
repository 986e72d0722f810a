"""Stable payload hashes for change detection.

A hash persisted in the state database must mean the same thing after any library upgrade, so it
is SHA-256 over a canonical JSON text that this module writes itself, never polars' ``hash()``.

The canonical form (and what the caller may rely on):

- objects: keys sorted by code point, ``None`` values dropped at every level, so
  ``{"a": None} == {}``; no spaces (``{"a":1,"b":"x"}``);
- strings: escaped exactly as ``json.dumps(s, ensure_ascii=False)`` does (``\\"``, ``\\\\``,
  ``\\n``, ``\\r``, ``\\t``, ``\\b``, ``\\f``, other control characters as ``\\u00xx``), everything
  else literal, then UTF-8;
- numbers by value: an int as its digits; a float or Decimal as plain positional digits with no
  trailing zeros and no exponent (``1.0`` and ``Decimal("1.00")`` are ``1``, ``1e-05`` is
  ``0.00001``), a float through its shortest round-trip repr; NaN and infinities as ``NaN``,
  ``Infinity``, ``-Infinity``;
- booleans ``true``/``false``; lists in order (a ``None`` inside a list stays ``null``);
- dates, times and datetimes as JSON strings of their ``isoformat()``; UUIDs as strings; enums by
  value. Anything else (bytes, sets, timedeltas) is a TypeError rather than a guess.

:func:`payload_hashes` produces the same hashes for a whole frame, building the canonical text
with polars expressions and calling hashlib once per row.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import polars as pl
from polars._typing import PolarsDataType  # polars' own alias: a dtype or its class

from crmsync.frame_json import string_text
from crmsync.sliced import select_sliced

HASH_COLUMN = "payload_hash"
HASH_SLICE = 100_000  # rows hashed at a time

# Floats with an integral value below this magnitude are exactly an Int64.
_EXACT_INT_LIMIT = 2.0**53


# --------------------------------------------------------------------------------- one payload


def payload_hash(payload: Mapping[str, Any]) -> str:
    """SHA-256 hex of the canonical JSON of ``payload`` (see the module docstring)."""
    return _sha256(canonical_json(payload))


CODE_SEED = 0x5EED
CODE_MAKER = f"polars {pl.__version__}, seed {CODE_SEED:#x}"  # what a code is valid within


def hash_code(texts: pl.Expr) -> pl.Expr:
    """A 64-bit code of each hash text, to compare stored hashes with fresh ones in memory:
    8 bytes where the text takes 80 (ten million stored hashes: 80 MB, not 800). polars'
    own hash, which may differ between polars versions, never within one: it is only kept
    where CODE_MAKER is kept with it (the state's snapshots), never in the table."""
    return texts.hash(seed=CODE_SEED)


def canonical_json(payload: Mapping[str, Any]) -> str:
    """The exact text :func:`payload_hash` hashes; useful to explain why two hashes differ."""
    return _encode(payload)


def _sha256(text: str) -> str:
    # surrogatepass: a lone surrogate (from a JSON "\ud800" escape) hashes instead of crashing.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _encode(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float | Decimal):
        return _number(value)
    if isinstance(value, Mapping):
        return _encode_object(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(item) for item in value) + "]"
    if isinstance(value, dt.date | dt.time):  # datetime is a date
        return json.dumps(value.isoformat(), ensure_ascii=False)
    if isinstance(value, uuid.UUID):
        return f'"{value}"'
    if isinstance(value, enum.Enum):
        return _encode(value.value)
    raise TypeError(f"cannot hash a value of type {type(value).__name__}: {value!r}")


def _encode_object(value: Mapping[Any, Any]) -> str:
    items = []
    for key in value:
        if not isinstance(key, str):
            raise TypeError(f"payload keys must be strings, not {type(key).__name__}: {key!r}")
    for key in sorted(value):
        item = value[key]
        if item is not None:
            items.append(json.dumps(key, ensure_ascii=False) + ":" + _encode(item))
    return "{" + ",".join(items) + "}"


def _number(value: float | Decimal) -> str:
    """Positional digits without trailing zeros, so equal values give equal text."""
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        value = Decimal(repr(value))
    elif not value.is_finite():
        if value.is_nan():
            return "NaN"
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_zero():
        return "0"
    # format(..., "f") is exact (no context rounding, unlike normalize()).
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


# --------------------------------------------------------------------------------- a whole frame


def payload_hashes(frame: pl.DataFrame, columns: Sequence[str]) -> pl.Series:
    """``payload_hash`` of every row of ``frame`` restricted to ``columns``, nulls dropped.

    Equal, row for row, to ``payload_hash`` of ``frame.select(columns).rows(named=True)`` with
    the None values removed: the JSON text is built column by column with polars expressions
    (strings escaped with one multi-pattern replace, numbers formatted vectorized, rare types
    through Python once per distinct value), then hashed with hashlib once per row.
    """
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        raise KeyError(f"payload columns not in the frame: {missing}")
    if not columns:
        return pl.Series(HASH_COLUMN, [payload_hash({})] * frame.height, dtype=pl.String)
    # pl.nth, not pl.col: a column named "*" or "^a.*$" must not be read as a pattern.
    fragments = [
        _fragment(name, pl.nth(frame.get_column_index(name)), frame.schema[name])
        for name in sorted(set(columns))
    ]
    body = pl.concat_str(fragments, separator=",", ignore_nulls=True)
    text = pl.concat_str([pl.lit("{"), body, pl.lit("}")])
    if sha256_column is not None:
        digest = sha256_column(text).alias(HASH_COLUMN)
        # a slice at a time: the JSON text of a million rows (150 MB) never exists at once
        parts = [
            select_sliced(frame.slice(start, HASH_SLICE), digest)
            for start in range(0, frame.height, HASH_SLICE)
        ]
        return pl.concat(parts) if parts else pl.Series(HASH_COLUMN, [], dtype=pl.String)
    raws = frame.select(text.cast(pl.Binary)).to_series().to_list()
    sha = hashlib.sha256
    return pl.Series(HASH_COLUMN, [sha(raw).hexdigest() for raw in raws], dtype=pl.String)


def _plugin_sha256() -> Callable[[pl.Expr], pl.Expr] | None:
    """SHA-256 of a UTF-8 column in Rust (the polars-hash plugin): the same hex digests as
    hashlib (tested), three times as fast on a million rows. None (hashlib, row by row) when
    the plugin cannot load, e.g. built for another polars."""
    try:
        import polars_hash  # noqa: F401 - registers the `chash` namespace on expressions

        column = pl.col("t").chash.sha2_256()  # type: ignore[attr-defined]
        probe = pl.DataFrame({"t": ["{}"]}).select(column).item()
    except Exception:  # a plugin that fails must not stop a run: hashlib instead
        return None
    if probe != hashlib.sha256(b"{}").hexdigest():
        return None

    def sha256(text: pl.Expr) -> pl.Expr:
        return text.chash.sha2_256()  # type: ignore[attr-defined, no-any-return]

    return sha256


# SHA-256 hex of a text column in polars, or None where the plugin does not load.
sha256_column = _plugin_sha256()


def _fragment(name: str, col: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """``"name":<value>`` for each row, null where the value is null (so it is left out)."""
    value = _value_text(col, dtype)
    return pl.concat_str([pl.lit(json.dumps(name, ensure_ascii=False) + ":"), value])


def _value_text(col: pl.Expr, dtype: PolarsDataType) -> pl.Expr:
    """JSON text of each value of ``col``; null stays null."""
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Categorical | pl.Enum):
        return string_text(col.cast(pl.String))
    if dtype.is_integer():
        return col.cast(pl.String)
    if dtype == pl.Boolean:
        return pl.when(col).then(pl.lit("true")).when(col.not_()).then(pl.lit("false"))
    if dtype.is_float():
        return col.map_batches(_float_text, return_dtype=pl.String)
    if isinstance(dtype, pl.Decimal):
        return _decimal_text(col.cast(pl.String))
    if dtype == pl.Null:
        return pl.lit(None, pl.String)
    if isinstance(dtype, pl.List | pl.Array):
        inner = dtype.inner
        if inner is not None and (inner in (pl.String, pl.Boolean) or inner.is_integer()):
            items = col.cast(pl.List(inner)).list.eval(
                _value_text(pl.element(), inner).fill_null(pl.lit("null"))
            )
            return pl.concat_str([pl.lit("["), items.list.join(","), pl.lit("]")])
    # Temporal, nested and rare types: the Python encoder, once per row (no cheap identity).
    return col.map_elements(_encode_element, return_dtype=pl.String, skip_nulls=True)


def _encode_element(value: Any) -> str:
    # map_elements hands a list value over as a Series.
    return _encode(value.to_list() if isinstance(value, pl.Series) else value)


def _decimal_text(text: pl.Expr) -> pl.Expr:
    # polars writes every decimal with its scale ("1.50", "100.00", "0.00"): drop the zeros.
    trimmed = text.str.replace(r"^(-?[0-9]+\.[0-9]*?)0+$", "${1}").str.strip_suffix(".")
    return pl.when(trimmed == "-0").then(pl.lit("0")).otherwise(trimmed)


def _float_text(values: pl.Series) -> pl.Series:
    """Integral floats vectorized; other finite values via Python once per distinct value."""
    values = values.cast(pl.Float64)
    integral = values.is_finite() & (values.round(0) == values) & (values.abs() < _EXACT_INT_LIMIT)
    others = values.filter(values.is_finite() & ~integral).unique()
    old = others.to_list()
    new = [_number(value) for value in old]
    frame = pl.DataFrame({"v": values})
    text = frame.select(
        pl.when(integral)
        .then(pl.col("v").cast(pl.Int64).cast(pl.String))
        .when(pl.col("v").is_nan())
        .then(pl.lit("NaN"))
        .when(pl.col("v") == math.inf)
        .then(pl.lit("Infinity"))
        .when(pl.col("v") == -math.inf)
        .then(pl.lit("-Infinity"))
        .otherwise(_lookup(pl.col("v"), old, new))
    )
    return text.to_series()


def _lookup(col: pl.Expr, old: list[Any], new: list[str]) -> pl.Expr:
    if not old:
        return pl.lit(None, pl.String)
    return col.replace_strict(old, new, default=None, return_dtype=pl.String)


__all__: list[str] = ["HASH_COLUMN", "canonical_json", "payload_hash", "payload_hashes"]
