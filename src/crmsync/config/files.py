"""Reading a pipeline file: YAML, `${VAR}` from the environment, then the models.

`read_mapping` is shared with the run history, which reads only a file's name and state path
(so history works where the destination's variables are not set).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from crmsync.api.http import SECRET_FRAGMENT_CHARS, redact
from crmsync.config.base import read_text_file
from crmsync.config.env import interpolate
from crmsync.config.messages import describe
from crmsync.config.models import Pipeline
from crmsync.config.strict_yaml import YamlLimitError, load_yaml
from crmsync.config.tenants import DESTINATION_KEY, TENANTS_KEY, TenantSections
from crmsync.errors import ConfigError
from crmsync.paths import resolved
from crmsync.state.location import url_password

# Stands in for a destination whose variables are not set, in a dry run that may not need one.
UNSET_DESTINATION = {"base_url": "https://rally.invalid", "api_key": "unset"}  # never asked


def secret_values(data: Any, *, webhooks: bool = True) -> list[str]:
    """Every `api_key` value of a parsed pipeline file, the password in `state.url`, and (with
    `webhooks`) a webhook's `url` (walked without recursion)."""
    found: list[str] = []
    state = data.get("state") if isinstance(data, dict) else None
    if isinstance(state, dict) and isinstance(state.get("url"), str):
        password = url_password(state["url"])
        if password:
            found.append(password)
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            key = item.get("api_key")
            if isinstance(key, str) and key:
                found.append(key)
            webhook = item.get("webhook")
            if webhooks and isinstance(webhook, dict) and isinstance(webhook.get("url"), str):
                found.append(webhook["url"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


KEY_PIECE_CHARS = 12  # the shortest piece of a key refused outside api_key


def check_keys_stay_put(data: Any, secrets: list[str]) -> None:
    """ConfigError when a value other than an `api_key` holds an API key, or most of one:
    `name: ${RALLY_API_KEY}` or `leadSource: {constant: ${RALLY_API_KEY}}` would print it,
    store it in the state database, or send it to Rally as data. Shorter pieces are left to
    redaction: keys made of words ("redmine-key") share them with ordinary names."""
    pieces = {
        secret[i : i + size].lower()
        for secret in secrets
        if len(secret) >= SECRET_FRAGMENT_CHARS
        for size in [min(len(secret), max(KEY_PIECE_CHARS, len(secret) // 2))]
        for i in range(len(secret) - size + 1)
    }
    stack: list[tuple[str, Any]] = [("", data)]
    while stack and pieces:
        where, item = stack.pop()
        texts: list[tuple[str, str]] = []
        if isinstance(item, dict):
            texts = [(where or "(top level)", str(name)) for name in item]
            stack += [
                (f"{where}.{name}".lstrip("."), value)
                for name, value in item.items()
                if name != "api_key" and not (where == "state" and name == "url")
            ]
        elif isinstance(item, list):
            stack += [(f"{where}[{index}]", value) for index, value in enumerate(item)]
        elif isinstance(item, str):
            texts = [(where, item)]
        for place, text in texts:
            folded = text.lower()
            if any(piece in folded for piece in pieces):
                raise ConfigError(f"{place}: holds an API key or part of one (keep it in api_key)")


def read_mapping(path: Path) -> dict[str, Any]:
    """The file's YAML as a mapping (not yet interpolated); every problem is a ConfigError."""
    text = read_text_file(path, what="pipeline file")
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        kind = "" if isinstance(exc, YamlLimitError) else "not valid YAML: "
        raise ConfigError(f"{line}{kind}{problem}", file=str(path)) from None
    if not isinstance(data, dict):
        raise ConfigError("a pipeline file is a YAML mapping (key: value)", file=str(path))
    return data


def _interpolated(
    data: dict[str, Any], env: Mapping[str, str] | None, destination_optional: bool
) -> dict[str, Any]:
    try:
        return dict(interpolate(data, env=env))
    except ConfigError as exc:
        if not (destination_optional and (exc.path or "").startswith(DESTINATION_KEY)):
            raise
        unset = str(exc)
    rest = {key: value for key, value in data.items() if key != DESTINATION_KEY}
    return {
        **interpolate(rest, env=env),
        DESTINATION_KEY: UNSET_DESTINATION,
        "destination_unset": unset,
    }


def load_pipeline(
    path: str | Path,
    *,
    env: Mapping[str, str] | None = None,
    destination_optional: bool = False,
    env_tenants: Sequence[str] = (),
) -> Pipeline:
    """Read, interpolate and validate a pipeline file; every problem is a ConfigError.

    With `destination_optional` (a dry run), a `destination:` whose variables are not set is
    no error yet: it is left unset (`Pipeline.destination_unset` says why), and the run
    refuses it only if it has to talk to Rally.

    A file with `tenants:`, or read with `env_tenants` (prefixes of tenants taken from the
    environment, the CLI's --destination-env), runs for its tenants: `for_tenant(name)`
    (config/tenants.py). Their keys are secrets like the destination's.
    """
    path = Path(path)
    data = read_mapping(path)
    try:
        tenants = TenantSections.take(data, env, env_tenants)
        data = _interpolated(data, env, destination_optional)
        checked = {**data, **tenants.plain()} if tenants else data
        secrets = secret_values(checked)
        check_keys_stay_put(checked, secret_values(checked, webhooks=False))
        if tenants:
            data[TENANTS_KEY] = tenants.checked(secrets)
            data[DESTINATION_KEY] = UNSET_DESTINATION
            data["destination_unset"] = tenants.unset_reason()
    except ConfigError as exc:
        raise ConfigError(str(exc), file=str(path)) from None
    data["base_dir"] = resolved(path).parent
    try:
        return Pipeline.model_validate(data)
    except ValidationError as exc:
        # a message quotes values (a URL); none may show a key the file holds elsewhere
        # the top-level form's step takes the pipeline's name: one mistake, said once
        lines = list(dict.fromkeys(redact(describe(e, data), *secrets) for e in exc.errors()))
        raise ConfigError(
            "invalid pipeline file:\n  " + "\n  ".join(lines), file=str(path)
        ) from None
