"""Where a pipeline writes: a Rally tenant (the default), or files (an export).

A file destination's format follows the path's suffix. Its path may hold placeholders, filled
per step and run: {step} and {object} (a pipeline of several steps needs one of them, so each
step has its own file), {run_id} and {date} (UTC, YYYY-MM-DD). A path with {run_id} is an
incremental export: each run's file holds what changed in the source since the last complete
run, like the load packages of dlt or the per-run files of a Singer target. Any other path
is written whole on every run (a snapshot), so a fixed file never holds only a day's changes.
"""

from __future__ import annotations

import string
from pathlib import PurePath
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, SecretStr, Tag, field_validator

from crmsync.config.base import Section, secret_not_empty, tenant_root
from crmsync.load.files import FileFormat

# File suffix -> format written.
FILE_FORMATS: dict[str, FileFormat] = {
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".csv": "csv",
    ".parquet": "parquet",
}
PLACEHOLDERS = ("step", "object", "run_id", "date")
STEP_PLACEHOLDERS = ("step", "object")
INCREMENTAL_PLACEHOLDER = "run_id"


class DestinationConfig(Section):
    """A Rally tenant."""

    kind: Literal["rally"] = Field(default="rally", description="rally (the default) or file.")
    base_url: str = Field(
        description="Tenant root, e.g. https://acme.rallycrm.io (without /api/v1)."
    )
    api_key: SecretStr = Field(description="Rally API key; use ${RALLY_API_KEY}, not a literal.")

    _http_url = field_validator("base_url")(tenant_root)
    _not_empty = field_validator("api_key")(secret_not_empty)


class TenantConfig(Section):
    """One tenant of a pipeline file (`tenants:`): the destination's fields, its own over
    those of `destination:`, with `${VARS}` filled in. Each field of DestinationConfig but its
    kind is here (a test holds them equal), so a tenant may set whatever the destination may."""

    base_url: str | None = Field(
        default=None, description="Tenant root; default: the destination's base_url."
    )
    api_key: SecretStr | None = Field(
        default=None, description="The tenant's own Rally API key: ${ACME_RALLY_API_KEY}."
    )
    unset: tuple[str, ...] = Field(
        default=(),
        exclude=True,
        description="Why a field has no value (its environment variable is not set): the "
        "tenant cannot run, the others can.",
    )

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return None if value is None else tenant_root(value)

    @field_validator("api_key")
    @classmethod
    def _not_empty(cls, value: SecretStr | None) -> SecretStr | None:
        return None if value is None else secret_not_empty(value)


def placeholders_of(path: str) -> list[str]:
    """The {names} a path template uses; ValueError for a malformed one."""
    try:
        parsed = list(string.Formatter().parse(path))
    except ValueError as exc:
        raise ValueError(f"{exc} (write a literal brace as {{{{ or }}}})") from None
    names = [name for _, name, _, _ in parsed if name is not None]
    for name in names:
        if name not in PLACEHOLDERS:
            known = ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
            raise ValueError(f"unknown placeholder {{{name}}}: the path may hold {known}")
    return names


class FileDestinationConfig(Section):
    """Files instead of Rally: every record that passes the transform, one file per step."""

    kind: Literal["file"]
    path: str = Field(
        description="File to write, relative to the pipeline file's folder; .ndjson (or "
        ".jsonl), .csv or .parquet. May hold {step}, {object}, {run_id} and {date}."
    )

    @field_validator("path")
    @classmethod
    def _known_format(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("is empty")
        placeholders_of(value)
        suffix = PurePath(value).suffix.lower()
        if suffix not in FILE_FORMATS:
            raise ValueError(
                f"the file's suffix decides its format: end it in {', '.join(FILE_FORMATS)}"
                f" (got {suffix or 'no suffix'!r})"
            )
        return value

    @property
    def format(self) -> FileFormat:
        return FILE_FORMATS[PurePath(self.path).suffix.lower()]

    @property
    def incremental(self) -> bool:
        """Each run writes only what changed since the last complete run ({run_id})."""
        return INCREMENTAL_PLACEHOLDER in placeholders_of(self.path)

    @property
    def per_step(self) -> bool:
        return any(name in STEP_PLACEHOLDERS for name in placeholders_of(self.path))


def _destination_kind(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("kind", "rally"))
    return str(getattr(value, "kind", "rally"))


DESTINATION_TAGS = ("rally", "file")
AnyDestination = Annotated[
    Annotated[DestinationConfig, Tag("rally")] | Annotated[FileDestinationConfig, Tag("file")],
    Discriminator(_destination_kind),
]
