"""The pipeline file's models: a pipeline of steps, each one object loaded from one source.

Each section converts itself into the settings the library runs on (`LoadConfig.settings`,
`NormalizeConfig.options`, `FieldMapping.rule`), so defaults and limits are written once, in
the library, and only checked here with the path of the key that is wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import ByteSize, Field, ValidationInfo, field_validator, model_validator

from crmsync.api.http import plain_http, public_url
from crmsync.api.settings import (
    DEFAULT_CONCURRENCY,
    DEFAULT_CONNECT_TIMEOUT_S,
    DEFAULT_MAX_BACKOFF_S,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_RETRIES,
    DEFAULT_READ_TIMEOUT_S,
    DEFAULT_REQUEST_DEADLINE_S,
)
from crmsync.config.alerts import Expectations, NotifyConfig
from crmsync.config.base import Name, Section, nearest
from crmsync.config.destinations import (
    AnyDestination,
    DestinationConfig,
    FileDestinationConfig,
    TenantConfig,
)
from crmsync.config.mapping import FieldMapping, Lookup, mapping_shorthand
from crmsync.config.sizes import DEFAULT_WORK_MEMORY, WorkMemory
from crmsync.config.sources import RallyApiSource, RedmineApiSource, SourceConfig
from crmsync.config.state import StateConfig
from crmsync.config.sync import SyncConfig
from crmsync.load import LoadMode, LoadSettings
from crmsync.load.outcomes import DEFAULT_BATCH_SIZE
from crmsync.paths import resolved
from crmsync.schema import OBJECTS, RallyObject
from crmsync.transform import NormalizeOptions

DEFAULT_REPORT_DIR = "reports"
_DEFAULT_NORMALIZE = NormalizeOptions()


class NormalizeConfig(Section):
    default_region: str | None = Field(
        default=_DEFAULT_NORMALIZE.default_region,
        description="Region for phone numbers written without +country, e.g. US.",
    )
    phone_policy: Literal["keep", "fail"] = Field(
        default=_DEFAULT_NORMALIZE.phone_policy,
        description="An unparseable phone: keep it as given with a warning, or fail the row.",
    )
    fold_gmail: bool = Field(
        default=_DEFAULT_NORMALIZE.fold_gmail,
        description="Dedupe Gmail addresses ignoring dots and +tags.",
    )
    names_from_email: bool = Field(
        default=_DEFAULT_NORMALIZE.names_from_email,
        description="A contact with neither first nor last name takes them from its email "
        "address (anna.berg@x.com: Anna Berg), with a warning; a name's default fills the rest.",
    )
    day_first: bool = Field(
        default=_DEFAULT_NORMALIZE.day_first,
        description="A slashed or dotted date is day first (15/07/2025, 15.07.2025).",
    )
    decimal_comma: bool = Field(
        default=_DEFAULT_NORMALIZE.decimal_comma,
        description="Numbers are written 1.234,50 (a comma before the decimals, dots "
        "grouping thousands), as Excel writes them in much of Europe.",
    )

    def options(self) -> NormalizeOptions:
        """The normalizer's options."""
        return NormalizeOptions(
            default_region=self.default_region,
            phone_policy=self.phone_policy,
            fold_gmail=self.fold_gmail,
            names_from_email=self.names_from_email,
            day_first=self.day_first,
            decimal_comma=self.decimal_comma,
        )


class DedupeConfig(Section):
    enabled: bool = Field(default=True, description="Dedupe by the object's match key.")
    keep: Literal["first", "last", "most_complete", "newest"] = Field(
        default="first", description="Which duplicate survives; the others fill its empty fields."
    )
    newest_by: str | None = Field(
        default=None, description="Source column holding a timestamp, for keep: newest."
    )
    missing_key: Literal["fail", "load"] = Field(
        default="fail", description="Rows without a match key: fail them, or load without dedupe."
    )

    @model_validator(mode="after")
    def _newest_needs_column(self) -> DedupeConfig:
        if self.keep == "newest" and not self.newest_by:
            raise ValueError("keep: newest needs newest_by (a timestamp column)")
        return self


class LoadConfig(Section):
    mode: Literal["auto", "bulk", "upsert", "create_only", "update_only"] = Field(
        default="auto",
        description="auto: new records through bulk, changed ones merged into Rally's; bulk: "
        "POST /bulk batches only (a record Rally has fails); upsert: new records one by one "
        "through PUT /upsert; create_only: records Rally has are skipped, never updated; "
        "update_only: records Rally does not have are skipped, never created.",
    )
    batch_size: int = Field(
        default=DEFAULT_BATCH_SIZE, description="Records per bulk request (at most 100)."
    )
    concurrency: int = Field(
        default=DEFAULT_CONCURRENCY,
        description="Requests in flight to start with; grows while the API keeps up.",
    )
    max_concurrency: int | None = Field(
        default=None,
        description=f"Most requests in flight (default: {DEFAULT_MAX_CONCURRENCY}, or "
        "concurrency if larger); equal to concurrency for a fixed number.",
    )
    max_retries: int = Field(
        default=DEFAULT_MAX_RETRIES, description="Retries per request after the first attempt."
    )
    max_backoff_s: float = Field(
        default=DEFAULT_MAX_BACKOFF_S, description="Longest single wait between retries."
    )
    connect_timeout_s: float = Field(default=DEFAULT_CONNECT_TIMEOUT_S)
    read_timeout_s: float = Field(default=DEFAULT_READ_TIMEOUT_S)
    request_deadline_s: float = Field(
        default=DEFAULT_REQUEST_DEADLINE_S,
        description="Longest one request may take, its whole answer read (a server that "
        "trickles its answer never trips the read timeout).",
    )

    @field_validator("*")
    @classmethod
    def _usable(cls, value: Any, info: ValidationInfo) -> Any:
        """The library's own check of each setting, so the limits exist once."""
        if info.field_name == "mode" or value is None:
            return value
        problem = LoadSettings.error(str(info.field_name), value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _cap_above_start(self) -> LoadConfig:
        # `max_concurrency: 1` alone starts at 1: only a start given above it is refused
        cap, given = self.max_concurrency, "concurrency" in self.model_fields_set
        if cap is not None and cap < self.concurrency and given:
            raise ValueError("max_concurrency must be at least concurrency")
        return self

    def settings(self, mode: LoadMode) -> LoadSettings:
        """The loader's settings for sending in `mode` (auto sends in both, in turn)."""
        return LoadSettings(
            mode=mode,
            batch_size=self.batch_size,
            concurrency=min(self.concurrency, self.max_concurrency or self.concurrency),
            max_concurrency=self.max_concurrency or max(DEFAULT_MAX_CONCURRENCY, self.concurrency),
            max_retries=self.max_retries,
            max_backoff_s=self.max_backoff_s,
            connect_timeout_s=self.connect_timeout_s,
            read_timeout_s=self.read_timeout_s,
            request_deadline_s=self.request_deadline_s,
        )


class ReportConfig(Section):
    dir: Path = Field(
        default=Path(DEFAULT_REPORT_DIR),
        description="Folder for errors.csv, merged.csv and summary.json.",
    )


STEP_KEYS = (
    "object",
    "source",
    "where",
    "where_filled",
    "mapping",
    "normalize",
    "dedupe",
    "sync",
    "load",
    "source_id",
)


class Step(Section):
    """One object loaded from one source; a pipeline runs its steps in order."""

    name: Name = Field(description="Names the step in summaries and its report folder.")
    object: Literal["contacts", "companies", "activities"] = Field(
        description="Rally object the records become."
    )
    source: SourceConfig
    where: dict[str, str | list[str]] = Field(
        default_factory=dict,
        description="Only rows whose column equals the value (or one of the values), e.g. "
        "is_company: 'true'. Other rows belong to other steps and are not counted here.",
    )
    where_filled: list[str] = Field(
        default_factory=list,
        description="Only rows where these columns have a value (n/a and the like count as "
        "empty), e.g. the company column of a companies step read from a contacts file.",
    )
    mapping: dict[str, FieldMapping] = Field(
        description="Rally field (camelCase) <- column, constant, default or lookup."
    )
    normalize: NormalizeConfig = NormalizeConfig()
    dedupe: DedupeConfig = DedupeConfig()
    sync: SyncConfig = SyncConfig()
    load: LoadConfig = LoadConfig()
    source_id: str | None = Field(
        default=None,
        description="Column with the source system's id: later steps can look records up by "
        "it, and a re-run recognizes records it already created.",
    )

    @field_validator("mapping", mode="before")
    @classmethod
    def _expand_shorthand(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: mapping_shorthand(item) for key, item in value.items()}
        return value

    @model_validator(mode="after")
    def _mapping_fits_object(self) -> Step:
        obj = self.rally_object
        targets = {**obj.wire_fields, **dict.fromkeys(obj.split_fields, False)}
        for name in self.mapping:
            if name not in targets:
                raise ValueError(
                    f"mapping: {name!r} is not a Rally {self.object} field{nearest(name, targets)}"
                )
        covered = {
            part
            for name, parts in obj.split_fields.items()
            if name in self.mapping
            for part in parts
        }
        missing = [
            alias
            for alias, required in obj.wire_fields.items()
            if required and alias not in self.mapping and alias not in covered
        ]
        if missing:
            raise ValueError(
                f"mapping: required Rally {self.object} field(s) not mapped: {', '.join(missing)}"
            )
        if self.load.mode == "upsert" and not obj.has_upsert:
            raise ValueError(f"load.mode: Rally {self.object} have no upsert; use bulk")
        for name, spec in self.mapping.items():
            if spec.on == "always" and spec.default is None and spec.constant is None:
                raise ValueError(f"mapping.{name}: on: always applies to a default or constant")
        return self

    @property
    def rally_object(self) -> RallyObject:
        return OBJECTS[self.object]

    @property
    def lookups(self) -> dict[str, Lookup]:
        return {f: m.lookup for f, m in self.mapping.items() if m.lookup is not None}


class Pipeline(Section):
    """One pipeline file: a single step written at the top level, or `steps:`."""

    name: Name = Field(description="Shown in summaries and reports.")
    steps: list[Step] = Field(min_length=1, description="Run in order; a failed start stops.")
    destination: AnyDestination
    state: StateConfig = StateConfig()
    report: ReportConfig = ReportConfig()
    expect: Expectations | None = Field(
        default=None, description="What a healthy run looks like; a run breaking it exits 6."
    )
    notify: NotifyConfig | None = Field(
        default=None, description="Whom to tell about a run that needs a person."
    )
    tenants: dict[str, TenantConfig] = Field(
        default_factory=dict,
        description="Rally tenants this file runs for, each its own scope (for_tenant): name "
        "-> the destination fields it sets over destination's.",
    )
    work_memory: WorkMemory = Field(
        default=ByteSize(DEFAULT_WORK_MEMORY),
        description="How much of a big file's checked rows, and again of its planned rows, "
        "a run holds in memory before it writes them to working files beside the report (and "
        "how big the source rows of a file read whole may be before they are), e.g. 64MiB "
        "(the default), 1GiB. More is faster where the memory is there.",
    )
    allow_insecure_http: bool = Field(
        default=False,
        description="Send API keys over plain http:// to hosts other than this machine (a "
        "rehearsal server on the LAN); every run warns. Never for a real tenant.",
    )
    base_dir: Path = Field(default=Path("."), exclude=True, description="Set from the file path.")
    single_step: bool = Field(default=False, exclude=True, description="Written without steps:.")
    destination_unset: str | None = Field(
        default=None, exclude=True, description="Why the destination is not set (a dry run)."
    )
    tenant: str | None = Field(default=None, exclude=True, description="Set by for_tenant.")

    @model_validator(mode="before")
    @classmethod
    def _single_step(cls, data: Any) -> Any:
        """A file without `steps:` is one step named after the pipeline."""
        if isinstance(data, dict) and "steps" not in data:
            data = dict(data)
            step = {"name": data.get("name", "main")}
            step.update({key: data.pop(key) for key in STEP_KEYS if key in data})
            data["steps"] = [step]
            data["single_step"] = True
        elif isinstance(data, dict) and "sync" in data and isinstance(data["steps"], list):
            # the pipeline's sync: is the default of every step that has none of its own
            data = dict(data)
            sync = data.pop("sync")
            data["steps"] = [
                {"sync": sync, **step} if isinstance(step, dict) else step for step in data["steps"]
            ]
        return data

    @model_validator(mode="after")
    def _steps_fit_together(self) -> Pipeline:
        names = [step.name for step in self.steps]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"steps: names must be unique, repeated: {', '.join(repeated)}")
        for index, step in enumerate(self.steps):
            earlier = {s.object for s in self.steps[:index] if s.source_id}
            for field, lookup in step.lookups.items():
                by_id = any(key.kind == "source_id" for key in lookup.by)
                if by_id and lookup.object not in earlier:
                    raise ValueError(
                        f"steps[{index}].mapping.{field}: a source_id lookup needs an earlier "
                        f"{lookup.object} step with source_id set"
                    )
        files = self.destination
        if isinstance(files, FileDestinationConfig) and len(self.steps) > 1 and not files.per_step:
            raise ValueError(
                "destination.path: a pipeline of several steps writes one file per step: "
                "put {step} (or {object}) in the path"
            )
        return self

    @model_validator(mode="after")
    def _keys_travel_encrypted(self) -> Pipeline:
        if not self.allow_insecure_http:
            for where, url in self.insecure_urls():
                raise ValueError(
                    f"{where}: {public_url(url)} would get the API key unencrypted: use "
                    "https://, or set allow_insecure_http: true"
                )
        return self

    def insecure_urls(self) -> list[tuple[str, str]]:
        """(key path, URL) of every plain-http URL an API key is sent to, loopback aside."""
        urls = []
        if isinstance(self.destination, DestinationConfig):
            urls.append(("destination.base_url", self.destination.base_url))
        for name, tenant in self.tenants.items():
            urls += [(f"tenants.{name}.base_url", tenant.base_url)] if tenant.base_url else []
        for index, step in enumerate(self.steps):
            prefix = "" if self.single_step else f"steps[{index}]."
            source = step.source
            if isinstance(source, RedmineApiSource):
                urls.append((f"{prefix}source.url", source.url))
            elif isinstance(source, RallyApiSource):
                urls.append((f"{prefix}source.base_url", source.base_url))
        return [(where, url) for where, url in urls if plain_http(url)]

    @property
    def step(self) -> Step:
        """The only step of a single-step pipeline."""
        return self.steps[0]

    def for_tenant(self, name: str) -> Pipeline:
        """This pipeline as it runs for one of its tenants, a scope of its own (its runs, lock
        and resume as `<name>@<tenant>`, reports in report.dir/<tenant>); ConfigError for an
        unknown tenant or one whose variables are not set."""
        from crmsync.config.tenants import tenant_pipeline  # it builds on this module

        return tenant_pipeline(self, name)

    def resolve(self, path: Path) -> Path:
        """A path from the file, made absolute against the pipeline file's folder."""
        return resolved(path if path.is_absolute() else self.base_dir / path)
