"""`${VAR}` and `${VAR:-default}` in a parsed pipeline file, from the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from crmsync.errors import ConfigError

ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def interpolate(value: Any, *, path: str = "", env: Mapping[str, str] | None = None) -> Any:
    """Replace ${VAR} and ${VAR:-default} in every string of a parsed YAML tree."""
    env = os.environ if env is None else env
    if isinstance(value, dict):
        return {
            k: interpolate(v, path=f"{path}.{k}" if path else str(k), env=env)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [interpolate(v, path=f"{path}[{i}]", env=env) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        found = env.get(name)
        if found is not None and found != "":
            return found
        if default is not None:
            return default
        raise ConfigError(f"environment variable {name} is not set", path=path)

    return ENV_PATTERN.sub(substitute, value)
