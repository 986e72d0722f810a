"""Run history for ``crmsync runs`` and ``crmsync report``, read back from the state database.

The state database is found through the pipeline file, reading only its ``name``,
``state.path`` and the names of its ``tenants``: looking at history needs no destination, so it
works where the ``${RALLY_API_KEY}``-style variables the run needs are not set (a shell, a
monitoring check). A tenant's runs are those of ``<name>@<tenant>``.
Reading never creates a state database: a pipeline that never ran simply has no history.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from crmsync.config import StateConfig, interpolate, read_mapping
from crmsync.config.tenants import TENANTS_KEY, check_tenant_name, listed, tenant_pipeline_name
from crmsync.errors import ConfigError
from crmsync.report.summary import RunSummary
from crmsync.state import RunRecord
from crmsync.state.location import StateLocation

DEFAULT_LIMIT = 20
# Per-outcome counts of a run, summed over its steps: (column name, RunSummary field).
COUNTS = (
    ("read", "rows_read"),
    ("created", "created"),
    ("updated", "updated"),
    ("unchanged", "unchanged"),
    ("skipped", "skipped"),
    ("merged", "merged"),
    ("failed", "failed"),
    ("planned", "planned"),  # a dry run's rows it would send
    ("deleted", "deleted"),  # an undo's deleted records (its restored ones are `updated`)
)
_SUMMARY_FIELDS = {f.name for f in dataclasses.fields(RunSummary)}


@dataclass(frozen=True)
class PipelineState:
    """Which pipeline a file names (one tenant's, when one was chosen), where its state
    database is, and the tenants whose runs are the file's when none was chosen."""

    pipeline: str
    state: StateLocation
    tenants: tuple[str, ...] = ()

    @property
    def pipelines(self) -> list[str]:
        """The names the file's runs are kept under."""
        return [tenant_pipeline_name(self.pipeline, t) for t in self.tenants] or [self.pipeline]

    @property
    def described(self) -> str:
        """The pipeline as a message names it."""
        if self.tenants:
            return f"{self.pipeline}'s tenants ({listed(self.tenants)})"
        return self.pipeline


def pipeline_state(pipeline_file: str | Path, *, tenant: str | None = None) -> PipelineState:
    """Read a pipeline file's ``name`` and ``state.path`` (relative to the file's folder),
    and its tenants' names; with `tenant`, that tenant's pipeline (one the file declares, or
    from the environment: --destination-env ACME is tenant acme)."""
    path = Path(pipeline_file)
    data = read_mapping(path)
    try:
        name = interpolate(data.get("name"), path="name")
        tenants = _tenant_names(data.get(TENANTS_KEY), tenant)
        state = StateConfig.model_validate(interpolate(data.get("state") or {}, path="state"))
    except ConfigError as exc:
        raise ConfigError(str(exc), file=str(path)) from None
    except ValidationError as exc:
        raise ConfigError(f"state: {exc.errors()[0]['msg']}", file=str(path)) from None
    if not isinstance(name, str) or not name:
        raise ConfigError("name: required key is missing", file=str(path))
    if tenant is not None:
        name = tenant_pipeline_name(name, tenant)
    location = state.location(path.resolve().parent)
    return PipelineState(pipeline=name, state=location, tenants=tenants)


def _tenant_names(declared: Any, tenant: str | None) -> tuple[str, ...]:
    """The tenants whose runs are the file's: none when one was chosen (checked here)."""
    if tenant is not None:
        check_tenant_name(tenant, path="--tenant")
        return ()
    return tuple(str(name) for name in declared) if isinstance(declared, dict) else ()


def list_runs(where: PipelineState, *, limit: int = DEFAULT_LIMIT) -> list[RunRecord]:
    """The pipeline's latest runs (or its tenants'), newest first (none if it never ran)."""
    if not where.state.exists():
        return []
    with where.state.open() as state:
        found = [r for name in where.pipelines for r in state.runs.latest(name, limit=limit)]
    return sorted(found, key=lambda record: record.id, reverse=True)[:limit]


def find_run(where: PipelineState, run_id: int) -> RunRecord | None:
    """One run of this pipeline, or None if the state database has no such run."""
    if not where.state.exists():
        return None
    with where.state.open() as state:
        return state.runs.get(run_id)


def counts(record: RunRecord) -> dict[str, int]:
    """Per-outcome counts summed over the steps that recorded a summary."""
    return {
        column: sum(int(step.get(field, 0) or 0) for step in record.steps)
        for column, field in COUNTS
    }


def run_row(record: RunRecord) -> dict[str, Any]:
    """A run as one flat record: what ``crmsync runs`` shows, and its ``--json`` form."""
    return {
        "run_id": record.id,
        "pipeline": record.pipeline,
        "started_at": record.started_at,
        "finished_at": record.finished_at,
        "duration_s": record.duration_s,
        "status": record.status,
        "dry_run": record.dry_run,
        **counts(record),
        "report_dir": record.report_dir,
        "error": record.summary.get("error"),
        "undo_of": record.summary.get("undo_of"),
        "broken": [b["message"] for b in record.broken or []],
    }


def step_summaries(record: RunRecord) -> list[RunSummary]:
    """The stored step summaries as RunSummary objects (keys this version does not know, from
    a newer or older crmsync, are left out; missing ones take their defaults)."""
    found = []
    for step in record.steps:
        known = {key: value for key, value in step.items() if key in _SUMMARY_FIELDS}
        known.setdefault("name", step.get("step", ""))
        known.setdefault("object", "")
        known.setdefault("source", "")
        known.setdefault("dry_run", record.dry_run)
        known.setdefault("started_at", "")
        found.append(RunSummary(**known))
    return found
