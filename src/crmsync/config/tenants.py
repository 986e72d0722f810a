"""One pipeline file for several Rally tenants, each its own scope.

    destination: {base_url: https://app.rallycrm.io}      # what the tenants share
    tenants:
      acme:   {base_url: "${ACME_RALLY_BASE_URL}", api_key: "${ACME_RALLY_API_KEY}"}
      globex: {api_key: "${GLOBEX_RALLY_API_KEY}"}        # base_url: the destination's

A tenant's fields override those of `destination:`, which then only holds their defaults (it
needs no api_key of its own, and its variables need not be set); every tenant has its own
api_key, since a Rally key belongs to one tenant. A tenant from the environment
(`load_pipeline(..., env_tenants=["ACME"])`, the CLI's `--destination-env ACME`) is named by
its prefix in lower case and reads ACME_RALLY_BASE_URL and ACME_RALLY_API_KEY, both required,
so a misspelt variable never sends its key to the file's default host; it replaces a tenant of
that name in the file.

Variables are read with the rest of the file, but one that is not set only keeps its own
tenant from running (`TenantConfig.unset`, said by `for_tenant`): an agency running one tenant
needs only that tenant's variables, and one missing key does not stop the others.

`Pipeline.for_tenant(name)` is the pipeline as one tenant runs it: named `<name>@<tenant>`,
which keys its runs, its lock and what it resumes; its reports in report.dir/<tenant>. Ids
and hashes need nothing more: the state database keeps them per destination (URL and key).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from crmsync.api.http import redact
from crmsync.config.base import nearest
from crmsync.config.destinations import DestinationConfig, TenantConfig
from crmsync.config.env import interpolate
from crmsync.config.models import Pipeline, ReportConfig
from crmsync.errors import ConfigError

TENANTS_KEY = "tenants"
DESTINATION_KEY = "destination"
TENANT_SEPARATOR = "@"  # a tenant's runs are those of `<pipeline name>@<tenant>`
# Lower case only: a tenant names a report folder, and Acme and acme would share one on a
# case-insensitive file system (and --destination-env ACME is tenant acme).
TENANT_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
ENV_PREFIX = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# --destination-env PREFIX: the destination's variables of the README, behind the prefix.
ENV_VARIABLES = {"base_url": "{prefix}_RALLY_BASE_URL", "api_key": "{prefix}_RALLY_API_KEY"}
OWN_FIELDS = ("api_key",)  # what each tenant must set itself
TENANT_FIELDS = tuple(name for name in TenantConfig.model_fields if name != "unset")
LISTED_NAMES = 10  # tenants named in a message before "and N more"


def tenant_pipeline_name(pipeline: str, tenant: str) -> str:
    """The name a tenant's runs, lock and resume are kept under."""
    return f"{pipeline}{TENANT_SEPARATOR}{tenant}"


def check_tenant_name(name: object, *, path: str = TENANTS_KEY) -> str:
    """`name` if it can name a tenant (and a report folder), else ConfigError."""
    if not isinstance(name, str) or not TENANT_NAME.fullmatch(name):
        raise ConfigError(
            f"{name!r} cannot name a tenant: lower-case letters, digits, - and _ (at most 63)",
            path=path,
        )
    return name


def env_tenant(prefix: str) -> tuple[str, dict[str, str]]:
    """The tenant `--destination-env PREFIX` names, and the variable of each field
    (ACME: acme, ACME_RALLY_BASE_URL and ACME_RALLY_API_KEY). A trailing _ is dropped."""
    stem = prefix.removesuffix("_")
    if not ENV_PREFIX.fullmatch(stem):
        raise ConfigError(
            f"{prefix!r} is no environment variable prefix (letters, digits and _)",
            path="--destination-env",
        )
    name = check_tenant_name(stem.lower(), path=f"--destination-env {prefix}")
    return name, {key: var.format(prefix=stem) for key, var in ENV_VARIABLES.items()}


def listed(names: Iterable[str]) -> str:
    """'a, b, c' for a message, the first LISTED_NAMES of many."""
    names = list(names)
    more = len(names) - LISTED_NAMES
    return ", ".join(names[:LISTED_NAMES]) + (f" and {more} more" if more > 0 else "")


@dataclass
class _Section:
    """A destination or tenant section with its ${VARS} filled in: the fields that have a
    value, and why the others (a variable not set) do not."""

    where: str
    values: dict[str, Any] = field(default_factory=dict)
    unset: dict[str, str] = field(default_factory=dict)
    from_env: bool = False  # --destination-env: its fields are no keys of the file

    @classmethod
    def read(
        cls, section: Any, where: str, env: Mapping[str, str] | None, *, from_env: bool = False
    ) -> _Section:
        if section is None:
            section = {}
        if not isinstance(section, dict):
            raise ConfigError("a mapping of destination fields (base_url, api_key)", path=where)
        found = cls(where, from_env=from_env)
        for key, value in section.items():
            try:
                found.values[key] = interpolate(value, path=found.path_of(key), env=env)
            except ConfigError as exc:
                found.unset[key] = str(exc)
        return found

    def path_of(self, key: object) -> str:
        return self.where if self.from_env else f"{self.where}.{key}"

    def validated(self, secrets: Sequence[str], *, allowed: Sequence[str] = ()) -> TenantConfig:
        """The section's fields checked as a DestinationConfig checks them (no message quotes
        a secret); keys in `allowed` are known but left out."""
        for key in [*self.values, *self.unset]:
            if key not in TENANT_FIELDS and key not in allowed:
                choices = [*TENANT_FIELDS, *allowed]
                raise ConfigError(
                    f"unknown key{nearest(str(key), choices)}", path=self.path_of(key)
                )
        try:
            return TenantConfig.model_validate(
                {k: v for k, v in self.values.items() if k in TENANT_FIELDS}
            )
        except ValidationError as exc:
            error = exc.errors()[0]
            where = self.path_of(".".join(map(str, error["loc"])))
            message = str(error["msg"]).removeprefix("Value error, ")
            shown = redact(message, *(s for s in secrets if s.strip()))  # not a blank key
            raise ConfigError(shown, path=where) from None


@dataclass
class TenantSections:
    """A file's `destination:` and `tenants:` (and the tenants from the environment) as read,
    before they are checked: what load_pipeline runs its key-leak check over."""

    defaults: _Section
    tenants: dict[str, _Section]

    @classmethod
    def take(
        cls, data: dict[str, Any], env: Mapping[str, str] | None, env_prefixes: Sequence[str]
    ) -> TenantSections | None:
        """Take `tenants:` and `destination:` out of a parsed file that has tenants (declared
        or from the environment); None, leaving `data` alone, when it has none."""
        if "tenant" in data:  # what for_tenant sets, never the file
            raise ConfigError(f"unknown key (did you mean {TENANTS_KEY!r}?)", path="tenant")
        declared = data.get(TENANTS_KEY)
        if declared is None and not env_prefixes:
            data.pop(TENANTS_KEY, None)
            return None
        data.pop(TENANTS_KEY, None)
        if not isinstance(declared, dict | None):
            raise ConfigError(
                "a mapping of tenant name -> its destination fields", path=TENANTS_KEY
            )
        destination = data.pop(DESTINATION_KEY, None)
        kind = destination.get("kind", "rally") if isinstance(destination, dict) else "rally"
        if kind != "rally":
            raise ConfigError(
                f"a pipeline writing to {kind!r} has no tenants: tenants are Rally tenants",
                path=f"{DESTINATION_KEY}.kind",
            )
        tenants = {
            check_tenant_name(name): _Section.read(section, f"{TENANTS_KEY}.{name}", env)
            for name, section in (declared or {}).items()
        }
        for prefix in env_prefixes:
            name, variables = env_tenant(prefix)
            section = {key: f"${{{var}}}" for key, var in variables.items()}
            tenants[name] = _Section.read(
                section, f"--destination-env {prefix}", env, from_env=True
            )
        if not tenants:
            raise ConfigError("declares no tenant (leave it out, or name one)", path=TENANTS_KEY)
        return cls(_Section.read(destination, DESTINATION_KEY, env), tenants)

    def plain(self) -> dict[str, Any]:
        """The values as the rest of the file is checked: `destination` and `tenants`."""
        return {
            DESTINATION_KEY: self.defaults.values,
            TENANTS_KEY: {name: section.values for name, section in self.tenants.items()},
        }

    def unset_reason(self) -> str:
        """Why the pipeline itself has no destination: it runs for its tenants."""
        return f"the pipeline runs for its tenants ({listed(self.tenants)}): choose one"

    def checked(self, secrets: Sequence[str]) -> dict[str, TenantConfig]:
        """Each tenant's destination, its own fields over the defaults; ConfigError for a
        section that is wrong whatever the environment holds."""
        defaults = self.defaults.validated(secrets, allowed=("kind",))
        found = {
            name: _merged(section.validated(secrets), section, defaults, self.defaults)
            for name, section in self.tenants.items()
        }
        seen: dict[tuple[str, str], str] = {}
        for name, tenant in found.items():
            if tenant.base_url is None or tenant.api_key is None:
                continue
            same = seen.setdefault((tenant.base_url, tenant.api_key.get_secret_value()), name)
            if same != name:
                raise ConfigError(
                    f"{same} and {name} are the same Rally tenant (base_url and api_key): they "
                    "would share its ids and hashes but not a lock",
                    path=TENANTS_KEY,
                )
        return found


def _merged(
    own: TenantConfig, own_section: _Section, defaults: TenantConfig, default_section: _Section
) -> TenantConfig:
    where = own_section.where
    for name in OWN_FIELDS:
        if name not in own.model_fields_set and name not in own_section.unset:
            raise ConfigError(f"no {name}: each tenant has its own ({name}: ${{...}})", path=where)
    values: dict[str, Any] = {}
    unset: dict[str, str] = {}
    for name in TENANT_FIELDS:
        if name in own.model_fields_set:
            values[name] = getattr(own, name)
        elif name in own_section.unset:
            unset[name] = own_section.unset[name]
        elif name in defaults.model_fields_set:
            values[name] = getattr(defaults, name)
        elif name in default_section.unset:
            unset[name] = default_section.unset[name]
    if "base_url" not in values and "base_url" not in unset:
        raise ConfigError(f"no base_url, and {DESTINATION_KEY}: has none", path=where)
    return TenantConfig.model_validate({**values, "unset": tuple(unset.values())})


def tenant_pipeline(pipeline: Pipeline, name: str) -> Pipeline:
    """Pipeline.for_tenant: the pipeline named `<name>@<tenant>`, writing to the tenant."""
    tenant = pipeline.tenants.get(name)
    if tenant is None:
        declared = list(pipeline.tenants)
        known = f"the file's tenants: {listed(declared)}" if declared else "the file has none"
        raise ConfigError(f"no tenant {name!r}{nearest(name, declared)}; {known}")
    if tenant.unset:
        raise ConfigError(f"tenant {name} cannot run: " + "; ".join(tenant.unset))
    if tenant.base_url is None or tenant.api_key is None:  # refused when the file was read
        raise ConfigError(f"tenant {name} has no base_url or api_key")
    changes = {
        "name": tenant_pipeline_name(pipeline.name, name),
        "destination": DestinationConfig(base_url=tenant.base_url, api_key=tenant.api_key),
        "destination_unset": None,
        "report": ReportConfig(dir=pipeline.report.dir / name),
        "tenants": {},
        "tenant": name,
    }
    try:  # validated whole again: the tenant's URL may need https, like any destination's
        return Pipeline.model_validate({**dict(pipeline), **changes})
    except ValidationError as exc:
        message = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"tenant {name}: {message}") from None


def select_tenants(
    pipeline: Pipeline, names: Sequence[str] = (), *, all_tenants: bool = False
) -> list[str]:
    """The tenants a run is for, in order and each once: `names`, or every tenant with
    `all_tenants`; none for a file without tenants. A file with tenants and no choice is
    refused rather than run for them all: a command line written before the file had tenants
    (a crontab) must not start writing to every customer."""
    if all_tenants:
        return list(pipeline.tenants)
    for name in names:
        if name not in pipeline.tenants:
            tenant_pipeline(pipeline, name)  # raises, naming the nearest tenant
    if not names and pipeline.tenants:
        raise ConfigError(
            f"pipeline {pipeline.name!r} runs for tenants ({listed(pipeline.tenants)}): "
            "choose with --tenant NAME or --all-tenants"
        )
    return list(dict.fromkeys(names))
