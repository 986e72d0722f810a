"""The `state:` section: where a pipeline's state lives, an SQLite file beside the pipeline
file (the default) or a schema on a PostgreSQL server that workers on several hosts share."""

from __future__ import annotations

from pathlib import Path

from pydantic import ConfigDict, Field, SecretStr, field_validator, model_validator

from crmsync.config.base import Section
from crmsync.paths import resolved
from crmsync.state.location import DEFAULT_SCHEMA, SCHEMA_PATTERN, StateLocation, is_url

DEFAULT_STATE_PATH = ".crmsync/state.db"


class StateConfig(Section):
    """Where the state lives: an SQLite file beside the pipeline file (the default), or a
    schema on a PostgreSQL server that workers on several hosts share."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    path: Path = Field(
        default=Path(DEFAULT_STATE_PATH),
        description="SQLite state database (runs, id map), relative to the pipeline file.",
    )
    url: SecretStr | None = Field(
        default=None,
        description="postgresql://user@host/db instead of a file; the password from "
        "${PGPASSWORD} or ~/.pgpass, never written in the file.",
    )
    pg_schema: str = Field(
        default=DEFAULT_SCHEMA,
        alias="schema",
        pattern=SCHEMA_PATTERN,
        description="The PostgreSQL schema holding crmsync's tables (created on first use).",
    )

    @field_validator("url")
    @classmethod
    def _postgres_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not is_url(value.get_secret_value().strip()):
            raise ValueError("must be a postgresql:// URL (for a file, use state.path)")
        return value

    @model_validator(mode="after")
    def _one_place(self) -> StateConfig:
        if "path" in self.model_fields_set and self.url is not None:
            raise ValueError("give state.path (a file) or state.url (PostgreSQL), not both")
        return self

    def location(self, base_dir: Path) -> StateLocation:
        """The state database this names, a file made absolute against `base_dir`."""
        if self.url is not None:
            return StateLocation(url=self.url.get_secret_value().strip(), schema=self.pg_schema)
        path = self.path if self.path.is_absolute() else base_dir / self.path
        return StateLocation(path=resolved(path))
