"""The rules of a Rally request model, read from its pydantic annotations.

Normalization and validation both need to know, per wire field, its type and constraints. They
get them here, from `model.model_fields`, so the rules are written once (in `crmsync.schema`).
A constraint this module does not understand raises `UnsupportedRule` instead of being skipped:
a rule nobody checks would let the frame validator and pydantic disagree silently.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types as at
from pydantic import AfterValidator, BaseModel, PlainSerializer, StringConstraints
from pydantic.fields import FieldInfo

from crmsync.schema.activities import TYPE_ONLY_FIELDS, ActivityCreate
from crmsync.schema.fields import EmailSyntax, NonBlank


class UnsupportedRule(TypeError):
    """A model carries a constraint the frame validator cannot check."""


class Kind(StrEnum):
    """The value type a field holds after normalization (and its polars dtype)."""

    TEXT = "text"  # pl.String
    INTEGER = "integer"  # pl.Int64
    DECIMAL = "decimal"  # pl.Float64
    BOOLEAN = "boolean"  # pl.Boolean
    DATETIME = "datetime"  # pl.String, ISO-8601 UTC
    TEXT_LIST = "text_list"  # pl.List(pl.String)


_BASE_KINDS: dict[Any, Kind] = {
    str: Kind.TEXT,
    int: Kind.INTEGER,
    Decimal: Kind.DECIMAL,
    float: Kind.DECIMAL,
    bool: Kind.BOOLEAN,
    datetime: Kind.DATETIME,
}


@dataclass(frozen=True)
class FieldSpec:
    """Everything the frame stage needs to know about one wire field of a request model."""

    wire: str  # camelCase name on the wire and in the frame
    name: str  # snake_case attribute
    kind: Kind
    required: bool  # no default: a missing value fails the row
    nullable: bool  # an explicit null is accepted
    non_blank: bool = False
    email: bool = False
    pattern: str | None = None
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    choices: tuple[str, ...] | None = None


@dataclass(frozen=True)
class TypeOnlyRule:
    """A field allowed only when `type_field` equals `kind` (activities' call/meeting fields)."""

    wire: str
    type_field: str
    kind: str


@dataclass
class _Collected:
    kind: Kind | None = None
    nullable: bool = False
    choices: tuple[str, ...] | None = None
    constraints: dict[str, Any] | None = None
    markers: set[type] | None = None
    has_after_validator: bool = False


def _add_metadata(item: Any, out: _Collected) -> None:
    constraints = out.constraints if out.constraints is not None else {}
    markers = out.markers if out.markers is not None else set()
    out.constraints, out.markers = constraints, markers
    if isinstance(item, FieldInfo):
        for sub in item.metadata:
            _add_metadata(sub, out)
    elif isinstance(item, (NonBlank, EmailSyntax)):
        markers.add(type(item))
    elif isinstance(item, StringConstraints):
        unsupported = {
            key
            for key in ("strip_whitespace", "to_upper", "to_lower", "strict", "ascii_only")
            if getattr(item, key) is not None
        }
        if unsupported:
            raise UnsupportedRule(f"StringConstraints {sorted(unsupported)} are not checked")
        for key in ("pattern", "min_length", "max_length"):
            if getattr(item, key) is not None:
                constraints[key] = getattr(item, key)
    elif isinstance(item, (at.Ge, at.Gt, at.Le, at.Lt)):
        key = type(item).__name__.lower()
        constraints[key] = getattr(item, key)
    elif isinstance(item, at.MinLen):
        constraints["min_length"] = item.min_length
    elif isinstance(item, at.MaxLen):
        constraints["max_length"] = item.max_length
    elif isinstance(item, AfterValidator):
        out.has_after_validator = True
    elif isinstance(item, PlainSerializer):
        pass  # how a value is written, not whether it is valid
    else:
        raise UnsupportedRule(f"constraint {item!r} is not checked by the frame validator")


def _walk(annotation: Any, out: _Collected) -> None:
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *metadata = get_args(annotation)
        for item in metadata:
            _add_metadata(item, out)
        _walk(base, out)
    elif origin in (Union, types.UnionType):
        args = get_args(annotation)
        rest = [arg for arg in args if arg is not type(None)]
        if len(rest) != 1:
            raise UnsupportedRule(f"union {annotation!r} is not supported")
        out.nullable = out.nullable or len(rest) < len(args)
        _walk(rest[0], out)
    elif origin is Literal:
        values = get_args(annotation)
        if not all(isinstance(value, str) for value in values):
            raise UnsupportedRule(f"non-string Literal {annotation!r}")
        out.kind, out.choices = Kind.TEXT, values
    elif origin is list:
        (item,) = get_args(annotation)
        if item is not str:
            raise UnsupportedRule(f"list of {item!r} is not supported")
        out.kind = Kind.TEXT_LIST
    elif annotation in _BASE_KINDS:
        out.kind = _BASE_KINDS[annotation]
    else:
        raise UnsupportedRule(f"type {annotation!r} is not supported")


def _field_spec(name: str, info: FieldInfo) -> FieldSpec:
    collected = _Collected()
    for item in info.metadata:
        _add_metadata(item, collected)
    _walk(info.annotation, collected)
    markers = collected.markers or set()
    if collected.has_after_validator and not markers:
        raise UnsupportedRule(f"{name}: an AfterValidator without a marker cannot be checked")
    if collected.kind is None:  # pragma: no cover - _walk always sets it or raises
        raise UnsupportedRule(f"{name}: no type")
    constraints = collected.constraints or {}
    return FieldSpec(
        wire=info.alias or name,
        name=name,
        kind=collected.kind,
        required=info.is_required(),
        nullable=collected.nullable,
        non_blank=NonBlank in markers,
        email=EmailSyntax in markers,
        choices=collected.choices,
        **constraints,
    )


@cache
def field_specs(model: type[BaseModel]) -> tuple[FieldSpec, ...]:
    """The rules of every field of `model`, in declaration order."""
    return tuple(_field_spec(name, info) for name, info in model.model_fields.items())


def spec_by_wire(model: type[BaseModel]) -> dict[str, FieldSpec]:
    return {spec.wire: spec for spec in field_specs(model)}


# Model-level validators the frame validator knows how to check, by model and validator name.
def _activity_type_only_rules() -> tuple[TypeOnlyRule, ...]:
    type_field = ActivityCreate.model_fields["activity_type"].alias or "activity_type"
    return tuple(
        TypeOnlyRule(wire=wire, type_field=type_field, kind=kind)
        for kind, wires in TYPE_ONLY_FIELDS.items()
        for wire in wires
    )


_KNOWN_MODEL_VALIDATORS: dict[tuple[type[BaseModel], str], Any] = {
    (ActivityCreate, "_type_specific_fields"): _activity_type_only_rules,
}


@cache
def type_only_rules(model: type[BaseModel]) -> tuple[TypeOnlyRule, ...]:
    """The model validators of `model` as frame rules; refuses validators it cannot check."""
    decorators = model.__pydantic_decorators__
    if decorators.field_validators:
        raise UnsupportedRule(f"{model.__name__} has field validators the frame cannot check")
    rules: list[TypeOnlyRule] = []
    for validator_name in decorators.model_validators:
        builder = _KNOWN_MODEL_VALIDATORS.get((model, validator_name))
        if builder is None:
            raise UnsupportedRule(f"{model.__name__}.{validator_name} is not checked on frames")
        rules.extend(builder())
    return tuple(rules)
