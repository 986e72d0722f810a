"""A pipeline file's outline: its name and its steps in order, read without the environment.

An orchestrator declares a pipeline's steps when it loads its definitions, often on a machine
(a code server, a scheduler) that holds none of the run's secrets: so only `name` and each
step's `name` and `object` are read here, as `crmsync runs` reads only `name` and
`state.path`. The whole file is validated when a run reads it, as `crmsync run` does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmsync.config.env import interpolate
from crmsync.config.files import read_mapping
from crmsync.errors import ConfigError

STEPS_KEY = "steps"


@dataclass(frozen=True)
class StepOutline:
    name: str
    object: str  # as written; the run validates it


@dataclass(frozen=True)
class PipelineOutline:
    path: Path  # absolute
    name: str
    steps: tuple[StepOutline, ...]
    single_step: bool  # written without `steps:`: one step, named after the pipeline

    @property
    def step_names(self) -> list[str]:
        return [step.name for step in self.steps]


def read_outline(pipeline_file: str | os.PathLike[str]) -> PipelineOutline:
    """The file's name and steps; ConfigError (with the file) when it has no usable ones."""
    path = Path(pipeline_file).resolve()
    data = read_mapping(path)
    try:
        name = _name(data, "name")
        raw_steps = data.get(STEPS_KEY)
        if raw_steps is None:  # a single step, written at the top level
            steps: tuple[StepOutline, ...] = (StepOutline(name, str(data.get("object", ""))),)
        elif isinstance(raw_steps, list) and raw_steps:
            steps = tuple(_step(step, f"{STEPS_KEY}[{i}]") for i, step in enumerate(raw_steps))
        else:
            raise ConfigError("a non-empty list of steps is required", path=STEPS_KEY)
    except ConfigError as exc:
        raise ConfigError(str(exc), file=str(path)) from None
    return PipelineOutline(path=path, name=name, steps=steps, single_step=raw_steps is None)


def _step(step: Any, where: str) -> StepOutline:
    if not isinstance(step, dict):
        raise ConfigError("a step is a mapping (name: ..., object: ...)", path=where)
    return StepOutline(_name(step, f"{where}.name"), str(step.get("object", "")))


def _name(data: dict[str, Any], where: str) -> str:
    key = where.rsplit(".", 1)[-1]
    name = interpolate(data.get(key), path=where)
    if not isinstance(name, str) or not name:
        raise ConfigError("required key is missing", path=where)
    return name
