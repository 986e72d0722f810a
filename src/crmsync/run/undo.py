"""Undoing a run: what it created is deleted, what it updated gets its values from before the
run back, except what a person changed since, which is left alone and reported.

An undo is a run of its own: it holds the pipeline's lock, is recorded (its summary says
which run it undid), writes undo.csv and summary.json, and marks each journal entry as it
settles it, so an undo killed half-way finishes when run again. Records are undone in
dependency order (activities before the contacts and companies they point at), each object's
writes newest first. It refuses what it cannot undo: a dry run, a run that wrote nothing, an
undo, and (without `force`) a run whose records a later run wrote again.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from crmsync.api import ClientSettings, RallyClient
from crmsync.config import FileDestinationConfig, Pipeline
from crmsync.errors import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_ROWS_FAILED,
    ConfigError,
    CrmsyncError,
    RequestRefused,
)
from crmsync.report.summary import RunSummary
from crmsync.run.destination import Destination
from crmsync.run.merge import same
from crmsync.run.mirror import Mirror
from crmsync.run.observer import RunObserver
from crmsync.run.pipeline import DRY_RUN_FOLDER
from crmsync.run.undo_report import UNDO_ORDER, Settled, undo_summaries, write_report
from crmsync.schema import OBJECTS, RallyObject
from crmsync.schema.fields import parse_timestamp
from crmsync.state import StateDB, StepState
from crmsync.state.journal import Entry
from crmsync.state.runs import FAILED, INTERRUPTED, PARTIAL, SUCCEEDED

UNDO_OF = "undo_of"  # the summary key that marks an undo run
NOT_FOUND = 404
LINKS = ("companyId", "contactId")  # the fields by which a record points at another
STILL_LINKED = "records left in Rally still point at it (deleting it would break their link)"


@dataclass(frozen=True)
class UndoOptions:
    dry_run: bool = False
    force: bool = False  # undo even records a later run wrote again
    report_dir: Path | None = None


@dataclass
class UndoResult:
    run_id: int
    undone: int
    summaries: list[RunSummary]
    files: dict[str, Path]
    interrupted: bool = False

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return EXIT_INTERRUPTED
        left = any(s.failed or s.unchanged for s in self.summaries)
        return EXIT_ROWS_FAILED if left else EXIT_OK

    @property
    def status(self) -> str:
        """As a run's: failed when records failed and none was undone, partial when some
        were left alone (on purpose: edited since, or gone; exit 1 says to look) or failed."""
        if self.interrupted:
            return INTERRUPTED
        if not self.exit_code:
            return SUCCEEDED
        undone = sum(s.deleted + s.updated for s in self.summaries)
        failed = sum(s.failed for s in self.summaries)
        return FAILED if failed and not undone else PARTIAL


GONE_NOTE = "Rally no longer has this record (deleted since, or by an undo cut short)"
# A write stamps createdAt and updatedAt together (a server may take each from its own clock
# reading, some ms apart); a person's edit comes later and moves updatedAt on.
EDIT_SLACK_S = 1.0


def check_undoable(db: StateDB, pipeline: str, run_id: int, *, force: bool) -> list[Entry]:
    """The journal entries left to undo, or ConfigError (exit 2) saying why not."""
    record = db.runs.get(run_id)
    if record is None or record.pipeline != pipeline:
        raise ConfigError(f"no run {run_id} of pipeline {pipeline!r}; `crmsync runs` lists them")
    if record.dry_run:
        raise ConfigError(f"run {run_id} was a dry run: it wrote nothing to undo")
    if UNDO_OF in record.summary:
        raise ConfigError(f"run {run_id} is an undo (of run {record.summary[UNDO_OF]})")
    entries = db.journal.of_run(run_id)
    if not entries:
        raise ConfigError(f"run {run_id} wrote nothing to Rally: nothing to undo")
    pending = [e for e in entries if e.undone_by is None]
    if not pending:
        raise ConfigError(f"run {run_id} is undone already (by run {entries[0].undone_by})")
    later = db.journal.rewritten_later(run_id)
    if later and not force:
        runs = ", ".join(str(r) for r in sorted(set(later.values())))
        raise ConfigError(
            f"{len(later)} records run {run_id} wrote were written again by later runs ({runs}):"
            " undoing it would undo those too; undo the later runs first, or pass --force"
            " (fields changed since are still left alone)"
        )
    return pending


def undo_run(
    pipeline: Pipeline,
    run_id: int,
    options: UndoOptions | None = None,
    observer: RunObserver | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> UndoResult:
    """Undo run `run_id` of `pipeline` under its lock; ConfigError when it cannot be undone."""
    options = options or UndoOptions()
    observer = observer or RunObserver()
    if isinstance(pipeline.destination, FileDestinationConfig):
        raise ConfigError(
            f"pipeline {pipeline.name!r} exports to files: it wrote nothing to Rally to undo"
        )
    destination = Destination.of(
        pipeline.destination, transport, allow_insecure_http=pipeline.allow_insecure_http
    )
    report_dir = (options.report_dir or pipeline.resolve(pipeline.report.dir)) / f"undo-{run_id}"
    if options.dry_run:  # beside the real undo's report, never over it
        report_dir /= DRY_RUN_FOLDER
    location = pipeline.state.location(pipeline.base_dir)
    with location.lock(pipeline.name), location.open() as db:
        db.runs.mark_crashed(pipeline.name)
        pending = check_undoable(db, pipeline.name, run_id, force=options.force)
        undo_id = db.runs.start(pipeline.name, dry_run=options.dry_run)
        observer.run_started(pipeline.name, undo_id, [f"undo run {run_id}"])
        started, clock = datetime.now(UTC), time.monotonic()
        settled: list[Settled] = []
        interrupted = False
        try:
            # --force: what later runs wrote again is undone too (fields people changed stay)
            later = {} if options.force else db.journal.rewritten_later(run_id)
            asyncio.run(_undo(db, destination, pending, undo_id, options, observer, settled, later))
        except KeyboardInterrupt:
            interrupted = True
        except CrmsyncError as exc:
            db.runs.finish(
                undo_id,
                status="failed",
                summary={UNDO_OF: run_id, "error": str(exc)},
                report_dir=str(report_dir),
            )
            raise
        summaries = undo_summaries(settled, run_id, options.dry_run, started, interrupted)
        duration = round(time.monotonic() - clock, 3)
        files = write_report(report_dir, settled, summaries, duration)
        result = UndoResult(undo_id, run_id, summaries, files, interrupted)
        for summary in summaries:
            db.runs.record_step(undo_id, summary.name, asdict(summary))
        db.runs.finish(
            undo_id,
            status=result.status,
            summary={UNDO_OF: run_id, "steps": [asdict(s) for s in summaries]},
            report_dir=str(report_dir),
        )
        observer.run_finished(undo_id, result.status, result.exit_code)
    return result


async def _undo(
    db: StateDB,
    destination: Destination,
    pending: list[Entry],
    undo_id: int,
    options: UndoOptions,
    observer: RunObserver,
    settled: list[Settled],
    later: dict[str, int],
) -> None:
    by_object = {name: [e for e in pending if e.object == name] for name in UNDO_ORDER}
    first = OBJECTS[next(name for name, entries in by_object.items() if entries)]
    # the short check a run makes: Rally down is said in seconds, not after a load's retries
    checked = destination.start_check(first)
    pointed_at: set[str] = set()  # ids that records left in Rally still point at
    async with checked.connect(first, ClientSettings()) as client:
        for name, entries in by_object.items():
            if not entries:
                continue
            obj = OBJECTS[name]
            state = StepState(
                db,
                destination=destination.scope,
                step=entries[0].step,
                run_id=undo_id,
                dry_run=options.dry_run,
            )
            mirror = Mirror(obj, state)
            await mirror.look(client)
            observer.stage("undo", f"{len(entries)} {name} writes to undo")
            undoing = _Undoing(
                client, db, destination, obj, mirror, options.dry_run, undo_id, pointed_at
            )
            try:
                await _each_record(entries, undoing.one, later, client.settings.max_concurrency)
            finally:  # what was settled is reported, in journal order, even when cut short
                settled.extend(sorted(undoing.settled, key=lambda d: d.entry.seq, reverse=True))


@dataclass
class _Undoing:
    """One object's entries being undone: each settled, remembered, and kept for the report."""

    client: RallyClient
    db: StateDB
    destination: Destination
    obj: RallyObject
    mirror: Mirror
    dry_run: bool
    undo_id: int
    pointed_at: set[str]  # shared by the objects, undone in UNDO_ORDER
    settled: list[Settled] = field(default_factory=list)

    async def one(self, entry: Entry, rewritten: int | None) -> None:
        if entry.action == "created" and entry.rally_id in self.pointed_at:
            done = Settled(entry, "left alone", note=STILL_LINKED)
        else:
            done = await _undo_one(
                self.client, self.db, self.obj, self.mirror, entry, self.dry_run, rewritten
            )
        if done.result not in ("deleted", "would delete"):  # it stays: so do its links
            current = self.mirror.get([entry.rally_id]).get(entry.rally_id) or {}
            self.pointed_at.update(v for k in LINKS if isinstance(v := current.get(k), str))
        self.settled.append(done)
        if not self.dry_run:
            _remember(self.db, self.destination, entry, done, self.undo_id)


async def _each_record(
    entries: list[Entry],
    undo: Callable[[Entry, int | None], Awaitable[None]],
    later: dict[str, int],
    workers: int,
) -> None:
    """Undo `entries`, newest first, `workers` records at a time (the client paces them and
    caps what is in flight: one at a time, 20,000 creations took 250 ms each, 83 minutes).
    The entries of one record stay in order, one after the other. `later`: the run that
    wrote a record again since, by Rally id."""
    by_record: dict[str, list[Entry]] = {}
    for entry in sorted(entries, key=lambda e: e.seq, reverse=True):
        by_record.setdefault(entry.rally_id, []).append(entry)
    records = iter(by_record.values())  # shared: each record is taken by one worker

    async def worker() -> None:
        for record in records:
            for entry in record:
                await undo(entry, later.get(entry.rally_id))

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(min(workers, len(by_record))):
                group.create_task(worker())
    except ExceptionGroup as failed:  # the first error stopped them all: it is the one said
        raise failed.exceptions[0] from None


async def _undo_one(
    client: RallyClient,
    db: StateDB,
    obj: RallyObject,
    mirror: Mirror,
    entry: Entry,
    dry_run: bool,
    rewritten: int | None,
) -> Settled:
    current = mirror.get([entry.rally_id]).get(entry.rally_id)
    readable = set(obj.response_fields)
    if current is None:
        return Settled(entry, "left alone", note=GONE_NOTE)
    written = db.hashes.written(_step_scope(entry), [entry.row_key]) if entry.row_key else {}
    last: dict[str, Any] = json.loads(written[entry.row_key]) if entry.row_key in written else {}
    wrote = entry.after or last  # a creation is journaled by id: it wrote what `written` holds
    edited = [
        name
        for name, value in wrote.items()
        if name in readable and not same(current.get(name), value, name)
    ]
    if entry.action == "created":
        if rewritten is not None:  # what it holds now is (also) that later run's writing
            return Settled(entry, "left alone", note=f"written again by run {rewritten} since")
        if edited:
            return Settled(entry, "left alone", edited, _edited_note(edited, current))
        moved = _changed_since_created(current)
        if moved is not None and not db.journal.written_again(entry):
            return Settled(entry, "left alone", note=moved)
        if dry_run:
            return Settled(entry, "would delete")
        try:
            await client.delete(obj, entry.rally_id)
        except RequestRefused as exc:
            if exc.status != NOT_FOUND:
                return Settled(entry, "failed", note=exc.detail)
            # gone already (a person deleted it, or an undo cut short did): what undoing a
            # creation asks, so no failure; the note says it was not this undo's delete
            mirror.gone([entry.rally_id])
            return Settled(entry, "deleted", note=GONE_NOTE)
        mirror.gone([entry.rally_id])
        return Settled(entry, "deleted")
    # a field Rally never shows held, before the run, what crmsync had written there, if
    # anything: otherwise it is unknown (the run's "before" is no value, not the value), and
    # putting "nothing" back would wipe what was there: it keeps what the run wrote
    known = entry.written_before or {}
    unknown = [n for n in entry.before if n not in readable and n not in known and n not in edited]
    restore = [name for name in entry.before if name not in edited and name not in unknown]
    if not restore:
        return Settled(entry, "left alone", edited, _edited_note(edited, current))
    record = {name: current[name] for name in obj.wire_fields if name in current}
    record.update({k: v for k, v in last.items() if k not in readable and k in obj.wire_fields})
    record.update({name: entry.before[name] for name in restore})
    note = _edited_note(edited, current) if edited else None
    if unknown:
        kept = f"kept as the run wrote them, what they held before unknown: {', '.join(unknown)}"
        note = f"{note}; {kept}" if note else kept
    if dry_run:
        return Settled(entry, "would restore", restore, note)
    try:
        answer = await client.update(obj, entry.rally_id, record)
    except RequestRefused as exc:
        if exc.status == NOT_FOUND:  # deleted in Rally since it was last seen
            mirror.gone([entry.rally_id])
            return Settled(entry, "left alone", note=GONE_NOTE)
        return Settled(entry, "failed", restore, exc.detail)
    if answer is not None:  # a 204 shows nothing: the next look lists it
        mirror.saw(answer)
    return Settled(entry, "restored", restore, note)


def _changed_since_created(current: dict[str, Any]) -> str | None:
    """What says a created record was changed since, in a field the run did not write (its
    `updatedAt` past its `createdAt`: a title a person added in Rally was deleted with the
    record); None when nothing does. crmsync's own later writes are the caller's to rule out."""
    created = parse_timestamp(current.get("createdAt"))
    updated = parse_timestamp(current.get("updatedAt"))
    if created is None or updated is None or (updated - created).total_seconds() <= EDIT_SLACK_S:
        return None
    return f"changed in Rally since the run created it (updatedAt {current.get('updatedAt')})"


def _step_scope(entry: Entry) -> str:
    return entry.scope.rsplit("/", 1)[0] + f"/step:{entry.step}"


def _edited_note(fields: Iterable[str], current: dict[str, Any]) -> str:
    shown = ", ".join(f"{name} is now {json.dumps(current.get(name))}" for name in fields)
    return f"changed in Rally since the run: {shown}"


def _remember(
    db: StateDB, destination: Destination, entry: Entry, done: Settled, undo_id: int
) -> None:
    """What the state database must know after an entry is undone: the entry is settled, a
    deleted record is new to the next run, a restored one is planned again."""
    if done.result == "failed":
        return
    db.journal.mark_undone(entry.run_id, entry.seq, by=undo_id, note=done.note)
    scope = _step_scope(entry)
    if done.result == "deleted":
        if entry.row_key:
            db.hashes.forget(scope, [entry.row_key])
        db.ids.forget(entry.scope, [entry.rally_id])
    elif done.result == "restored" and entry.row_key:
        before = json.dumps(entry.written_before or {}, ensure_ascii=False, sort_keys=True)
        db.hashes.reset(scope, {entry.row_key: before})
