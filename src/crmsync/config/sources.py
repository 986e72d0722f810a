"""Where a step's records come from: a file, Redmine CRM (API or export), or a Rally tenant."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationInfo, field_validator

from crmsync.api.http import public_url
from crmsync.config.base import Section, http_root, secret_not_empty, tenant_root


class FileSource(Section):
    """A CSV, JSON (array of objects) or NDJSON file; of JSON, the records themselves or those
    nested in a member of each (`records`)."""

    kind: Literal["csv", "json", "ndjson"] = Field(description="File format of the source.")
    path: Path = Field(description="Source file, relative to the pipeline file's folder.")
    encoding: str = Field(
        default="auto",
        description="Text encoding (utf-8, utf-8-sig, cp1252, latin-1, utf-16) or auto to detect.",
    )
    delimiter: str = Field(default="auto", description="CSV delimiter, or auto to sniff.")
    skip_rows: int | None = Field(
        default=None,
        ge=0,
        description="CSV lines above the header to skip (a report title, notes); unset: the "
        "header is found below any such lines. Row numbers stay the file's own lines.",
    )

    records: str | None = Field(
        default=None,
        description="JSON and NDJSON: the member of each record holding an array of records "
        "to read instead, one row per object of it (a lead's contacts); each row also has its "
        "record's members as parent.<member>, and found_at saying where it is in the file.",
    )

    @field_validator("records")
    @classmethod
    def _json_member(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        kind = info.data.get("kind")
        if kind == "csv":
            raise ValueError(
                "reads the records nested in each JSON record: a csv source has none "
                "(kind: json or ndjson)"
            )
        if not value.strip():
            raise ValueError("must name the member holding the nested records, e.g. contacts")
        return value

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str) -> str:
        if value != "auto" and len(value.replace("\\t", "\t")) != 1:
            raise ValueError("must be one character (use \\t for tab) or auto")
        return value.replace("\\t", "\t")

    @property
    def label(self) -> str:
        return str(self.path)


class RedmineApiSource(Section):
    """Redmine CRM's REST API (contacts plugin), walked page by page."""

    kind: Literal["redmine_api"]
    url: str = Field(description="Redmine's root URL, e.g. https://redmine.example.com.")
    api_key: SecretStr = Field(description="Redmine API key; use ${REDMINE_API_KEY}.")
    entity: Literal["contacts", "notes"] = Field(
        default="contacts", description="contacts (people and companies) or their notes."
    )
    filters: dict[str, str] = Field(
        default_factory=dict,
        description="Redmine list filters: project_id, tags, search, assigned_to_id, is_company.",
    )
    page_size: Annotated[int, Field(ge=1, le=100)] = Field(
        default=100, description="Records a page (Redmine caps it at 100)."
    )

    _http_url = field_validator("url")(http_root)

    @property
    def label(self) -> str:
        return f"{public_url(self.url)}/contacts.json"


class RedmineExportSource(Section):
    """A Redmine CRM export file: JSON or XML list, or its CSV export."""

    kind: Literal["redmine_export"]
    path: Path = Field(description="Export file, relative to the pipeline file's folder.")
    format: Literal["auto", "json", "xml", "csv"] = Field(
        default="auto", description="Export format; auto goes by the file's extension."
    )
    entity: Literal["contacts", "notes"] = Field(
        default="contacts", description="contacts (people and companies) or their notes."
    )
    encoding: str = Field(default="auto", description="Text encoding of a CSV export, or auto.")

    @property
    def label(self) -> str:
        return str(self.path)


class RallyApiSource(Section):
    """A Rally tenant's records through its list API: copying one tenant into another (a
    rehearsal sandbox into production, two merged companies), read incrementally."""

    kind: Literal["rally_api"]
    base_url: str = Field(
        description="The source tenant's root, e.g. https://old.rallycrm.io (without /api/v1)."
    )
    api_key: SecretStr = Field(description="The source tenant's key; use ${SOURCE_API_KEY}.")
    object: Literal["contacts", "companies", "activities"] = Field(
        description="Which Rally object to read."
    )

    _http_url = field_validator("base_url")(tenant_root)
    _not_empty = field_validator("api_key")(secret_not_empty)

    @property
    def label(self) -> str:
        return f"{public_url(self.base_url)}/api/v1/{self.object}"


SOURCE_MODELS: dict[str, type[BaseModel]] = {
    "csv": FileSource,
    "json": FileSource,
    "ndjson": FileSource,
    "redmine_api": RedmineApiSource,
    "redmine_export": RedmineExportSource,
    "rally_api": RallyApiSource,
}

SourceConfig = Annotated[
    FileSource | RedmineApiSource | RedmineExportSource | RallyApiSource,
    Field(discriminator="kind"),
]
