"""Export: a step's transformed rows written to its file instead of Rally (the deliver stage
of a file destination).

References keep the source's keys: an exported contact's companyId is the key its lookup
read (a source system's id, a domain, a name), not a Rally id, so the files stand on their
own and an import of them links the records by those keys again. The file holds the step's
source id column (under its own name) first, then the mapped Rally fields.

Every row that reaches this stage is `created` (written to the file), or `planned` in a dry
run, which writes nothing; a file that cannot be written fails them all at stage load.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from crmsync.config import Lookup, Step
from crmsync.load.files import write_atomically
from crmsync.report.changes import ChangeLog
from crmsync.report.files import payload_line
from crmsync.report.outcomes import IDENTITY, outcome_frame
from crmsync.report.wording import counted
from crmsync.run.artifacts import Delivered
from crmsync.run.files import FileDestination
from crmsync.run.ledger import OutcomeLedger
from crmsync.run.observer import RunObserver
from crmsync.run.stages.plan import SOURCE_ID_COLUMN, payload_columns
from crmsync.run.stages.resolve import raw_column
from crmsync.schema import RallyObject


def keep_source_keys(frame: pl.DataFrame, lookups: Mapping[str, Lookup]) -> pl.DataFrame:
    """Each reference field set to the first key its lookup was given, as the source wrote
    it (what `resolve` would have looked up in Rally)."""
    given = {
        field_name: [
            pl.when(pl.col(raw_column(field_name, index)) != "").then(
                pl.col(raw_column(field_name, index))
            )
            for index in range(len(lookup.by))
        ]
        for field_name, lookup in lookups.items()
    }
    return frame.with_columns(pl.coalesce(keys).alias(name) for name, keys in given.items())


def file_rows(frame: pl.DataFrame, obj: RallyObject, source_id: str | None) -> pl.DataFrame:
    """What the file holds: the source id under its column's name, then the Rally fields."""
    columns = [pl.col(name) for name in payload_columns(frame, obj)]
    if source_id and SOURCE_ID_COLUMN in frame.columns and source_id not in obj.wire_fields:
        columns.insert(0, pl.col(SOURCE_ID_COLUMN).alias(source_id))
    return frame.select(columns)


def export(
    step: Step,
    destination: FileDestination,
    frame: pl.DataFrame,
    *,
    ledger: OutcomeLedger,
    delivered: Delivered,
    observer: RunObserver,
    dry_run: bool,
    log: ChangeLog,
) -> None:
    """Write the step's rows to its file (or, in a dry run, say what would be written)."""
    rows = keep_source_keys(frame, step.lookups)
    table = file_rows(rows, step.rally_object, step.source_id)
    path = destination.path_for(step)
    records = counted(table.height, "record")
    if dry_run:
        ledger.record(outcome_frame(rows.select(IDENTITY), outcome="planned"))
        lines = [payload_line(record) for record in table.to_dicts()]
        log.add_payloads(pl.Series("json", lines, dtype=pl.String))
        observer.stage("export", f"{records} would be written to {path}")
        return
    try:
        write_atomically(table, path, destination.config.format)
    except OSError as exc:
        error = f"could not write {path}: {exc.strerror or exc}"
        ledger.record(
            outcome_frame(rows.select(IDENTITY), outcome="failed", stage="load", error=error)
        )
        observer.warning(error)
        return
    ledger.record(outcome_frame(rows.select(IDENTITY), outcome="created"))
    observer.stage("export", f"{records} written to {path}")
