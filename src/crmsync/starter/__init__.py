"""`crmsync init`: a starter pipeline file that works, suggested from a file's headers and rows.

The file is read the way ``crmsync run`` reads it (header found below any preamble, encoding
and delimiter detected), its export product recognised (Google Contacts, Outlook, HubSpot,
Salesforce, Mailchimp, LinkedIn, Pipedrive, Zoho CRM, Redmine CRM, and the shops, marketing
and sales tools of ``vocab_commerce`` and ``vocab_sales``), and every column given a
meaning from its header and a look at its values (``suggest``). The written file explains
each mapping, lists what it left out and why, counts the rows that would fail, and guesses
the phone region from the data (``render``). A Redmine CRM CSV export becomes a
``redmine_export`` source, whose reader splits its multi-valued phone and email cells. JSON
records that hold their people (Close's leads) become a companies step and a contacts step
over the people nested in them (``nested``). A contacts CSV whose rows point at their company
by id (Salesforce's ``AccountId``) beside the companies export holding those ids
(``Account.csv``, found by ``siblings``) becomes a companies step over that file and a contacts
step linked to it by ``source_id`` (``linked``).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from crmsync.errors import ConfigError, SourceError
from crmsync.extract import Extracted, read_source
from crmsync.extract.csv_stream import NotStreamable, read_csv_pieces, read_in_pieces
from crmsync.extract.redmine import read_redmine_export
from crmsync.extract.redmine.derived import with_derived_columns
from crmsync.extract.result import RESERVED_COLUMNS
from crmsync.starter.linked import linked_plan, render_linked
from crmsync.starter.model import Left, Mapped, Suggestion, Table
from crmsync.starter.nested import JSON_KINDS, nested_plan, people_hint, people_member
from crmsync.starter.render import LeftOut, SourceInfo, render_pipeline
from crmsync.starter.render_nested import render_nested
from crmsync.starter.siblings import Link, find_companies_file, link_to, unlinked_hint
from crmsync.starter.suggest import suggest
from crmsync.starter.vocab import Product, recognise
from crmsync.starter.vocab_redmine import REDMINE
from crmsync.starter.yaml_text import ENV_OPENING
from crmsync.transform.mapping import compared, header_key

__all__ = [
    "Left",
    "Link",
    "Mapped",
    "Starter",
    "Suggestion",
    "Table",
    "inspect_source",
    "render_pipeline",
    "source_kind_of",
    "suggest",
    "suggest_mapping",
    "write_starter",
]

SOURCE_KINDS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
}
COMPANY_FLAG = "is_company"
# Columns by which an export of people and organizations in one file says which rows are
# organizations (Zendesk Sell's is_organization, Redmine's is_company, also in the languages
# Redmine writes its captions in), compared as headers are.
COMPANY_FLAGS = frozenset(
    {
        "iscompany", "isorganization", "isorganisation", "isorg", "istfirma",
        "istunternehmen", "firma", "компания", "этокомпания", "являетсякомпанией",
        "estunesociete", "esempresa",
    }
)  # fmt: skip
# Columns saying a row is not one to load, by what they say: deleted in the system that
# exported it (Salesforce's IsDeleted, in an "Export All" of Data Loader or a data export with
# its recycle bin), or a lead converted into a contact and an account (its IsConverted).
LEFT_OUT_FLAGS = (
    ("deleted", frozenset({"isdeleted", "deleted"})),
    ("converted", frozenset({"isconverted"})),
)
TRUE_WORDS = ("true", "yes", "1", "y", "ja", "да", "oui", "sí", "si", "wahr")
FALSE_WORDS = ("false", "no", "0", "n", "nein", "нет", "non", "falsch")


@dataclass(frozen=True)
class Inspected:
    """The source as init read it: the rows to suggest from and what the reader noticed."""

    table: Table
    info: SourceInfo
    product: Product | None


@dataclass(frozen=True)
class Starter:
    """What `init` wrote: the suggestion and what it read."""

    suggestion: Suggestion
    info: SourceInfo
    text: str
    parents: Suggestion | None = None  # the companies step over records holding the rows
    link: Link | None = None  # the companies file the rows point at by id
    parents_info: SourceInfo | None = None  # that file as init read it

    @property
    def unmapped_required(self) -> dict[str, tuple[str, ...]]:
        """Step -> the required Rally fields no column maps, written as ``# field: ???``:
        `crmsync run` refuses the file until each is given one (empty: the file can run).
        A companies step over the contacts' own column always maps the name it is about."""
        steps = {
            "companies": self.parents.missing_required if self.parents else (),
            self.suggestion.object_name: self.suggestion.missing_required,
        }
        return {step: fields for step, fields in steps.items() if fields}


def source_kind_of(path: Path) -> str:
    """csv, json or ndjson from the file's extension (csv when unknown)."""
    return SOURCE_KINDS.get(path.suffix.lower(), "csv")


def suggest_mapping(columns: list[str], object_name: str) -> Suggestion:
    """A suggestion from header names alone (no values to check them against)."""
    return suggest(Table(list(columns)), object_name)


def _read(kind: str, source: Path) -> Extracted:
    """The file as `crmsync run` reads it: a CSV file of many lines a piece at a time."""
    if kind == "csv" and source.is_file() and read_in_pieces(source):
        try:
            return read_csv_pieces(source)
        except NotStreamable:
            pass
    return read_source(kind, source)  # type: ignore[arg-type]


def _company_flag(extracted: Extracted) -> tuple[str, list[str], list[str]] | None:
    """(column, its spellings of no, of yes) of a column that flags the rows that are
    organizations, a yes or a no on every row; None when the file has none. A flag left
    blank on some rows (a JSON record that omits it) is not used: `where:` would drop those
    rows from both steps."""
    return _flag(extracted, COMPANY_FLAGS, every_row=True)


def _flag(
    extracted: Extracted, names: frozenset[str], *, every_row: bool = False
) -> tuple[str, list[str], list[str]] | None:
    """(column, its spellings of no, of yes) of the first column named one of `names` (as
    headers are compared) whose every value is a yes or a no (`every_row`: and that has one
    on every row); None when the file has none."""
    for column in extracted.columns:
        if header_key(column) not in names:
            continue
        values = extracted.frame.select(compared(pl.col(column))).to_series()
        said = set(values.drop_nulls().to_list()) - {""}
        if every_row and (values.null_count() or (values == "").any()):
            continue
        if said and said <= {*TRUE_WORDS, *FALSE_WORDS}:
            falsy = sorted(said & set(FALSE_WORDS)) or [FALSE_WORDS[0]]
            truthy = sorted(said & set(TRUE_WORDS)) or [TRUE_WORDS[0]]
            return column, falsy, truthy
    return None


def _kept(
    extracted: Extracted, where: dict[str, str | list[str]] | None, column: str, values: list[str]
) -> tuple[Extracted, dict[str, str | list[str]]]:
    """Only the rows whose `column` holds one of `values`, as `where:` compares them, and
    `where` saying so."""
    frame = extracted.frame.filter(compared(pl.col(column)).is_in(values))
    kept = {**(where or {}), column: values[0] if len(values) == 1 else values}
    return dataclasses.replace(extracted, frame=frame), kept


def _without_flagged(
    extracted: Extracted, where: dict[str, str | list[str]] | None
) -> tuple[Extracted, dict[str, str | list[str]] | None, tuple[LeftOut, ...]]:
    """The rows a flag column (filled on every row) does not mark as deleted in the source,
    or as a lead converted there: `where` gains each flag's no, and what was left out is
    said. Loaded, the deleted rows would bring back what people deleted, the converted
    leads be second records of people the contacts export holds."""
    left: list[LeftOut] = []
    for kind, names in LEFT_OUT_FLAGS:
        flag = _flag(extracted, names, every_row=True)
        if flag is None:
            continue
        column, falsy, _ = flag
        kept, wanted = _kept(extracted, where, column, falsy)
        count = extracted.frame.height - kept.frame.height
        if count:
            extracted, where = kept, wanted
            left.append(LeftOut(kind, column, count))
    return extracted, where, tuple(left)


def inspect_source(source: Path, object_name: str, path_in_file: str) -> Inspected:
    """Read ``source`` as the pipeline will, and recognise a Redmine CRM CSV export."""
    kind = source_kind_of(source)
    extracted = _read(kind, source)
    product = None
    where: dict[str, str | list[str]] | None = None
    if kind == "csv" and recognise(list(extracted.columns), (REDMINE,)):
        kind, product = "redmine_export", REDMINE
        redmine = read_redmine_export(source, entity="contacts", format="csv")
        frame = with_derived_columns(redmine.frame)
        flags = frame[COMPANY_FLAG].drop_nulls() if COMPANY_FLAG in frame.columns else None
        if flags is not None and flags.len():  # the older export says which are companies
            where = {COMPANY_FLAG: "true" if object_name == "companies" else "false"}
            frame = frame.filter(pl.col(COMPANY_FLAG) == where[COMPANY_FLAG])
        extracted = Extracted(
            frame=frame,
            rejects=redmine.rejects,
            columns=tuple(c for c in frame.columns if c not in RESERVED_COLUMNS),
            encoding=redmine.encoding,
            delimiter=redmine.delimiter,
            header_line=extracted.header_line,
        )
    elif (flag := _company_flag(extracted)) is not None:
        column, falsy, truthy = flag
        wanted = truthy if object_name == "companies" else falsy
        extracted, where = _kept(extracted, where, column, wanted)
    extracted, where, left_out = _without_flagged(extracted, where)
    rejects = extracted.rejects
    first = (int(rejects["_row"][0]), str(rejects["raw"][0])) if rejects.height else None
    if not extracted.columns:  # a pipeline that maps nothing could not even be loaded
        said = f" (line {first[0]} is no record: {first[1][:60]!r})" if first else ""
        raise SourceError(
            "has no columns to map: it is empty, has no header line, or holds no records "
            f"with fields{said}",
            source=str(source),
        )
    info = SourceInfo(
        kind=kind,
        path=path_in_file,
        file_name=source.name,
        encoding=extracted.encoding,
        delimiter=extracted.delimiter,
        header_line=extracted.header_line,
        subheader_line=extracted.subheader_line,
        rows=extracted.frame.height,
        rejects=rejects.height,
        first_reject=first,
        footer=(extracted.footer, extracted.footer_first or ""),
        renamed=extracted.renamed,
        where=where,
        left_out=left_out,
    )
    # a JSON array's rows are its records, not lines of the file
    word = "record" if kind == "json" else "line"
    table = Table(list(extracted.columns), extracted.frame, extracted.renamed, word)
    return Inspected(table, info, product)


def _relative(path: Path, output: Path) -> str:
    """``path`` as a pipeline file at ``output`` names it: relative to the output's folder."""
    relative = os.path.relpath(path.resolve(), output.resolve().parent)
    if ENV_OPENING in relative:
        raise ConfigError(
            f"the path {relative!r} holds {ENV_OPENING!r}, which a pipeline file reads as an "
            "environment variable: rename the file or its folder"
        )
    return relative


def write_starter(
    source: Path,
    *,
    object_name: str,
    output: Path,
    companies: Path | None = None,
    find_companies: bool = True,
) -> Starter:
    """Read ``source``, suggest, and write the starter file to ``output``; the source path in
    it is relative to the output's folder. A contacts file whose rows point at their company
    by id is linked to ``companies``, else (with ``find_companies``) to the file beside it
    holding those ids, when there is one."""
    if companies is not None and object_name != "contacts":
        raise ConfigError("--companies links contacts to their companies: use it with contacts")
    inspected = inspect_source(source, object_name, _relative(source, output))
    name = source.stem.replace(" ", "-").lower() or "pipeline"
    link = _link(source, inspected, companies, find_companies and object_name == "contacts")
    if link is not None:
        parents = inspect_source(link.companies, "companies", _relative(link.companies, output))
        plan = linked_plan(
            link,
            (inspected.table, inspected.info, inspected.product),
            (parents.table, parents.info, parents.product),
        )
        text = render_linked(name=name, plan=plan)
        output.write_text(text, encoding="utf-8")
        return Starter(plan.contacts, plan.contacts_info, text, plan.companies, link, parents.info)
    flagged = inspected.info.flags_companies  # its companies are rows: not from a column
    suggestion = suggest(
        inspected.table, object_name, inspected.product, companies_step=not flagged
    )
    json_kind = inspected.info.kind in JSON_KINDS
    member = people_member(inspected.table) if json_kind else None
    if member is not None and object_name == "contacts" and "email" not in suggestion.mapping:
        plan_nested = nested_plan(
            source, inspected.info, inspected.table, member, inspected.product
        )
        if plan_nested is not None:
            text = render_nested(name=name, plan=plan_nested)
            output.write_text(text, encoding="utf-8")
            return Starter(
                plan_nested.contacts, plan_nested.contacts_info, text, plan_nested.companies
            )
    if member is not None:
        hints = (*suggestion.hints, people_hint(member, object_name))
        suggestion = dataclasses.replace(suggestion, hints=hints)
    if object_name == "contacts" and inspected.info.kind == "csv":
        hint = unlinked_hint(inspected.table, source, suggestion.companies is not None)
        if hint is not None:
            suggestion = dataclasses.replace(suggestion, hints=(*suggestion.hints, hint))
    text = render_pipeline(
        name=name, object_name=object_name, source=inspected.info, suggestion=suggestion
    )
    output.write_text(text, encoding="utf-8")
    return Starter(suggestion, inspected.info, text)


def _link(source: Path, inspected: Inspected, companies: Path | None, find: bool) -> Link | None:
    """The companies file a contacts CSV's rows point at by id: the one named, else the one
    found beside it; None for other files (a flagged export's companies are its own rows)."""
    if companies is not None:
        return link_to(companies, inspected.table)
    if not find or inspected.info.kind != "csv" or inspected.info.flags_companies:
        return None
    return find_companies_file(source, inspected.table)
