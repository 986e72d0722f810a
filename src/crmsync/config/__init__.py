"""Pipeline files: YAML validated once, at the edge, into frozen pydantic models.

models    Pipeline, Step and their sections; each converts itself into library settings
sources   the source kinds a step reads from
destinations  where a pipeline writes: a Rally tenant, or files
mapping   FieldMapping (column, template, constant, default, translation) and Lookup
files     reading a file: YAML, ${VAR} and ${VAR:-default} from the environment (env)
tenants   one file for several Rally tenants: Pipeline.for_tenant, tenants from the environment
messages  a validation error as one line naming the key's path and the nearest valid key

Unknown keys are refused; API keys are SecretStr, never printed. Relative paths are resolved
against the pipeline file's folder, so a cron job's working directory does not matter.
"""

from crmsync.config.destinations import DestinationConfig, FileDestinationConfig, TenantConfig
from crmsync.config.env import interpolate
from crmsync.config.files import load_pipeline, read_mapping
from crmsync.config.mapping import FieldMapping, Lookup, LookupKey, LookupKind
from crmsync.config.models import (
    DedupeConfig,
    LoadConfig,
    NormalizeConfig,
    Pipeline,
    ReportConfig,
    Step,
)
from crmsync.config.sources import (
    SOURCE_MODELS,
    FileSource,
    RallyApiSource,
    RedmineApiSource,
    RedmineExportSource,
    SourceConfig,
)
from crmsync.config.state import StateConfig
from crmsync.config.sync import SyncConfig

__all__ = [
    "SOURCE_MODELS",
    "DedupeConfig",
    "DestinationConfig",
    "FieldMapping",
    "FileDestinationConfig",
    "FileSource",
    "LoadConfig",
    "Lookup",
    "LookupKey",
    "LookupKind",
    "NormalizeConfig",
    "Pipeline",
    "RallyApiSource",
    "RedmineApiSource",
    "RedmineExportSource",
    "ReportConfig",
    "SourceConfig",
    "StateConfig",
    "Step",
    "SyncConfig",
    "TenantConfig",
    "interpolate",
    "load_pipeline",
    "read_mapping",
]
