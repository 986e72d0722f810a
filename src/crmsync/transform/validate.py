"""Validation of a normalized frame against a Rally request model, vectorized.

Every rule comes from `obj.create` itself (see `crmsync.transform.spec`): required fields,
NonBlank and EmailSyntax markers, GUID patterns, ge/le bounds, Literal choices, the activity
type-only fields, and extra="forbid". The contract, tested on random rows: a row gets no issue
here iff `obj.create.model_validate(payload)` accepts it, where the payload is the row's
non-null payload columns (a null is "not sent", so a field with a default takes it).

Expects `normalize`'s output. A typed field still holding text (validate called on a raw
frame) is read with the same normalizers, and text they cannot read is an issue.
"""

from __future__ import annotations

import polars as pl

from crmsync.schema import RallyObject
from crmsync.schema.fields import GUID_PATTERN
from crmsync.transform.issues import (
    Message,
    empty_issues,
    is_internal,
    issues_from_messages,
    quoted,
)
from crmsync.transform.normalizers import (
    email_errors,
    parse_bool,
    parse_datetime,
    parse_number,
)
from crmsync.transform.spec import FieldSpec, Kind, TypeOnlyRule, field_specs, type_only_rules

_EMAIL_ERROR = "__email_error__"
_GIVEN = "__given__"  # a field's value before normalization, to quote the cell
_GUID_EXAMPLE = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


def _typed(spec: FieldSpec, dtype: pl.DataType) -> tuple[pl.Expr, str | None]:
    """The column as the model's type, and what to say when text could not be read as it."""
    column = pl.col(spec.wire)
    text = dtype in (pl.String, pl.Null)
    if spec.kind is Kind.INTEGER and not dtype.is_integer():
        if dtype.is_float():
            whole = column.is_finite() & (column == column.floor())
            return pl.when(whole).then(column.cast(pl.Int64, strict=False)), "is not a whole number"
        return parse_number(column.cast(pl.String), integer=True), "is not a whole number"
    if spec.kind is Kind.DECIMAL:
        if dtype.is_float():
            return pl.when(column.is_finite()).then(column), "is not a number"
        if not dtype.is_numeric():
            return parse_number(column.cast(pl.String), integer=False), "is not a number"
    if spec.kind is Kind.BOOLEAN and dtype != pl.Boolean:
        return parse_bool(column.cast(pl.String)), "is not yes or no"
    if spec.kind is Kind.DATETIME:
        if text:
            return parse_datetime(column.cast(pl.String)), "is not a date or time"
        return column, None
    if spec.kind is Kind.TEXT_LIST and not isinstance(dtype, pl.List):
        return column.cast(pl.String).str.split(","), None
    if spec.kind is Kind.TEXT and not text:
        return column.cast(pl.String), None
    return column, None


def missing_message(field: str) -> str:
    """The words of a required field left empty (what `is_missing` recognizes)."""
    return f"{field} is missing (required)"


def is_missing(field: pl.Expr, error: pl.Expr) -> pl.Expr:
    """Whether an issue (its field and error) is a required field left empty."""
    return error == pl.format("{} is missing (required)", field)


def shown(value: pl.Expr, given: pl.Expr | None) -> pl.Expr:
    """A value as a message quotes it: the cell as the file has it, and what it was read as
    when that differs beyond case and spacing ("Ann@X.com " is just "Ann@X.com", never the
    "ann@x.com" it was read as: the user looks for the cell as written)."""
    if given is None:
        return quoted(value)
    text = value.cast(pl.String)

    def folded(expr: pl.Expr) -> pl.Expr:
        return expr.str.replace_all(r"\s+", " ").str.strip_chars().str.to_lowercase()

    cell = quoted(given.str.strip_chars())
    same = (folded(given) == folded(text)).fill_null(False)
    return (
        pl.when(given.is_null())
        .then(quoted(value))
        .when(same)
        .then(cell)
        .otherwise(pl.format("{} (read as {})", cell, text))
    )


def _field_message(
    spec: FieldSpec,
    dtype: pl.DataType | None,
    type_rules: tuple[TypeOnlyRule, ...],
    frame_columns: set[str],
) -> Message | None:
    """The first rule `spec.wire` breaks in each row, worded (in the rows that break one)."""
    if dtype is None:  # the column is absent: every row leaves the field out
        if spec.required:
            return Message(pl.lit(True), pl.lit(missing_message(spec.wire)))
        return None
    raw = pl.col(spec.wire)
    given = _GIVEN + spec.wire
    said = shown(raw, pl.col(given) if given in frame_columns else None)
    value, unreadable = _typed(spec, dtype)
    present = raw.is_not_null()
    checks: list[tuple[pl.Expr, pl.Expr]] = []
    if spec.required:
        checks.append((~present, pl.lit(missing_message(spec.wire))))
    if unreadable is not None:
        checks.append((present & value.is_null(), pl.format("{} " + unreadable, said)))
    if spec.non_blank:
        checks.append((present & (value.str.strip_chars() == ""), pl.lit("must not be blank")))
    if spec.email:
        error = pl.col(_EMAIL_ERROR + spec.wire)
        invalid = pl.format("{} is not a valid email address: {}", said, error)
        checks.append((error.is_not_null(), invalid))
    if spec.pattern is not None:
        wording = (
            f"is not a Rally id (a GUID like {_GUID_EXAMPLE})"
            if spec.pattern == GUID_PATTERN
            else f"does not match the pattern {spec.pattern}"
        )
        checks.append((~value.str.contains(spec.pattern), pl.format("{} " + wording, said)))
    if spec.min_length is not None:
        too_short = value.str.len_chars() < spec.min_length
        checks.append((too_short, pl.lit(f"shorter than {spec.min_length} characters")))
    if spec.max_length is not None:
        too_long = value.str.len_chars() > spec.max_length
        checks.append((too_long, pl.lit(f"longer than {spec.max_length} characters")))
    if spec.choices is not None:
        allowed = ", ".join(spec.choices)
        checks.append((~value.is_in(spec.choices), pl.format("{} is not one of " + allowed, said)))
    bounds: tuple[tuple[float | None, pl.Expr, str], ...] = (
        (spec.ge, value < spec.ge if spec.ge is not None else pl.lit(False), "below the minimum"),
        (spec.gt, value <= spec.gt if spec.gt is not None else pl.lit(False), "not above"),
        (spec.le, value > spec.le if spec.le is not None else pl.lit(False), "above the maximum"),
        (spec.lt, value >= spec.lt if spec.lt is not None else pl.lit(False), "not below"),
    )
    for bound, broken, words in bounds:
        if bound is not None:
            checks.append((broken, pl.format(f"{{}} is {words} {bound}", said)))
    for rule in type_rules:
        if rule.wire != spec.wire:
            continue
        kind = pl.col(rule.type_field) if rule.type_field in frame_columns else pl.lit(None)
        wrong_type = present & kind.cast(pl.String).ne_missing(pl.lit(rule.kind))
        words = f"{spec.wire} is only allowed on {rule.kind} activities"
        checks.append((wrong_type, pl.lit(words)))
    if not checks:
        return None
    message: pl.Expr = pl.lit(None, pl.String)
    for failed, worded in reversed(checks):
        message = pl.when(failed.fill_null(False)).then(worded).otherwise(message)
    return Message(pl.any_horizontal(failed.fill_null(False) for failed, _ in checks), message)


def validate(
    frame: pl.DataFrame, obj: RallyObject, given: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Issues (ISSUE_SCHEMA, all severity "error"): one per failing field per row.

    `given` is the frame before normalization (the same rows in the same order): messages
    then quote the cell as the file has it, and the value it was read as where they differ.
    """
    specs = field_specs(obj.create)
    type_rules = type_only_rules(obj.create)
    schema = frame.schema
    staged = frame
    for spec in specs:
        if spec.email and spec.wire in schema:
            errors = email_errors(frame[spec.wire].cast(pl.String))
            staged = staged.with_columns(errors.alias(_EMAIL_ERROR + spec.wire))
    if given is not None:
        staged = staged.with_columns(
            given[spec.wire].cast(pl.String).alias(_GIVEN + spec.wire)
            for spec in specs
            if spec.wire in schema and spec.wire in given.columns
        )
    columns = set(staged.columns)
    messages: dict[str, Message] = {}
    for spec in specs:
        message = _field_message(spec, schema.get(spec.wire), type_rules, columns)
        if message is not None:
            messages[spec.wire] = message
    known = {spec.wire for spec in specs}
    for column in schema:
        if column not in known and not is_internal(column):
            messages[column] = Message(
                pl.col(column).is_not_null(), pl.lit(f"{column} is not a field of Rally {obj.name}")
            )
    if frame.height == 0:
        return empty_issues()
    return issues_from_messages(staged, messages)
