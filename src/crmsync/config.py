"""Pipeline files: YAML validated once, at the edge, into frozen pydantic models.

Unknown keys are refused with their path and the nearest valid key; `${VAR}` and
`${VAR:-default}` are read from the environment; the API key is a SecretStr, never printed.
Relative paths are resolved against the pipeline file's folder, so a cron job's working
directory does not matter.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from crmsync.errors import ConfigError
from crmsync.schema import MAX_BULK, OBJECTS, RallyObject

ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
DEFAULT_REPORT_DIR = "reports"
DEFAULT_STATE_PATH = ".crmsync/state.db"


class Section(BaseModel):
    """Every section is frozen and refuses keys it does not know."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class FileSource(Section):
    """A CSV, JSON (array of objects) or NDJSON file."""

    kind: Literal["csv", "json", "ndjson"] = Field(description="File format of the source.")
    path: Path = Field(description="Source file, relative to the pipeline file's folder.")
    encoding: str = Field(
        default="auto",
        description="Text encoding (utf-8, utf-8-sig, cp1252, latin-1, utf-16) or auto to detect.",
    )
    delimiter: str = Field(default="auto", description="CSV delimiter, or auto to sniff.")

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str) -> str:
        if value != "auto" and len(value.replace("\\t", "\t")) != 1:
            raise ValueError("must be one character (use \\t for tab) or auto")
        return value.replace("\\t", "\t")

    @property
    def label(self) -> str:
        return str(self.path)


def _http_root(value: str) -> str:
    """An http(s) root URL, without a trailing slash."""
    value = value.strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError(f"must be an http(s) URL, got {value!r}")
    return value


def _tenant_root(value: str) -> str:
    """A Rally tenant's root URL: also without /api/v1, which people paste from the docs."""
    return _http_root(value.strip().rstrip("/").removesuffix("/api/v1"))


def _secret_not_empty(value: SecretStr) -> SecretStr:
    if not value.get_secret_value().strip():
        raise ValueError("is empty")
    return value


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

    _http_url = field_validator("url")(_http_root)

    @property
    def label(self) -> str:
        return f"{self.url}/contacts.json"


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

    _http_url = field_validator("base_url")(_tenant_root)
    _not_empty = field_validator("api_key")(_secret_not_empty)

    @property
    def label(self) -> str:
        return f"{self.base_url}/api/v1/{self.object}"


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


LookupKind = Literal["domain", "email", "email_domain", "name", "source_id"]


class LookupKey(Section):
    """One way to find the referenced record: a kind of key and the column holding it."""

    kind: LookupKind = Field(description="domain, email, email_domain, name or source_id.")
    column: str = Field(description="Source column holding the key.")


class Lookup(Section):
    """A reference field (companyId, contactId) resolved to a Rally id through the id map."""

    object: Literal["companies", "contacts"] = Field(description="Object the id points at.")
    by: list[LookupKey] = Field(
        min_length=1, description="Keys tried in order; the first that resolves wins."
    )
    on_missing: Literal["fail", "warn", "null"] = Field(
        default="fail",
        description="A key that resolves to nothing: fail the row (stage resolve), load it "
        "with the field empty and a warning, or load it with the field empty.",
    )

    @field_validator("by", mode="before")
    @classmethod
    def _pairs(cls, value: Any) -> Any:
        """`by: [{domain: Website}, {name: Company}]` is short for kind/column objects."""
        if not isinstance(value, list):
            return value
        out = []
        for item in value:
            if isinstance(item, dict) and len(item) == 1 and "kind" not in item:
                ((kind, column),) = item.items()
                out.append({"kind": kind, "column": column})
            else:
                out.append(item)
        return out


TEMPLATE_FIELD = re.compile(r"\{([^{}]+)\}")


class FieldMapping(Section):
    """Where one Rally field's value comes from."""

    column: str | list[str] | None = Field(
        default=None,
        description="Source column (case, spaces ignored); a list: the first non-empty one.",
    )
    template: str | None = Field(
        default=None,
        description='Text with {column} placeholders, e.g. "{first_name} {middle_name}"; '
        "empty placeholders drop out.",
    )
    constant: str | int | float | bool | None = Field(
        default=None, description="The same value on every record."
    )
    default: str | int | float | bool | None = Field(
        default=None, description="Value used where the column is empty."
    )
    values: dict[str, str] | None = Field(
        default=None, description="Translate values (matched ignoring case), e.g. {'1': call}."
    )
    values_file: Path | None = Field(
        default=None,
        description="CSV of two columns (source value, Rally value) that translates values, "
        "e.g. Redmine user ids to Rally owner ids.",
    )
    unmatched: Literal["keep", "null"] = Field(
        default="keep",
        description="A value the translation does not list: keep it as is, or leave it empty.",
    )
    lookup: Lookup | None = Field(
        default=None, description="Resolve a Rally id from another object's key."
    )

    @model_validator(mode="after")
    def _one_origin(self) -> FieldMapping:
        origins = [x for x in (self.column, self.template, self.constant, self.lookup) if x]
        if len(origins) > 1:
            raise ValueError("give one of column, template, constant or lookup, not several")
        if not origins and self.default is None:
            raise ValueError("give a column, a template, a constant, a lookup or a default")
        if self.lookup is not None and self.default is not None:
            raise ValueError("a lookup takes no default (use on_missing: null)")
        if (self.values or self.values_file) and not (self.column or self.template):
            raise ValueError("values and values_file translate a column or a template")
        return self

    @property
    def columns(self) -> list[str]:
        """Every source column this field reads."""
        if isinstance(self.column, list):
            return list(self.column)
        if self.column:
            return [self.column]
        if self.template:
            return TEMPLATE_FIELD.findall(self.template)
        return []


def _mapping_shorthand(value: Any) -> Any:
    """`email: E-mail Address` is short for `email: {column: E-mail Address}`; a list of
    columns likewise."""
    if isinstance(value, str | list):
        return {"column": value}
    return value


class NormalizeConfig(Section):
    default_region: str | None = Field(
        default=None, description="Region for phone numbers written without +country, e.g. US."
    )
    phone_policy: Literal["keep", "fail"] = Field(
        default="keep",
        description="An unparseable phone: keep it as given with a warning, or fail the row.",
    )
    fold_gmail: bool = Field(
        default=False, description="Dedupe Gmail addresses ignoring dots and +tags."
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


class DestinationConfig(Section):
    base_url: str = Field(
        description="Tenant root, e.g. https://acme.rallycrm.io (without /api/v1)."
    )
    api_key: SecretStr = Field(description="Rally API key; use ${RALLY_API_KEY}, not a literal.")

    _http_url = field_validator("base_url")(_tenant_root)
    _not_empty = field_validator("api_key")(_secret_not_empty)


class LoadConfig(Section):
    mode: Literal["auto", "bulk", "upsert"] = Field(
        default="auto",
        description="auto: new records through bulk, known ones through upsert; bulk: "
        "POST /bulk batches only; upsert: PUT /upsert per record.",
    )
    batch_size: Annotated[int, Field(ge=1, le=MAX_BULK)] = Field(
        default=MAX_BULK, description="Records per bulk request (at most 100)."
    )
    concurrency: Annotated[int, Field(ge=1, le=64)] = Field(
        default=4, description="Requests in flight to start with; grows while the API keeps up."
    )
    max_concurrency: Annotated[int, Field(ge=1, le=64)] | None = Field(
        default=None,
        description="Most requests in flight (default: 16, or concurrency if larger); equal "
        "to concurrency for a fixed number.",
    )
    max_retries: Annotated[int, Field(ge=0, le=50)] = Field(
        default=8, description="Retries per request after the first attempt."
    )
    max_backoff_s: Annotated[float, Field(gt=0)] = Field(
        default=60.0, description="Longest single wait between retries."
    )
    connect_timeout_s: Annotated[float, Field(gt=0)] = Field(default=10.0)

    @model_validator(mode="after")
    def _cap_above_start(self) -> LoadConfig:
        if self.max_concurrency is not None and self.max_concurrency < self.concurrency:
            raise ValueError("max_concurrency must be at least concurrency")
        return self

    read_timeout_s: Annotated[float, Field(gt=0)] = Field(default=60.0)


class ReportConfig(Section):
    dir: Path = Field(
        default=Path(DEFAULT_REPORT_DIR),
        description="Folder for errors.csv, merged.csv and summary.json.",
    )


class StateConfig(Section):
    path: Path = Field(
        default=Path(DEFAULT_STATE_PATH),
        description="SQLite state database (runs, id map), relative to the pipeline file.",
    )


# Mapping targets that are not Rally fields but fill some: a full name split into first and
# last name by the normalizer where those are empty.
SPLIT_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "contacts": {"fullName": ("firstName", "lastName")},
}

STEP_KEYS = ("object", "source", "where", "mapping", "normalize", "dedupe", "load", "source_id")


class Step(Section):
    """One object loaded from one source; a pipeline runs its steps in order."""

    name: str = Field(description="Names the step in summaries and its report folder.")
    object: Literal["contacts", "companies", "activities"] = Field(
        description="Rally object the records become."
    )
    source: SourceConfig
    where: dict[str, str | list[str]] = Field(
        default_factory=dict,
        description="Only rows whose column equals the value (or one of the values), e.g. "
        "is_company: 'true'. Other rows belong to other steps and are not counted here.",
    )
    mapping: dict[str, FieldMapping] = Field(
        description="Rally field (camelCase) <- column, constant, default or lookup."
    )
    normalize: NormalizeConfig = NormalizeConfig()
    dedupe: DedupeConfig = DedupeConfig()
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
            return {key: _mapping_shorthand(item) for key, item in value.items()}
        return value

    @model_validator(mode="after")
    def _mapping_fits_object(self) -> Step:
        fields = wire_fields(self.rally_object)
        extra = SPLIT_FIELDS.get(self.object, {})
        for name in self.mapping:
            if name not in fields and name not in extra:
                choices = [*fields, *extra]
                raise ValueError(
                    f"mapping: {name!r} is not a Rally {self.object} field{_nearest(name, choices)}"
                )
        covered = {part for name, parts in extra.items() if name in self.mapping for part in parts}
        missing = [
            alias
            for alias, required in fields.items()
            if required and alias not in self.mapping and alias not in covered
        ]
        if missing:
            raise ValueError(
                f"mapping: required Rally {self.object} field(s) not mapped: {', '.join(missing)}"
            )
        if self.load.mode == "upsert" and not self.rally_object.has_upsert:
            raise ValueError(f"load.mode: Rally {self.object} have no upsert; use bulk")
        return self

    @property
    def rally_object(self) -> RallyObject:
        return OBJECTS[self.object]

    @property
    def lookups(self) -> dict[str, Lookup]:
        return {f: m.lookup for f, m in self.mapping.items() if m.lookup is not None}


class Pipeline(Section):
    """One pipeline file: a single step written at the top level, or `steps:`."""

    name: str = Field(description="Shown in summaries and reports.")
    steps: list[Step] = Field(min_length=1, description="Run in order; a failed start stops.")
    destination: DestinationConfig
    state: StateConfig = StateConfig()
    report: ReportConfig = ReportConfig()
    base_dir: Path = Field(default=Path("."), exclude=True, description="Set from the file path.")
    single_step: bool = Field(default=False, exclude=True, description="Written without steps:.")

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
        return self

    @property
    def step(self) -> Step:
        """The only step of a single-step pipeline."""
        return self.steps[0]

    def resolve(self, path: Path) -> Path:
        """A path from the file, made absolute against the pipeline file's folder."""
        return (path if path.is_absolute() else self.base_dir / path).resolve()


def wire_fields(obj: RallyObject) -> dict[str, bool]:
    """Wire name -> required, for the object's create model."""
    return {
        (info.alias or name): info.is_required() for name, info in obj.create.model_fields.items()
    }


def _nearest(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def interpolate(value: Any, *, path: str = "", env: dict[str, str] | None = None) -> Any:
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
    return [name for name in model.model_fields if name not in ("base_dir", "single_step")]


def _describe(error: dict[str, Any], data: Any) -> str:
    """One line for one pydantic error: its path, what is wrong, and the nearest valid key."""
    loc = [str(part) for part in error["loc"]]
    tagged = next((part for part in loc if part in SOURCE_MODELS), None)
    loc = [part for part in loc if part not in SOURCE_MODELS]  # union tags are not keys
    single = isinstance(data, dict) and "steps" not in data
    if single and loc[:2] == ["steps", "0"]:
        loc = loc[2:]
    where = ".".join(loc) or "(top level)"
    if error["type"] == "union_tag_invalid":
        tags = ", ".join(SOURCE_MODELS)
        return f"{where}.kind: {error['input'].get('kind')!r} is not one of {tags}"
    if error["type"] == "union_tag_not_found":
        return f"{where}.kind: required key is missing (one of {', '.join(SOURCE_MODELS)})"
    if error["type"] == "extra_forbidden" and tagged and loc[-2:-1] == ["source"]:
        choices = list(SOURCE_MODELS[tagged].model_fields)
        return f"{where}: unknown key{_nearest(loc[-1], choices)}"
    if error["type"] == "extra_forbidden":
        if single:
            choices = _keys_at(loc[:-1], Step) if loc[0] in STEP_KEYS else []
            if len(loc) == 1:
                choices = _keys_at([], Pipeline) + list(STEP_KEYS)
        else:
            choices = _keys_at(loc[:-1], Pipeline)
        choices = [c for c in choices if c != "steps"] if single else choices
        return f"{where}: unknown key{_nearest(loc[-1], choices)}"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "missing":
        return f"{where}: required key is missing"
    return f"{where}: {message}"


def load_pipeline(path: str | Path, *, env: dict[str, str] | None = None) -> Pipeline:
    """Read, interpolate and validate a pipeline file; every problem is a ConfigError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("pipeline file not found", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read pipeline file: {exc}", file=str(path)) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{line}not valid YAML: {problem}", file=str(path)) from None
    if not isinstance(data, dict):
        raise ConfigError("a pipeline file is a YAML mapping (key: value)", file=str(path))
    try:
        data = interpolate(data, env=env)
    except ConfigError as exc:
        raise ConfigError(str(exc), file=str(path)) from None
    data["base_dir"] = path.resolve().parent
    try:
        return Pipeline.model_validate(data)
    except ValidationError as exc:
        lines = [_describe(error, data) for error in exc.errors()]
        raise ConfigError(
            "invalid pipeline file:\n  " + "\n  ".join(lines), file=str(path)
        ) from None
