"""Transform: a step's source rows into Rally records, and the rows that fail or merge.

map (columns -> wire fields) -> normalize -> validate -> dedupe by the object's match key.
Alongside the wire fields ride the columns later stages need: lookup keys (resolve), the
newest_by timestamp (dedupe: keep newest) and the source system's id (plan, id map).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from crmsync.config import Step
from crmsync.extract import Extracted
from crmsync.report.outcomes import IDENTITY, OUTCOME_SCHEMA, outcome_frame
from crmsync.run.artifacts import Transformed
from crmsync.run.stages.plan import SOURCE_ID_COLUMN
from crmsync.run.stages.resolve import lookup_columns, lookup_sources
from crmsync.schema import RallyObject
from crmsync.transform import dedupe, normalize, validate
from crmsync.transform.issues import (
    MATCH_KEY,
    ROW,
    SOURCE,
    concat_issues,
    issues_where,
    named_rows,
    quoted,
)
from crmsync.transform.keys import normalize_key
from crmsync.transform.mail_domains import from_email, unshared
from crmsync.transform.mapping import FieldRule, absent_columns, apply_mapping, resolve_columns
from crmsync.transform.normalize import (
    DOMAIN_FIELD,
    NAME_FIELD,
    NAME_KEY_PREFIX,
    company_match_key,
)
from crmsync.transform.validate import is_missing

NEWEST_COLUMN = "_newest"
_KEY, _FAILED, _FIRST_ROW, _FIRST_KEY = "__key__", "__failed__", "__first_row__", "__first_key__"
# Rows mapped and checked at once: the mapped copy and polars' working buffers of a big read
# exist for this many rows, never for the whole file.
CHECK_ROWS = 200_000


def source_columns(step: Step, extracted: Extracted, source: str) -> dict[str, list[str]]:
    """Everything the step reads from the source, by what it is for -> the actual columns.
    A column the source does not have is a ConfigError naming it, before anything is sent,
    unless its field may do without it (optional, or with a default): then it is listed as
    written, read as empty, and `absent_notes` says so."""
    extra = dict(lookup_sources(step.lookups))
    if step.dedupe.keep == "newest" and step.dedupe.newest_by:
        extra[NEWEST_COLUMN] = step.dedupe.newest_by
    if step.source_id:
        extra[SOURCE_ID_COLUMN] = step.source_id
    wanted = {
        **{name: spec.columns for name, spec in step.mapping.items()},
        **{name: [column] for name, column in extra.items()},
    }
    absent = _absent(step, extracted)
    present = {
        name: [c for c in names if c not in absent.get(name, ())] for name, names in wanted.items()
    }
    resolved = resolve_columns(present, extracted.columns, source=source)
    for name, missing in absent.items():  # in place, so a template's placeholders stay in order
        found = iter(resolved.get(name, []))
        resolved[name] = [c if c in missing else next(found) for c in wanted[name]]
    return resolved


def _absent(step: Step, extracted: Extracted) -> dict[str, list[str]]:
    """Per field that may do without them, the columns the source does not have."""
    tolerant = {name: spec.columns for name, spec in step.mapping.items() if spec.may_be_absent}
    return absent_columns(tolerant, extracted.columns)


def absent_notes(step: Step, extracted: Extracted) -> list[str]:
    """One line per mapped column the source lacks that the run does without: what the field
    gets instead (its default, or nothing)."""
    notes = []
    for name, missing in _absent(step, extracted).items():
        spec = step.mapping[name]
        columns = ", ".join(repr(c) for c in missing)
        what = "column" if len(missing) == 1 else "columns"
        instead = (
            f"{name} takes its default {spec.default!r} where it would have read them"
            if spec.default is not None
            else f"{name} is left empty where it would have read them"
        )
        notes.append(f"mapping.{name}: {what} {columns} not in the source: {instead}")
    return notes


def _name_defaults(
    rules: dict[str, FieldRule], obj: RallyObject
) -> tuple[dict[str, FieldRule], dict[str, str]]:
    """The defaults of the names a full name splits into, taken out of the mapping: the
    normalizer applies them after the full name and the email had their chance."""
    names = {part for parts in obj.split_fields.values() for part in parts}
    defaults = {
        name: rule.default
        for name, rule in rules.items()
        if name in names and rule.default is not None
    }
    kept = {
        name: dataclasses.replace(rule, default=None) if name in defaults else rule
        for name, rule in rules.items()
    }
    return kept, defaults


def _unkeepable_ids(frame: pl.DataFrame, step: Step) -> pl.DataFrame:
    """A source id holding a NUL character (a JSON source's "\\u0000") fails its row: no
    state database keeps it as written (PostgreSQL's text refuses it), and an id that does
    not survive cannot find its record again."""
    nul = pl.col(SOURCE_ID_COLUMN).str.contains("\x00", literal=True).fill_null(False)
    message = "the source id holds a NUL character, which cannot be kept"
    return issues_where(frame, nul, str(step.source_id), pl.lit(message))


def transform(
    extracted: Extracted, step: Step, columns: Mapping[str, list[str]], base_dir: Path
) -> Transformed:
    """Map, normalize, validate and dedupe `extracted.frame`; `columns` is `source_columns`."""
    normalized, issues = checked_rows(extracted.frame, step, columns, base_dir)
    return finish(normalized, issues, step, columns)


def checked_rows(
    frame: pl.DataFrame, step: Step, columns: Mapping[str, list[str]], base_dir: Path
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`frame`'s rows mapped, normalized and validated: (normalized rows, their issues).
    Rows are independent until dedupe, so a file may come through here a part at a time."""
    absent = sorted({c for found in columns.values() for c in found if c not in frame.columns})
    if absent:  # optional columns the source lacks read as empty, like blank cells
        frame = frame.with_columns(pl.lit(None, pl.String).alias(c) for c in absent)
    obj = step.rally_object
    rules = {name: spec.rule(base_dir) for name, spec in step.mapping.items()}
    rules, name_defaults = _name_defaults(rules, obj)
    options = dataclasses.replace(step.normalize.options(), name_defaults=name_defaults)
    first = {name: found[0] for name, found in columns.items()}

    def checked(rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        mapped = apply_mapping(rows, rules, columns).with_columns(
            lookup_columns(rows, step.lookups, first)
        )
        if NEWEST_COLUMN in columns:
            mapped = mapped.with_columns(rows[first[NEWEST_COLUMN]].alias(NEWEST_COLUMN))
        if SOURCE_ID_COLUMN in columns:
            source_id = normalize_key(rows[first[SOURCE_ID_COLUMN]], "source_id")
            mapped = mapped.with_columns(source_id.alias(SOURCE_ID_COLUMN))
        if obj.match_key == DOMAIN_FIELD and DOMAIN_FIELD in mapped.columns:
            mapped = mapped.with_columns(from_email(pl.col(DOMAIN_FIELD)))
        normalized, issues = normalize(mapped, obj, options)
        parts = [issues, validate(normalized, obj, given=mapped)]
        if SOURCE_ID_COLUMN in columns:
            parts.append(_unkeepable_ids(normalized, step))
        return normalized, concat_issues(parts)

    # A slice at a time, so the mapped copy of a big file and polars' working buffers exist
    # for one slice, never for the whole file.
    slices = [
        checked(frame.slice(start, CHECK_ROWS))
        for start in range(0, max(frame.height, 1), CHECK_ROWS)
    ]
    # a field some rows fill from others (a second phone for the mobile) is a column only
    # where a row did: absent from a slice, it is empty there
    normalized = pl.concat([rows for rows, _ in slices], how="diagonal_relaxed")
    issues = concat_issues(found for _, found in slices)
    return normalized, issues


def finish(
    normalized: pl.DataFrame, issues: pl.DataFrame, step: Step, columns: Mapping[str, list[str]]
) -> Transformed:
    """Checked rows (`checked_rows`, of the whole read) deduped, with their outcomes: the
    rows that failed stay behind, duplicates merge."""
    # whole-read checks: every row of a key is here (or in this partition of the read)
    normalized, shared = unshared(normalized)
    issues = concat_issues([issues, shared])
    failed = failures(issues)
    if SOURCE_ID_COLUMN in normalized.columns:
        clashes = _shared_source_ids(normalized, failed.rows, step)
        if clashes.height:
            failed = failures(concat_issues([issues, clashes]))
    kept = deduped(normalized, failed, step, columns)
    failed = failed.without(kept.rescued)
    outcomes = pl.concat([failed.outcomes, kept.outcomes])
    return Transformed(kept.frame, outcomes, failed.warnings, failed.rows.height, kept.merged)


def _shared_source_ids(normalized: pl.DataFrame, failed: pl.DataFrame, step: Step) -> pl.DataFrame:
    """An error for each row whose source id an earlier row has, unless the two are also
    the same record by their match key (dedupe merges those): a source id names one record,
    and two records under one id cannot be told apart (a later change of one created a
    duplicate in Rally)."""
    source_id = pl.col(SOURCE_ID_COLUMN)
    key = pl.col(MATCH_KEY) if MATCH_KEY in normalized.columns else pl.lit(None, pl.String)
    rows = (
        normalized.select(SOURCE, ROW, source_id, key.alias(_KEY))
        .with_columns(named_rows(normalized, failed).alias(_FAILED))
        .filter(~pl.col(_FAILED) & source_id.is_not_null())
        .with_columns(  # columns: a message is worded on the failing rows alone
            pl.col(ROW).first().over(SOURCE_ID_COLUMN).alias(_FIRST_ROW),
            pl.col(_KEY).first().over(SOURCE_ID_COLUMN).alias(_FIRST_KEY),
        )
    )
    same_record = (pl.col(_KEY) == pl.col(_FIRST_KEY)).fill_null(False)
    message = pl.format(
        "source id {} is also row {}'s, another record: a source id names one record",
        quoted(source_id),
        pl.col(_FIRST_ROW),
    )
    clash = ~source_id.is_first_distinct() & ~same_record
    return issues_where(rows, clash, str(step.source_id), message)


@dataclass(frozen=True)
class Failures:
    """What validation settled, for the whole read: the rows that failed (`_source`, `_row`),
    as outcome rows, and the warnings of the rows that go on. `incomplete` names the failed
    rows whose every error is a required field left empty: such a row that repeats the key
    of a row that did not fail is its duplicate, and merges with it instead (`deduped`)."""

    rows: pl.DataFrame
    outcomes: pl.DataFrame
    warnings: pl.DataFrame
    incomplete: pl.DataFrame

    def without(self, rows: pl.DataFrame) -> Failures:
        """These failures but for `rows` (`_source`, `_row`): they went on after all."""
        if rows.is_empty():
            return self
        return Failures(
            self.rows.join(rows, on=IDENTITY, how="anti"),
            self.outcomes.join(rows, on=IDENTITY, how="anti", maintain_order="left"),
            self.warnings,
            self.incomplete.join(rows, on=IDENTITY, how="anti"),
        )


@dataclass(frozen=True)
class Deduped:
    """Rows deduped: the kept ones, the outcome rows of those merged or without a key, how
    many merged (None: the step does not dedupe), and the failed rows that merged with a
    complete duplicate after all (`Failures.incomplete`)."""

    frame: pl.DataFrame
    outcomes: pl.DataFrame
    merged: int | None
    rescued: pl.DataFrame


def failures(issues: pl.DataFrame) -> Failures:
    """The issues' errors as failed rows and outcome rows, and their warnings."""
    errors = issues.filter(pl.col("severity") == "error")
    warnings = issues.filter(pl.col("severity") == "warning")
    outcomes = outcome_frame(errors, outcome="failed", stage="validate")
    incomplete = (
        errors.group_by(IDENTITY)
        .agg(is_missing(pl.col("field"), pl.col("error")).all().alias(_FAILED))
        .filter(_FAILED)
        .select(IDENTITY)
    )
    return Failures(errors.select(IDENTITY).unique(), outcomes, warnings, incomplete)


def _completed_by_duplicates(keyed: pl.DataFrame, failed: Failures) -> pl.DataFrame:
    """The incomplete rows of `keyed` (IDENTITY and the match key) whose key a row that did
    not fail has: dedupe fills their empty fields from it, or merges them into it."""
    if failed.incomplete.is_empty():
        return keyed.select(IDENTITY).clear()
    key = pl.col(MATCH_KEY)
    keyed = keyed.filter(key.is_not_null())
    incomplete = keyed.join(failed.incomplete, on=IDENTITY, how="semi")
    if incomplete.is_empty():
        return incomplete.select(IDENTITY)
    live = keyed.join(failed.rows, on=IDENTITY, how="anti").get_column(MATCH_KEY)
    return incomplete.filter(key.is_in(live.implode())).select(IDENTITY)


def deduped(
    normalized: pl.DataFrame,
    failed: Failures,
    step: Step,
    columns: Mapping[str, list[str]],
) -> Deduped:
    """Checked rows without those that `failed`, deduped by the object's match key. Rows of
    one key must all be in `normalized`: a part of the read split by key dedupes alone.

    A failed row that only lacks required fields and repeats the key of a row that did not
    fail is deduped with it (`rescued`): a newsletter export's row without names, beside the
    same address with names, merges into it (or, kept first, takes its names), as the
    duplicate it is, instead of failing."""
    obj = step.rally_object
    if not step.dedupe.enabled or obj.match_key is None:
        # activities have no natural key to dedupe on
        kept = normalized.join(failed.rows, on=IDENTITY, how="anti", maintain_order="left")
        return Deduped(kept, pl.DataFrame(schema=OUTCOME_SCHEMA), None, failed.rows.clear())
    if obj.match_key == DOMAIN_FIELD and NAME_FIELD in normalized.columns:
        # a company without a domain takes that of a row of its name: any row of the read,
        # not only one of its own slice
        normalized = normalized.with_columns(company_match_key(normalized).alias(MATCH_KEY))
    rescued = _completed_by_duplicates(normalized.select(*IDENTITY, MATCH_KEY), failed)
    excluded = failed.rows.join(rescued, on=IDENTITY, how="anti") if rescued.height else failed.rows
    result = dedupe(
        normalized,
        keep=step.dedupe.keep,
        newest_by=NEWEST_COLUMN if NEWEST_COLUMN in columns else None,
        missing_key=step.dedupe.missing_key,
        exclude=excluded,  # leaves failed rows out without copying the frame
    )
    key_name = obj.match_key
    by_name = pl.col("_match_key").str.starts_with(NAME_KEY_PREFIX)
    merged = result.merged.with_columns(
        pl.when(by_name).then(pl.lit(NAME_FIELD)).otherwise(pl.lit(key_name)).alias("field"),
        pl.when(by_name)
        .then(pl.format("duplicate of row {} by name", pl.col("merged_into_row")))
        .otherwise(
            pl.format("duplicate of row {} by {}", pl.col("merged_into_row"), pl.col("_match_key"))
        )
        .alias("error"),
    )
    missing = result.missing_key.with_columns(
        pl.lit(key_name).alias("field"), pl.lit(f"no {key_name} to dedupe on").alias("error")
    )
    outcomes = pl.concat(
        [
            outcome_frame(merged, outcome="merged"),
            outcome_frame(missing, outcome="failed", stage="dedupe"),
        ]
    )
    return Deduped(result.kept, outcomes, result.merged.height, rescued)
