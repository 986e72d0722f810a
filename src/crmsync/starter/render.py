"""The starter pipeline file's text: YAML a first-time user can read, check and run, every
choice explained by a comment (the text helpers, which keep unvetted column names safe, are
in `yaml_text`)."""

from __future__ import annotations

from dataclasses import dataclass

from crmsync.report.wording import counted
from crmsync.schema import OBJECTS
from crmsync.starter.companies import CompaniesStep
from crmsync.starter.model import Mapped, Suggestion
from crmsync.starter.yaml_text import (
    QUOTE,
    WIDTH,
    comment_lines,
    quoted,
    scalar,
    with_comment,
)


@dataclass(frozen=True)
class LeftOut:
    """Rows `where:` leaves out by a flag of the source: `kind` "deleted" or "converted"."""

    kind: str
    column: str
    rows: int

    @property
    def said(self) -> str:
        """What was left out and why, in words."""
        rows = "1 row" if self.rows == 1 else f"{self.rows:,} rows"
        flag, take_out = quoted(self.column), f"Take {quoted(self.column)} out of where: to load"
        if self.kind == "converted":
            return (
                f"Leads converted in the source ({flag} is true) are left out, {rows}: it made "
                "them contacts and accounts, which its contacts and accounts exports hold; "
                f"loaded here too, each would be a second record of the same person or update "
                f"it with the lead's older values. {take_out} them too."
            )
        return (
            f"Rows deleted in the source ({flag} is true) are left out, {rows}: loaded, they "
            f"would bring back what was deleted. {take_out} them too."
        )


@dataclass(frozen=True)
class SourceInfo:
    """What the reader found, for the comments of the source section."""

    kind: str
    path: str
    file_name: str
    encoding: str | None = None
    delimiter: str | None = None
    header_line: int | None = None
    subheader_line: int | None = None  # a second header row's line (SurveyMonkey's)
    rows: int = 0
    rejects: int = 0
    first_reject: tuple[int, str] | None = None  # (line, raw text)
    footer: tuple[int, str] = (0, "")  # a report's footer below the table: (lines, first)
    renamed: tuple[tuple[str, str], ...] = ()
    where: dict[str, str | list[str]] | None = None
    left_out: tuple[LeftOut, ...] = ()  # rows `where` leaves out by the source's flags
    records: str | None = None  # the member whose nested objects are the rows (JSON)

    @property
    def flags_companies(self) -> bool:
        """Whether `where` keeps the rows of one kind in a file of people and companies (its
        other use: leaving out the rows the source flags as deleted or converted)."""
        flags = {left.column for left in self.left_out}
        return any(column not in flags for column in self.where or {})


def _where_said(object_name: str, source: SourceInfo) -> str:
    """Why `where:` keeps only some rows: the export flags its companies, or rows that are
    no records to load (deleted, converted), or both."""
    said = []
    if source.flags_companies:
        kept = "companies" if object_name == "companies" else "people"
        said.append(f"Only the rows that are {kept}: the export flags its companies.")
    said += [left.said for left in source.left_out]
    return " ".join(said)


def _source_lines(source: SourceInfo) -> list[str]:
    lines = ["source:", f"  kind: {source.kind}", f"  path: {scalar(source.path)}"]
    if source.kind == "redmine_export":
        lines.append("  entity: contacts")
    else:
        lines += with_comment(
            "  encoding: auto", f"read as {source.encoding}" if source.encoding else "", 2
        )
    if source.records:
        why = f"a row per object in each record's {quoted(source.records)}, with parent.<member>"
        lines += with_comment(f"  records: {scalar(source.records)}", why, 2)
    if source.kind == "csv":
        shown = "tab" if source.delimiter == "\t" else repr(source.delimiter)
        lines += with_comment("  delimiter: auto", f"read as {shown}", 2)
    if source.subheader_line:
        lines += comment_lines(
            f"The header is two rows, lines {source.header_line} and {source.subheader_line} "
            "(a survey's questions, then the labels of their answers' columns): a column is "
            'named by its label, or by its question where the label only says "Response". '
            "crmsync run reads them the same way. Row numbers in reports are the file's own "
            "line numbers.",
            2,
        )
    elif source.header_line and source.header_line > 1:
        lines += comment_lines(
            f"The header is on line {source.header_line}: the lines above it are not part of "
            "the table, and crmsync run skips them too. Row numbers in reports are the file's "
            "own line numbers.",
            2,
        )
    for written, given in source.renamed:
        lines += comment_lines(
            f"The file has more than one column named {quoted(written)}: the later one is "
            f"read as {quoted(given)}.",
            2,
        )
    if source.footer[0]:
        lines += comment_lines(
            f"The {counted(source.footer[0], 'line')} below the table are a report's footer "
            f"({quoted(source.footer[1])}): crmsync run leaves them out too.",
            2,
        )
    if source.rejects and source.first_reject:
        line, raw = source.first_reject
        lines += comment_lines(
            f"{source.rejects} {'nested items' if source.records else 'lines'} are not rows of "
            f"the table (the first, {'row' if source.records else 'line'} {line}: "
            f"{quoted(raw.strip(QUOTE))}): crmsync run reports them as failed (stage read).",
            2,
        )
    return lines


def render_pipeline(
    *, name: str, object_name: str, source: SourceInfo, suggestion: Suggestion
) -> str:
    """The pipeline file's text, every suggestion explained by a comment. A contacts file
    whose rows name their company gets two steps: the companies, then the contacts."""
    product = f" ({suggestion.product.label})" if suggestion.product else ""
    lines = [
        *comment_lines(
            f"Starter pipeline written by `crmsync init` from {quoted(source.file_name)}"
            f"{product}. Check the mapping, then: crmsync run THIS_FILE --dry-run"
        ),
        "# Destination from the environment: RALLY_BASE_URL (tenant root) and RALLY_API_KEY.",
        *[line for note in suggestion.notes for line in comment_lines(note)],
        f"name: {scalar(name)}",
    ]
    body = step_lines(object_name, source, suggestion)
    companies = suggestion.companies
    if companies is None:
        lines += [f"object: {object_name}", "", *body, "", *_load_lines(), ""]
    else:
        lines += [
            "",
            *comment_lines(
                f"The rows name their company ({quoted(companies.company)}: "
                f"{companies.names} different names on {companies.rows} rows). Rally links a "
                "contact to a company by its id, so the companies are loaded first, once each, "
                "and the contacts then find theirs (companyId)."
            ),
            "steps:",
            *step_item(
                [
                    "name: companies",
                    "object: companies",
                    "",
                    *_companies_lines(source, companies, suggestion.mapping.get("email")),
                ]
            ),
            "",
            *step_item([f"name: {object_name}", f"object: {object_name}", "", *body]),
            "",
        ]
    lines += tail_lines(name)
    return "\n".join(lines) + "\n"


def step_item(lines: list[str]) -> list[str]:
    """A step's lines (written as for a top-level step) as an item of `steps:`."""
    out = []
    for number, line in enumerate([*lines, "", *_load_lines()]):
        if not line:
            out.append("")
        else:
            out.append(("  - " if number == 0 else "    ") + line)
    return out


def step_lines(object_name: str, source: SourceInfo, suggestion: Suggestion) -> list[str]:
    """Everything of one step from its source to its dedupe."""
    lines = _source_lines(source)
    if source.where:
        lines += [
            "",
            *comment_lines(_where_said(object_name, source)),
            f"where: {scalar(source.where)}",
        ]
    if suggestion.source_id:
        item = suggestion.source_id
        why = (
            f"from {quoted(item.columns[0])}: {item.why}; a re-run recognises the records it "
            "created by it"
        )
        lines += ["", *with_comment(f"source_id: {scalar(item.value)}", why, 0)]
    lines += ["", "mapping:  # Rally field: source column (matched ignoring case and punctuation)"]
    lines += _mapping_lines(suggestion.fields)
    if suggestion.companies is not None:
        lookup = suggestion.companies.lookup
        by_id = "source_id" in lookup["by"][0]  # the id of a company in another file
        lines += [
            *with_comment(
                "  companyId:",
                f"the company this row {'points at' if by_id else 'names'}, loaded by the "
                "companies step: found by the first of these keys that finds one",
                2,
            ),
            "    lookup:",
            f"      object: {lookup['object']}",
            f"      by: [{', '.join(scalar(key, sort_keys=False) for key in lookup['by'])}]",
            *with_comment(
                f"      on_missing: {scalar(lookup['on_missing'])}",
                "none found (no company named, or one whose row failed in the companies "
                "step, whose errors.csv says why): the contact is loaded unlinked",
                6,
            ),
        ]
    for field in suggestion.missing_required:
        lines.append(f"  # {field}: ???   required, and no column looked like it")
    explained = [left for left in suggestion.left if left.why]
    unknown = [left.column for left in suggestion.left if not left.why]
    if explained:
        lines.append("  # not mapped:")
        for left in explained:
            lines += comment_lines(f"{quoted(left.column)}: {left.why}", 2, item=True)
    if unknown:
        names = ", ".join(quoted(column) for column in unknown)
        lines += comment_lines(f"no Rally field looked like {names}", 2)
    for hint in suggestion.hints:
        lines += ["", *comment_lines(hint, 2)]
    return [*lines, "", *_normalize_lines(suggestion), "", *_dedupe_lines(suggestion)]


def _mapping_lines(fields: tuple[Mapped, ...]) -> list[str]:
    lines = []
    for item in fields:
        for note in item.notes:
            lines += comment_lines(note, 2)
        why = f"from {', '.join(quoted(c) for c in item.columns)}: {item.why}"
        line = f"  {item.field}: {scalar(item.value)}"
        if isinstance(item.value, dict) and len(line) > WIDTH:  # a setting a line, readable
            lines += comment_lines(why, 2)
            lines.append(f"  {item.field}:")
            lines += [f"    {key}: {scalar(value)}" for key, value in item.value.items()]
        else:
            lines += with_comment(line, why, 2)
    return lines


def _companies_lines(
    source: SourceInfo, companies: CompaniesStep, email: str | list[str] | None
) -> list[str]:
    """The companies step: the same source, only the rows that name a company (and that
    have the contact's email, when one column holds it: a contact without one fails, and
    a LinkedIn file of mostly empty emails made a company for every such row)."""
    filled, why = [companies.company], "only the rows that name a company"
    if isinstance(email, str):
        filled.append(email)
        why += " and have an email (a contact without one is not loaded)"
    flags = {left.column for left in source.left_out}
    where = {column: value for column, value in (source.where or {}).items() if column in flags}
    left_out = ["", f"where: {scalar(where)}  # the rows the contacts step leaves out too"]
    return [
        *_source_lines(source),
        *(left_out if where else []),
        "",
        *with_comment(
            f"where_filled: {scalar(filled)}",
            f"{why}; n/a and the like count as empty",
            0,
        ),
        "",
        "mapping:",
        *_mapping_lines(companies.fields),
        "",
        "dedupe:",
        *with_comment(
            "  keep: most_complete",
            "one company per domain, else per name: the row with the most filled in is kept, "
            "the others fill its gaps",
            2,
        ),
        *with_comment(
            "  missing_key: load",
            "a company without a domain is deduped by its name, and found by it in Rally",
            2,
        ),
    ]


def _normalize_lines(suggestion: Suggestion) -> list[str]:
    region = suggestion.region
    lines = ["normalize:"]
    if region.region:
        why = f"{region.reason}: phone numbers without +country are read as {region.region} ones"
        lines += with_comment(f"  default_region: {region.region}", why, 2)
    else:
        lines += comment_lines(
            f"default_region not guessed ({region.reason or 'nothing to go on'}): set the "
            "region phone numbers written without +country are in.",
            2,
        )
        lines.append("  # default_region: US")
    lines += with_comment(
        "  phone_policy: keep",
        "a phone that cannot be read: kept as written, with a warning (fail: the row fails)",
        2,
    )
    if suggestion.names_offer:
        lines += with_comment("  # names_from_email: true", suggestion.names_offer, 2)
    for key, why in suggestion.formats:
        lines += with_comment(f"  {key}: true", why, 2)
    return lines


def _dedupe_lines(suggestion: Suggestion) -> list[str]:
    lines = [
        "dedupe:",
        "  keep: first            # first | last | most_complete | newest (with newest_by)",
    ]
    if suggestion.keyless:
        lines += with_comment(
            "  missing_key: load",
            f"{suggestion.keyless} rows have no {OBJECTS[suggestion.object_name].match_key} "
            f"(Rally's key for {suggestion.object_name}): loaded without dedupe instead of "
            "failing",
            2,
        )
    return lines


def _load_lines() -> list[str]:
    return [
        "load:",
        "  mode: auto             # new records in bulk (100 a request), changed ones by upsert",
        "  batch_size: 100",
        "  concurrency: 4",
    ]


def tail_lines(name: str) -> list[str]:
    return [
        'destination:             # or {kind: file, path: "out/{step}.ndjson"}: files',
        "  base_url: ${RALLY_BASE_URL}",
        "  api_key: ${RALLY_API_KEY}",
        "",
        "# Rally never shows a contact's address, city, state, country, postal code, LinkedIn",
        "# URL, Twitter handle or notes, and an update replaces them: so a contact is not",
        "# updated (skipped.csv says why) unless this says it may be, knowing that what people",
        "# typed there is then replaced by what this file maps, or emptied:",
        "# sync: {unreadable: rewrite}",
        "",
        "# expect: {max_failed: 2%, min_rows_read: 100}   # a run breaking it exits 6",
        "# notify: {webhook: {url: ${ALERT_WEBHOOK_URL}}}  # one message when a run needs a person",
        "",
        "state:",
        "  path: .crmsync/state.db  # what earlier runs sent: a re-run sends only what changed",
        "",
        "report:",
        f"  dir: {scalar('reports/' + name)}",
    ]
