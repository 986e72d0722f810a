"""One pipeline run, in the order of DESIGN.md's flow:
extract -> map -> normalize -> validate -> dedupe -> load -> report.

Every source row ends in exactly one outcome; `run_pipeline` builds one outcome frame that
each stage adds its rows to, and the summary is counted from it, so the counts add up by
construction rather than by bookkeeping.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from crmsync.config import FieldMapping, Pipeline, wire_fields
from crmsync.errors import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_ROWS_FAILED,
    TransientError,
    UnreachableError,
)
from crmsync.extract import Extracted, read_source
from crmsync.load import LoadResult, LoadSettings, RallyClient, RecordOutcome, load_records
from crmsync.report import RunSummary, outcome_frame, write_report
from crmsync.transform import NormalizeOptions, dedupe, normalize, validate
from crmsync.transform.mapping import IDENTITY_COLUMNS, apply_mapping, resolve_columns

NEWEST_COLUMN = "_newest"
INTERRUPTED_ERROR = (
    "interrupted before its outcome was known: it may or may not be in Rally; "
    "run again with load.mode upsert to settle it without duplicates"
)


class RunObserver:
    """What a run tells its caller as it goes; the CLI renders it, a library user may not."""

    def stage(self, name: str, detail: str) -> None:
        """A stage finished."""

    def load_started(self, records: int, batches: int) -> None:
        """Loading begins."""

    def load_progress(self, records_done: int, batches_done: int) -> None:
        """Some records got their outcome."""

    def load_finished(self) -> None:
        """Loading ended (also when interrupted)."""


@dataclass(frozen=True)
class RunOptions:
    dry_run: bool = False
    limit: int | None = None
    report_dir: Path | None = None


@dataclass
class RunResult:
    summary: RunSummary
    files: dict[str, Path]

    @property
    def exit_code(self) -> int:
        if self.summary.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_ROWS_FAILED if self.summary.failed else EXIT_OK


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


def _payload_columns(frame: pl.DataFrame, pipeline: Pipeline) -> list[str]:
    fields = wire_fields(pipeline.rally_object)
    return [name for name in frame.columns if name in fields]


def to_payloads(frame: pl.DataFrame, columns: Sequence[str]) -> list[tuple[int, dict[str, Any]]]:
    """(row, JSON-ready record) pairs; nulls are left out rather than sent as null."""
    rows = frame.select(["_row", *columns]).to_dicts()
    return [
        (row.pop("_row"), {key: value for key, value in row.items() if value is not None})
        for row in rows
    ]


def _load_settings(pipeline: Pipeline) -> LoadSettings:
    cfg = pipeline.load
    return LoadSettings(
        mode=cfg.mode,
        batch_size=cfg.batch_size,
        concurrency=cfg.concurrency,
        max_retries=cfg.max_retries,
        max_backoff_s=cfg.max_backoff_s,
        connect_timeout_s=cfg.connect_timeout_s,
        read_timeout_s=cfg.read_timeout_s,
    )


async def _load(
    pipeline: Pipeline,
    items: list[tuple[int, dict[str, Any]]],
    observer: RunObserver,
    done: list[RecordOutcome],
) -> LoadResult:
    settings = _load_settings(pipeline)
    destination = pipeline.destination
    async with RallyClient(
        destination.base_url, destination.api_key.get_secret_value(), settings=settings
    ) as client:
        try:
            await client.check_auth(pipeline.rally_object)
        except TransientError as exc:
            raise UnreachableError(
                f"cannot reach Rally at {destination.base_url} (nothing was sent): {exc}"
            ) from None
        result = await load_records(
            client,
            pipeline.rally_object,
            items,
            settings,
            on_progress=observer.load_progress,
            on_outcome=done.append,
        )
    return result


def _load_outcomes(outcomes: Sequence[RecordOutcome], source: str) -> pl.DataFrame:
    frame = pl.DataFrame(
        {
            "_row": [o.key for o in outcomes],
            "outcome": [o.status for o in outcomes],
            "error": [o.error for o in outcomes],
            "rally_id": [o.rally_id for o in outcomes],
        },
        schema={"_row": pl.Int64, "outcome": pl.String, "error": pl.String, "rally_id": pl.String},
    )
    frame = frame.with_columns(
        pl.lit(source).alias("_source"),
        pl.when(pl.col("outcome") == "failed").then(pl.lit("load")).alias("stage"),
    )
    return outcome_frame(frame)


def run_pipeline(
    pipeline: Pipeline, options: RunOptions = RunOptions(), observer: RunObserver | None = None
) -> RunResult:
    """Run one pipeline; raises CrmsyncError only when the run cannot start."""
    observer = observer or RunObserver()
    started = time.monotonic()
    source_path = pipeline.resolve(pipeline.source.path)
    summary = RunSummary(
        name=pipeline.name,
        object=pipeline.object,
        source=str(source_path),
        dry_run=options.dry_run,
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    report_dir = options.report_dir or pipeline.resolve(pipeline.report.dir)

    # Extract
    source_cfg = pipeline.source
    extracted = read_source(
        source_cfg.kind,
        source_path,
        encoding=None if source_cfg.encoding == "auto" else source_cfg.encoding,
        delimiter=None if source_cfg.delimiter == "auto" else source_cfg.delimiter,
    )
    frame, rejects = _limit(extracted, options.limit)
    columns = resolve_columns(pipeline.mapping, extracted.columns, source=str(source_path))
    newest_by = pipeline.dedupe.newest_by if pipeline.dedupe.keep == "newest" else None
    if newest_by is not None:
        columns.update(resolve_columns_for(newest_by, extracted.columns, str(source_path)))
    summary.rows_read = frame.height + rejects.height
    observer.stage("read", f"{summary.rows_read} rows from {source_path.name}")
    parts = [outcome_frame(rejects, outcome="failed", stage="read")]

    # Map, normalize, validate
    mapped = apply_mapping(frame, pipeline.mapping, columns)
    if newest_by is not None:
        mapped = mapped.with_columns(frame[columns[NEWEST_COLUMN]].alias(NEWEST_COLUMN))
    norm = pipeline.normalize
    normalized, issues = normalize(
        mapped,
        pipeline.rally_object,
        NormalizeOptions(
            default_region=norm.default_region,
            phone_policy=norm.phone_policy,
            fold_gmail=norm.fold_gmail,
        ),
    )
    issues = pl.concat([issues, validate(normalized, pipeline.rally_object)], how="vertical")
    errors = issues.filter(pl.col("severity") == "error")
    warnings = issues.filter(pl.col("severity") == "warning")
    stage = pl.when(pl.col("error").is_not_null()).then(pl.lit("validate"))
    parts.append(outcome_frame(errors.with_columns(stage.alias("stage")), outcome="failed"))
    valid = normalized.join(
        errors.select(IDENTITY_COLUMNS).unique(),
        on=list(IDENTITY_COLUMNS),
        how="anti",
        maintain_order="left",
    )
    observer.stage("validate", f"{normalized.height - valid.height} rows failed validation")

    # Dedupe
    if pipeline.dedupe.enabled:
        deduped = dedupe(
            valid,
            keep=pipeline.dedupe.keep,
            newest_by=NEWEST_COLUMN if newest_by else None,
            missing_key=pipeline.dedupe.missing_key,
        )
        kept = deduped.kept
        key_name = pipeline.rally_object.match_key or "key"
        merged = deduped.merged.with_columns(
            pl.col("merged_into_row"),
            pl.lit(key_name).alias("field"),
            pl.format(
                "duplicate of row {} by {}", pl.col("merged_into_row"), pl.col("_match_key")
            ).alias("error"),
        )
        parts.append(outcome_frame(merged, outcome="merged"))
        missing = deduped.missing_key.with_columns(
            pl.lit(key_name).alias("field"),
            pl.lit(f"no {key_name} to dedupe on").alias("error"),
        )
        parts.append(outcome_frame(missing, outcome="failed", stage="dedupe"))
        observer.stage("dedupe", f"{deduped.merged.height} duplicates merged")
    else:
        kept = valid

    # Load
    items = to_payloads(kept, _payload_columns(kept, pipeline))
    payloads: list[dict[str, Any]] | None = None
    if options.dry_run:
        payloads = [payload for _, payload in items]
        parts.append(outcome_frame(kept, outcome="planned"))
    else:
        batches = math.ceil(len(items) / pipeline.load.batch_size) if items else 0
        observer.stage("connect", f"Rally at {pipeline.destination.base_url}")
        observer.load_started(len(items), batches)
        done: list[RecordOutcome] = []
        try:
            result = asyncio.run(_load(pipeline, items, observer, done)) if items else None
        except KeyboardInterrupt:
            result = None
            summary.interrupted = True
        finally:
            observer.load_finished()
        if result is not None:
            summary.requests = result.requests
            summary.retries = result.retries
            summary.rate_limited = result.rate_limited
        loaded = _load_outcomes(done, str(source_path))
        parts.append(loaded)
        unknown = kept.join(loaded.select(IDENTITY_COLUMNS), on=list(IDENTITY_COLUMNS), how="anti")
        parts.append(
            outcome_frame(unknown, outcome="failed", stage="load", error=INTERRUPTED_ERROR)
        )

    # Report
    outcomes = pl.concat(parts, how="vertical")
    summary.count(outcomes)
    summary.warnings = warnings.select(IDENTITY_COLUMNS).unique().height
    summary.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
    summary.duration_s = round(time.monotonic() - started, 3)
    files = write_report(
        report_dir,
        outcomes=outcomes,
        warnings=warnings,
        source_rows=frame,
        source_columns=list(extracted.columns),
        rejects=rejects,
        summary=summary,
        payloads=payloads,
    )
    return RunResult(summary=summary, files=files)


def resolve_columns_for(column: str, available: Sequence[str], source: str) -> dict[str, str]:
    """The source column behind dedupe.newest_by, matched like mapped columns."""
    return resolve_columns({NEWEST_COLUMN: FieldMapping(column=column)}, available, source=source)
