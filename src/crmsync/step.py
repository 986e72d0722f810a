"""One step of a pipeline, in the order of DESIGN.md's flow:
extract -> map -> normalize -> validate -> dedupe -> resolve -> load -> report.

Every source row ends in exactly one outcome: each stage adds its rows to one outcome frame,
and the summary is counted from it, so the counts add up by construction.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from crmsync.api import RallyClient
from crmsync.config import (
    FileSource,
    Pipeline,
    RallyApiSource,
    RedmineApiSource,
    RedmineExportSource,
    SourceConfig,
    Step,
)
from crmsync.delivery import (
    SOURCE_ID_COLUMN,
    Delivery,
    identities,
    load_settings,
    plan_step,
    to_payloads,
)
from crmsync.errors import TransientError, UnreachableError
from crmsync.extract import Extracted, read_source
from crmsync.extract.rally import read_rally_api
from crmsync.extract.redmine import read_redmine_api, read_redmine_export
from crmsync.extract.redmine.derived import with_derived_columns
from crmsync.load import RecordOutcome
from crmsync.plan import ACTION, KNOWN_ID
from crmsync.references import (
    LISTED_FIELD,
    IdMaps,
    key_columns,
    lookup_sources,
    needed_keys,
    normalize_key,
    resolve,
)
from crmsync.report import RunSummary, outcome_frame, write_report
from crmsync.schema import OBJECTS
from crmsync.transform import NormalizeOptions, dedupe, normalize, validate
from crmsync.transform.mapping import (
    IDENTITY_COLUMNS,
    apply_mapping,
    resolve_columns,
)

if TYPE_CHECKING:
    from crmsync.pipeline import RunObserver, RunOptions
    from crmsync.state import StateDB

NEWEST_COLUMN = "_newest"
INTERRUPTED_ERROR = (
    "interrupted before its outcome was known: it may or may not be in Rally; "
    "run again to settle it (records Rally acknowledged are not sent twice)"
)
WATERMARK_OVERLAP = timedelta(minutes=5)
API_TIME = "%Y-%m-%dT%H:%M:%SZ"  # updatedSince / updated_on>= as both APIs take it


@dataclass
class RunContext:
    """What the steps of one run share: options, the state DB, the id maps learned so far."""

    pipeline: Pipeline
    options: RunOptions
    observer: RunObserver
    state: StateDB
    run_id: int
    maps: IdMaps = field(default_factory=IdMaps)
    listed: set[str] = field(default_factory=set)  # objects whose Rally list was read
    sources: dict[tuple[Any, ...], Extracted] = field(default_factory=dict)  # API reads
    # Set when the last run of this pipeline did not finish: keyless records it may have
    # created without recording are looked for in Rally from this time on.
    resume_since: datetime | None = None

    def scoped(self, obj: str) -> str:
        """The id map's name for `obj` in this destination: ids learned while rehearsing
        against a sandbox must never make a production run skip a record."""
        return f"{destination_scope(self.pipeline)}/{obj}"


def destination_scope(pipeline: Pipeline) -> str:
    """Base URL plus a short hash of the key (a tenant); the key itself is never stored."""
    destination = pipeline.destination
    digest = hashlib.sha256(destination.api_key.get_secret_value().encode()).hexdigest()[:12]
    return f"{destination.base_url}#{digest}"


@dataclass
class StepResult:
    summary: RunSummary
    files: dict[str, Path]


def _limit(extracted: Extracted, limit: int | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The first `limit` records of the file, counting unparseable ones too."""
    frame, rejects = extracted.frame, extracted.rejects
    if limit is None:
        return frame, rejects
    rows = pl.concat([frame.select("_row"), rejects.select("_row")]).sort("_row")
    if rows.height <= limit:
        return frame, rejects
    last = rows["_row"][limit - 1] if limit > 0 else 0
    return frame.filter(pl.col("_row") <= last), rejects.filter(pl.col("_row") <= last)


def _outcomes_frame(outcomes: Sequence[RecordOutcome], rows: pl.DataFrame) -> pl.DataFrame:
    """Load outcomes as outcome rows; `rows` (_source, _row) gives each record's source."""
    frame = pl.DataFrame(
        {
            "_row": [o.key for o in outcomes],
            "outcome": [o.status for o in outcomes],
            "error": [o.error for o in outcomes],
            "rally_id": [o.rally_id for o in outcomes],
        },
        schema={"_row": pl.Int64, "outcome": pl.String, "error": pl.String, "rally_id": pl.String},
    )
    frame = frame.join(rows.select(IDENTITY_COLUMNS), on="_row", how="left").with_columns(
        pl.when(pl.col("outcome") == "failed").then(pl.lit("load")).alias("stage"),
    )
    return outcome_frame(frame)


def _watermark_column(cfg: SourceConfig) -> str | None:
    """The update-time column an API source is read incrementally by, or None."""
    if isinstance(cfg, RallyApiSource):
        return "updatedAt"
    if isinstance(cfg, RedmineApiSource) and cfg.entity == "contacts":
        return "updated_on"
    return None


def _derived(extracted: Extracted) -> Extracted:
    """A Redmine frame with the columns Rally mappings need (second phone, custom fields)."""
    frame = with_derived_columns(extracted.frame)
    added = tuple(c for c in frame.columns if c not in extracted.frame.columns)
    return dataclasses.replace(extracted, frame=frame, columns=extracted.columns + added)


class StepRunner:
    """Runs one step; `run()` returns its summary and report files."""

    def __init__(self, ctx: RunContext, step: Step, report_dir: Path) -> None:
        self.ctx = ctx
        self.step = step
        self.obj = step.rally_object
        self.report_dir = report_dir
        source = step.source
        self.source_path = (
            ctx.pipeline.resolve(source.path) if hasattr(source, "path") else Path(source.label)
        )
        self.parts: list[pl.DataFrame] = []
        self.warnings = pl.DataFrame()
        self.delivery: Delivery | None = None
        self.summary = RunSummary(
            name=step.name,
            object=step.object,
            source=str(self.source_path) if hasattr(source, "path") else source.label,
            dry_run=ctx.options.dry_run,
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )

    # -- local stages ------------------------------------------------------------------------

    def _read(self) -> Extracted:
        """The step's source as a frame; an API walk is shared by the steps that read it."""
        cfg = self.step.source
        if isinstance(cfg, FileSource):
            return read_source(
                cfg.kind,
                self.source_path,
                encoding=None if cfg.encoding == "auto" else cfg.encoding,
                delimiter=None if cfg.delimiter == "auto" else cfg.delimiter,
            )
        if isinstance(cfg, RedmineExportSource):
            return _derived(
                read_redmine_export(
                    self.source_path,
                    entity=cfg.entity,
                    format=cfg.format,
                    encoding=None if cfg.encoding == "auto" else cfg.encoding,
                )
            )
        secret = cfg.api_key.get_secret_value()
        if isinstance(cfg, RallyApiSource):
            return self._read_api(
                cfg,
                f"Rally {cfg.object}",
                cfg.base_url,
                lambda since: read_rally_api(
                    cfg.base_url,
                    secret,
                    cfg.object,
                    updated_since=since,
                    settings=load_settings(self.step, "bulk"),
                ),
            )
        return self._read_api(
            cfg,
            f"Redmine CRM {cfg.entity}",
            cfg.url,
            lambda since: _derived(
                read_redmine_api(
                    cfg.url,
                    secret,
                    entity=cfg.entity,
                    filters=cfg.filters,
                    page_size=cfg.page_size,
                    updated_since=f"{since:{API_TIME}}" if since else None,
                )
            ),
        )

    def _read_api(
        self,
        cfg: RallyApiSource | RedmineApiSource,
        what: str,
        where: str,
        read: Callable[[datetime | None], Extracted],
    ) -> Extracted:
        """An API source from its watermark on, walked once per run however many steps read
        it with the same settings."""
        since = self._watermark_start(cfg)
        key = (cfg.model_dump_json(), since)
        if key not in self.ctx.sources:
            newer = f" updated since {since:{API_TIME}}" if since else ""
            self.ctx.observer.stage("extract", f"reading {what}{newer} from {where}")
            self.ctx.sources[key] = read(since)
        return self.ctx.sources[key]

    def _watermark_start(self, cfg: SourceConfig) -> datetime | None:
        """Where an incremental read starts: the newest update time the last complete run
        saw, minus an overlap for clock skew. Redmine notes are always read whole: a new
        note need not touch its contact's updated_on."""
        if _watermark_column(cfg) is None or self.ctx.options.full:
            return None
        mark = self.ctx.state.get_watermark(self._watermark_step, cfg.label)
        if mark is None:
            return None
        start = datetime.fromisoformat(mark.replace("Z", "+00:00")) - WATERMARK_OVERLAP
        return start.astimezone(UTC)

    @property
    def _watermark_step(self) -> str:
        return self.ctx.scoped(f"step:{self.step.name}")

    def _advance_watermark(self, extracted: Extracted) -> None:
        """After a complete run, remember the newest updated_on seen (API sources only)."""
        cfg = self.step.source
        column = _watermark_column(cfg)
        if column is None or column not in extracted.frame.columns or extracted.frame.is_empty():
            return
        newest = extracted.frame[column].drop_nulls().max()
        previous = self.ctx.state.get_watermark(self._watermark_step, cfg.label)
        if newest and (previous is None or str(newest) > previous):
            self.ctx.state.set_watermark(self._watermark_step, cfg.label, str(newest))

    def _where(self, extracted: Extracted, frame: pl.DataFrame) -> pl.DataFrame:
        """Only the rows this step is for (e.g. is_company: 'true'), matched ignoring case."""
        if not self.step.where:
            return frame
        wanted = {
            name: [str(v).casefold() for v in (value if isinstance(value, list) else [value])]
            for name, value in self.step.where.items()
        }
        specs = {name: [name] for name in wanted}
        actual = resolve_columns(specs, extracted.columns, source=self.summary.source)
        keep = [
            pl.col(actual[name][0]).cast(pl.String).str.to_lowercase().is_in(values)
            for name, values in wanted.items()
        ]
        return frame.filter(pl.all_horizontal(keep).fill_null(False))

    def _extract(self) -> tuple[pl.DataFrame, pl.DataFrame, Extracted, dict[str, list[str]]]:
        extracted = self._read()
        frame, rejects = _limit(extracted, self.ctx.options.limit)
        frame = self._where(extracted, frame)
        extra = dict(lookup_sources(self.step))
        if self.step.dedupe.keep == "newest" and self.step.dedupe.newest_by:
            extra[NEWEST_COLUMN] = self.step.dedupe.newest_by
        if self.step.source_id:
            extra[SOURCE_ID_COLUMN] = self.step.source_id
        wanted = {
            **{name: spec.columns for name, spec in self.step.mapping.items()},
            **{k: [v] for k, v in extra.items()},
        }
        columns = resolve_columns(wanted, extracted.columns, source=self.summary.source)
        return frame, rejects, extracted, columns

    def _transform(self, frame: pl.DataFrame, columns: dict[str, str]) -> pl.DataFrame:
        """Map, normalize, validate, dedupe; failures and merges go to the outcome parts."""
        step = self.step
        rules = {name: spec.rule(self.ctx.pipeline.base_dir) for name, spec in step.mapping.items()}
        first = {name: found[0] for name, found in columns.items()}
        mapped = apply_mapping(frame, rules, columns).with_columns(key_columns(frame, step, first))
        if NEWEST_COLUMN in columns:
            mapped = mapped.with_columns(frame[first[NEWEST_COLUMN]].alias(NEWEST_COLUMN))
        if SOURCE_ID_COLUMN in columns:
            source_id = normalize_key(frame[first[SOURCE_ID_COLUMN]], "source_id")
            mapped = mapped.with_columns(source_id.alias(SOURCE_ID_COLUMN))
        norm = step.normalize
        normalized, issues = normalize(
            mapped,
            self.obj,
            NormalizeOptions(
                default_region=norm.default_region,
                phone_policy=norm.phone_policy,
                fold_gmail=norm.fold_gmail,
            ),
        )
        issues = pl.concat([issues, validate(normalized, self.obj)], how="vertical")
        errors = issues.filter(pl.col("severity") == "error")
        self.warnings = issues.filter(pl.col("severity") == "warning")
        self.parts.append(outcome_frame(errors, outcome="failed", stage="validate"))
        failed_rows = errors.select(IDENTITY_COLUMNS).unique()
        self.ctx.observer.stage("validate", f"{failed_rows.height} rows failed")
        if not step.dedupe.enabled or self.obj.match_key is None:
            # activities have no natural key to dedupe on
            return normalized.join(
                failed_rows, on=list(IDENTITY_COLUMNS), how="anti", maintain_order="left"
            )
        deduped = dedupe(
            normalized,
            keep=step.dedupe.keep,
            newest_by=NEWEST_COLUMN if NEWEST_COLUMN in columns else None,
            missing_key=step.dedupe.missing_key,
            exclude=failed_rows,  # leaves failed rows out without copying the frame
        )
        key_name = self.obj.match_key or "key"
        merged = deduped.merged.with_columns(
            pl.lit(key_name).alias("field"),
            pl.format(
                "duplicate of row {} by {}", pl.col("merged_into_row"), pl.col("_match_key")
            ).alias("error"),
        )
        self.parts.append(outcome_frame(merged, outcome="merged"))
        missing = deduped.missing_key.with_columns(
            pl.lit(key_name).alias("field"), pl.lit(f"no {key_name} to dedupe on").alias("error")
        )
        self.parts.append(outcome_frame(missing, outcome="failed", stage="dedupe"))
        self.ctx.observer.stage("dedupe", f"{deduped.merged.height} duplicates merged")
        return deduped.kept

    # -- references --------------------------------------------------------------------------

    async def _fill_maps(self, client: RallyClient | None, frame: pl.DataFrame) -> None:
        """Put every key this step looks up into the id maps, if it exists anywhere."""
        for (obj, kind), keys in needed_keys(frame, self.step).items():
            known = self.ctx.maps.get(obj, kind)
            missing = [k for k in keys if k not in known]
            if missing:
                known.update(self.ctx.state.get_ids(self.ctx.scoped(obj), kind, missing))
                missing = [k for k in keys if k not in known]
            if missing and (obj, kind) in LISTED_FIELD and client and obj not in self.ctx.listed:
                await self._read_rally_index(client, obj)

    async def _read_rally_index(self, client: RallyClient, obj: str) -> None:
        """Learn the keys of every record Rally already has (list with fields=id + keys)."""
        fields = sorted({f for (o, _), f in LISTED_FIELD.items() if o == obj})
        rows: dict[str, list[Any]] = {"id": [], **{f: [] for f in fields}}
        async for record in client.iter_records(OBJECTS[obj], fields=["id", *fields]):
            for name in rows:
                value = record.get(name)
                rows[name].append(None if value is None else str(value))
        self.ctx.listed.add(obj)
        frame = pl.DataFrame(rows, schema=dict.fromkeys(rows, pl.String))
        for (o, kind), listed_field in LISTED_FIELD.items():
            if o != obj:
                continue
            keys = normalize_key(frame[listed_field], kind)
            pairs = [(k, i) for k, i in zip(keys, frame["id"], strict=True) if k and i]
            self.ctx.maps.get(obj, kind).update(dict(pairs))
            if not self.ctx.options.dry_run:
                self.ctx.state.put_ids(self.ctx.scoped(obj), kind, pairs, run_id=self.ctx.run_id)
        self.ctx.observer.stage("lookup", f"{frame.height} {obj} already in Rally")

    def _resolve(self, frame: pl.DataFrame) -> pl.DataFrame:
        if not self.step.lookups:
            return frame
        frame, failures, warnings = resolve(frame, self.step, self.ctx.maps)
        self.parts.append(outcome_frame(failures, outcome="failed", stage="resolve"))
        if warnings.height:
            warned = warnings.with_columns(pl.lit("warning").alias("severity"))
            frames = [self.warnings, warned] if self.warnings.height else [warned]
            self.warnings = pl.concat(frames, how="diagonal_relaxed")
        self.ctx.observer.stage("resolve", f"{failures.height} references not found")
        return frame.join(
            failures.select(IDENTITY_COLUMNS),
            on=list(IDENTITY_COLUMNS),
            how="anti",
            maintain_order="left",
        )

    # -- identity of records across runs -----------------------------------------------------

    async def _remote(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Everything that talks to Rally: lookups, then the load. Returns the resolved frame."""
        destination = self.ctx.pipeline.destination
        needs_rally = not self.ctx.options.dry_run or bool(self.step.lookups)
        if not needs_rally:
            await self._fill_maps(None, frame)
            return self._resolve(frame)
        async with RallyClient(
            destination.base_url,
            destination.api_key.get_secret_value(),
            settings=load_settings(self.step, "bulk"),
        ) as client:
            try:
                await client.check_auth(self.obj)
            except TransientError as exc:
                raise UnreachableError(
                    f"cannot reach Rally at {destination.base_url} (nothing was sent): {exc}"
                ) from None
            await self._fill_maps(client, frame)
            frame = self._resolve(frame)
            if self.ctx.options.dry_run:
                return frame
            delivery = Delivery(
                self.ctx, self.step, client, self.summary, self._payload_columns(frame)
            )
            self.delivery = delivery
            self.ctx.observer.stage("connect", f"Rally at {destination.base_url}")

            def started(records: int, batches: int) -> None:
                self.ctx.observer.stage(
                    "plan", f"{frame.height - records} unchanged, {records} to send"
                )
                self.ctx.observer.load_started(records, batches)

            try:
                await delivery.run(frame, started)
            finally:
                self.ctx.observer.load_finished()
        return frame

    def _payload_columns(self, frame: pl.DataFrame) -> list[str]:
        fields = self.obj.wire_fields
        return [name for name in frame.columns if name in fields]

    def _plan_dry_run(self, frame: pl.DataFrame) -> list[dict[str, Any]]:
        """What would be sent (new and changed records); later steps of the dry run resolve
        against these records."""
        columns = self._payload_columns(frame)
        planned = plan_step(self.ctx, self.step, frame, columns)
        todo = planned.filter(pl.col(ACTION) != "unchanged")
        for kind, by_row in identities(todo, self.obj.name, self.obj.match_key).items():
            placeholder = {key: f"(new {self.obj.name} row {row})" for row, key in by_row.items()}
            self.ctx.maps.get(self.obj.name, kind).update(placeholder)
        same = planned.filter(pl.col(ACTION) == "unchanged").rename({KNOWN_ID: "rally_id"})
        self.parts.append(outcome_frame(same, outcome="unchanged"))
        self.parts.append(outcome_frame(todo, outcome="planned"))
        return [payload for _, payload in to_payloads(todo, columns)]

    # -- the step ----------------------------------------------------------------------------

    def run(self) -> StepResult:
        started = time.monotonic()
        frame, rejects, extracted, columns = self._extract()
        self.summary.rows_read = frame.height + rejects.height
        self.ctx.observer.stage(
            "read", f"{self.summary.rows_read} rows from {self.source_path.name}"
        )
        self.parts.append(outcome_frame(rejects, outcome="failed", stage="read"))
        kept = self._transform(frame, columns)

        payloads: list[dict[str, Any]] | None = None
        try:
            kept = asyncio.run(self._remote(kept))
        except KeyboardInterrupt:
            self.summary.interrupted = True
        if self.ctx.options.dry_run and not self.summary.interrupted:
            payloads = self._plan_dry_run(kept)
        elif not self.ctx.options.dry_run:
            done = self.delivery.outcomes if self.delivery else []
            loaded = _outcomes_frame(done, kept)
            self.parts.append(loaded)
            unknown = kept.join(
                loaded.select(IDENTITY_COLUMNS), on=list(IDENTITY_COLUMNS), how="anti"
            )
            self.parts.append(
                outcome_frame(unknown, outcome="failed", stage="load", error=INTERRUPTED_ERROR)
            )

        outcomes = pl.concat(self.parts, how="vertical")
        self.summary.count(outcomes)
        retry_later = self.summary.failed_by_stage.get(
            "load", 0
        ) + self.summary.failed_by_stage.get("resolve", 0)
        if not (self.ctx.options.dry_run or self.summary.interrupted or retry_later):
            # rows that failed to load or resolve must be read again next time
            self._advance_watermark(extracted)
        if self.warnings.height:
            self.summary.warnings = self.warnings.select(IDENTITY_COLUMNS).unique().height
        self.summary.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
        self.summary.duration_s = round(time.monotonic() - started, 3)
        files = write_report(
            self.report_dir,
            outcomes=outcomes,
            warnings=self.warnings if self.warnings.height else _empty_warnings(),
            source_rows=frame,
            source_columns=list(extracted.columns),
            rejects=rejects,
            summary=self.summary,
            payloads=payloads,
        )
        return StepResult(summary=self.summary, files=files)


def _empty_warnings() -> pl.DataFrame:
    return pl.DataFrame(
        schema={"_source": pl.String, "_row": pl.Int64, "field": pl.String, "error": pl.String}
    )
