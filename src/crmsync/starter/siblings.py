"""Which file beside a contacts export holds the companies its rows point at by id.

A Salesforce Data Export's ``Contact.csv`` names each contact's account by ``AccountId``, the
``Id`` of a row of ``Account.csv`` in the same folder; HubSpot's contacts point at a companies
export by ``Associated Company ID``, Pipedrive's by ``Organization ID``, Zoho's by ``Account
ID``. Names prove nothing in a folder of several exports, so a sibling is taken only when one
of its id columns holds most of the ids the rows point at, and never when it holds people
(another contacts file). HubSpot's ``Associated Company IDs`` may name several companies in
one cell (``1234;5678``): the row's company is then the first, which is what must be found
and what the pipeline looks up (the lookup key's ``separator``). The search stays cheap: a
sibling's first rows show its id columns, and only those columns are then read whole. Each
is read as ``crmsync run`` will read it (``extract.csv_partial``): a report's title lines
above the header, UTF-16 (Excel's "Unicode text", a ``.txt`` file) and cp1252 hide no
companies file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from crmsync.errors import ConfigError, SourceError
from crmsync.extract.csv_partial import read_csv_columns, read_csv_head
from crmsync.extract.result import Extracted
from crmsync.starter.model import Table
from crmsync.transform.mapping import header_key

# what a reference column's name says it points at (Salesforce, HubSpot, Pipedrive, Zoho)
NOUNS = ("account", "company", "companies", "organization", "organisation", "org")
# ids that point at an account but not at the row's own (a converted lead's, a merge's)
NOT_THE_ROWS_OWN = ("converted", "master", "parent")
PEOPLE_KEYS = frozenset({"firstname", "lastname", "givenname", "familyname", "surname"})
SUFFIXES = (".csv", ".tsv", ".txt")  # as init reads them: CSV
PLURALS = {"company": "companies"}
SAMPLE_ROWS = 50  # a sibling's rows read to find its id columns
MAX_SIBLINGS = 40  # files of a folder looked at, companies-named ones first
COVERAGE = 0.8  # share of the referenced ids a sibling's id column must hold
ID_SEPARATOR = ";"  # between the ids of one cell (HubSpot's "Associated Company IDs")
PRIMARY = "primary"  # HubSpot's "Associated Company IDs (Primary)": the one to link by
COMPANY_STEMS = frozenset(
    {"account", "accounts", "company", "companies", "organization", "organizations", "orgs"}
)


@dataclass(frozen=True)
class Link:
    """A contacts file's reference column and the companies file whose id column it holds."""

    companies: Path
    id_column: str
    reference: str
    found: int  # different referenced ids the id column holds
    referenced: int  # different ids the rows point at (a cell of several: its first)
    several: int = 0  # rows whose cell holds several ids

    @property
    def noun(self) -> str:
        """What the reference says it points at: account, organization, or company."""
        key = header_key(self.reference)
        return next((n for n in ("account", "organization", "organisation") if n in key), "company")

    @property
    def said(self) -> str:
        """The sentence init writes to the console and into the file."""
        plural = PLURALS.get(self.noun, self.noun + "s")
        return (
            f"contacts are linked to their {plural} in {self.companies.name} by "
            f"{self.reference} -> {self.id_column}"
        )


def reference_columns(table: Table) -> list[str]:
    """Columns whose name says they hold the id of the row's account, company or
    organization, and whose values look like ids (one word each, or several separated by
    ";"); a primary one first."""
    found = []
    for column in table.columns:
        key = header_key(column).removesuffix(PRIMARY)
        stem = key.removesuffix("s").removesuffix("id")
        if stem == key.removesuffix("s") or not any(stem.endswith(n) for n in NOUNS):
            continue
        if any(word in key for word in NOT_THE_ROWS_OWN):
            continue
        cells = [cell_ids(value) for value in table.values(column)]
        if cells and all(ids and all(len(i.split()) == 1 for i in ids) for ids in cells):
            found.append(column)
    return sorted(found, key=lambda column: PRIMARY not in header_key(column))


def cell_ids(value: str) -> list[str]:
    """The ids one reference cell holds, in order: one, or several separated by ";"."""
    return [part.strip() for part in value.split(ID_SEPARATOR) if part.strip()]


def referenced_ids(table: Table, reference: str) -> tuple[set[str], int]:
    """(the ids the rows point at by ``reference``, a cell of several by its first; how many
    cells hold several)."""
    cells = [cell_ids(value) for value in table.values(reference)]
    return {ids[0] for ids in cells if ids}, sum(1 for ids in cells if len(ids) > 1)


def find_companies_file(source: Path, table: Table) -> Link | None:
    """The CSV beside ``source`` whose id column holds most of the ids a reference column
    of ``table`` points at (Account.csv for Salesforce's AccountId); None when no file does.
    A file that cannot be read is passed over: it is no companies file init can offer."""
    references = reference_columns(table)
    if not references:
        return None
    for sibling in _siblings(source):
        try:
            head = read_csv_head(sibling, rows=SAMPLE_ROWS)
            if _holds_people(head.columns):
                continue
            ids = _id_values(sibling, head)
        except SourceError:
            continue
        for reference in references:
            link = _match(sibling, ids, referenced_ids(table, reference), reference, COVERAGE)
            if link is not None:
                return link
    return None


def link_to(companies: Path, table: Table) -> Link:
    """The link to a companies file the user named (``--companies``): the reference column
    and the id column that holds the most of its ids; a ConfigError saying why there is none,
    a SourceError naming the line of a file that cannot be read."""
    references = reference_columns(table)
    if not references:
        raise ConfigError(
            f"--companies {companies.name}: no column of the contacts file holds the id of an "
            "account, company or organization (AccountId, Company ID, Organization ID)"
        )
    head = read_csv_head(companies, rows=SAMPLE_ROWS)
    if not head.columns:
        raise ConfigError(f"--companies {companies.name}: no header and rows init could read")
    ids = _id_values(companies, head)
    best: Link | None = None
    for reference in references:
        link = _match(companies, ids, referenced_ids(table, reference), reference, 0.0)
        if link is not None and (best is None or link.found > best.found):
            best = link
    if best is None or not best.found:
        raise ConfigError(
            f"--companies {companies.name}: none of its id columns holds the ids in "
            f"{', '.join(repr(r) for r in references)}: is it the export those ids come from?"
        )
    return best


def unlinked_hint(table: Table, source: Path, linked_by_name: bool) -> str | None:
    """What init says when the rows point at their company by id but no file beside them
    resolves it: which file to put there, or name."""
    references = reference_columns(table)
    if not references:
        return None
    reference = references[0]
    ids = len(referenced_ids(table, reference)[0])
    fallback = (
        "they are linked by the company's name instead"
        if linked_by_name
        else "the contacts load unlinked"
    )
    return (
        f'"{reference}" holds the id of each row\'s company ({ids} different ids), but no CSV '
        f"file beside {source.name} has a column holding those ids: {fallback}. To link them "
        f"by id, put the companies export (Salesforce's Account.csv) in the same folder and run "
        f"init again, or name it: crmsync init {source.name} --companies <file>"
    )


def _siblings(source: Path) -> list[Path]:
    """The CSV files beside ``source``, those named like a companies export first."""
    here = source.resolve()
    try:
        files = [
            path
            for path in here.parent.iterdir()
            if path.suffix.lower() in SUFFIXES and path.is_file() and path.resolve() != here
        ]
    except OSError:
        return []

    def named(path: Path) -> bool:
        return header_key(path.stem) in COMPANY_STEMS or any(
            noun in header_key(path.stem) for noun in NOUNS
        )

    return sorted(files, key=lambda path: (not named(path), path.name))[:MAX_SIBLINGS]


def _holds_people(columns: tuple[str, ...]) -> bool:
    """A file of people (another contacts export) is no companies file, whatever its ids."""
    return any(header_key(column) in PEOPLE_KEYS for column in columns)


def _id_columns(head: Extracted) -> list[str]:
    """Columns named like an id whose first values are all there and all different."""
    found = []
    for column in head.columns:
        if not header_key(column).endswith("id"):
            continue
        values = head.frame[column].str.strip_chars()
        filled = values.filter(values.is_not_null() & (values != ""))
        rows = head.frame.height
        if filled.len() and filled.len() == rows and filled.n_unique() == filled.len():
            found.append(column)
    return found


def _id_values(path: Path, head: Extracted) -> dict[str, set[str]]:
    """Each id column of the file at ``path`` (``head``, its first rows) whose values are
    all different on every row -> those values, read whole."""
    columns = _id_columns(head)
    if not columns:
        return {}
    frame = read_csv_columns(path, columns)
    ids = {}
    for column in frame.columns:
        values = frame[column].str.strip_chars().drop_nulls()
        if values.n_unique() == values.len():  # an owner's or a creator's id: not the row's
            ids[column] = set(values.to_list())
    return ids


def _match(
    path: Path,
    ids: dict[str, set[str]],
    pointed: tuple[set[str], int],
    reference: str,
    least: float,
) -> Link | None:
    """The id column of ``path`` holding the most of the ids ``reference`` points at
    (``pointed``: `referenced_ids`), at least ``least`` of them; None when none does."""
    referenced, several = pointed
    if not referenced:
        return None
    best: Link | None = None
    for column, values in ids.items():
        found = len(referenced & values)
        if found and found >= least * len(referenced) and (best is None or found > best.found):
            best = Link(path, column, reference, found, len(referenced), several)
    return best
