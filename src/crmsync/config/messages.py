"""A pydantic validation error as one line a person can act on: the key's path, what is wrong,
and the nearest valid key when a key is unknown."""

from __future__ import annotations

from typing import Any, get_args

from pydantic import BaseModel

from crmsync.config.base import nearest
from crmsync.config.destinations import DESTINATION_TAGS
from crmsync.config.models import STEP_KEYS, Pipeline, Step
from crmsync.config.sources import SOURCE_MODELS

INTERNAL_FIELDS = ("base_dir", "single_step", "destination_unset", "tenant", "unset")


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation like `X | None`, `list[X]` or `dict[str, X]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _keys_at(loc: list[str], root: type[BaseModel]) -> list[str]:
    """The keys valid where an unknown key was found, walking `loc` down from `root`."""
    model: type[BaseModel] | None = root
    for part in loc:
        if model is None:
            return []
        field = model.model_fields.get(part)
        if field is None:  # a dict key or list index: stay on the element model
            continue
        model = _model_in(field.annotation)
    if model is None:
        return []
    return [name for name in model.model_fields if name not in INTERNAL_FIELDS]


def describe(error: Any, data: Any) -> str:
    """One line for one pydantic error (an ErrorDetails) of validating `data`."""
    loc = [str(part) for part in error["loc"]]
    tagged = next((part for part in loc if part in SOURCE_MODELS), None)
    loc = [part for part in loc if part not in SOURCE_MODELS]  # union tags are not keys
    if loc[:1] == ["destination"] and loc[1:2] and loc[1] in DESTINATION_TAGS:
        loc = [loc[0], *loc[2:]]
    single = isinstance(data, dict) and "steps" not in data
    if single and loc[:2] == ["steps", "0"]:
        loc = loc[2:]
    where = ".".join(loc) or "(top level)"
    if error["type"] == "union_tag_invalid" and loc == ["destination"]:
        return f"destination.kind: {error['input'].get('kind')!r} is not one of rally, file"
    if error["type"] == "union_tag_invalid":
        tags = ", ".join(SOURCE_MODELS)
        return f"{where}.kind: {error['input'].get('kind')!r} is not one of {tags}"
    if error["type"] == "union_tag_not_found":
        return f"{where}.kind: required key is missing (one of {', '.join(SOURCE_MODELS)})"
    if error["type"] == "extra_forbidden" and tagged and loc[-2:-1] == ["source"]:
        choices = list(SOURCE_MODELS[tagged].model_fields)
        return f"{where}: unknown key{nearest(loc[-1], choices)}"
    if error["type"] == "extra_forbidden":
        if single:
            # a step's key, or one the pipeline holds however it is written (expect, notify)
            choices = _keys_at(loc[:-1], Step if loc[0] in STEP_KEYS else Pipeline)
            if len(loc) == 1:
                choices = _keys_at([], Pipeline) + list(STEP_KEYS)
        else:
            choices = _keys_at(loc[:-1], Pipeline)
        choices = [c for c in choices if c != "steps"] if single else choices
        return f"{where}: unknown key{nearest(loc[-1], choices)}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        return f"{where}: required key is missing"
    if error["type"] == "string_too_short" and error.get("ctx", {}).get("min_length") == 1:
        return f"{where}: must not be empty"
    return f"{where}: {message}"
