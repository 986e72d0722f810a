"""`crmsync init` on JSON records that hold their people: companies, then the people in them.

Close exports its leads (companies) each with its people in ``contacts: [{name, title,
emails: [...], phones: [...]}]``; other products an account with its ``people``. Read as rows,
such a file is companies: mapped onto contacts, the lead's name became a person's and no email
was found. So when the records name no email of their own and a member is an array of
person-like objects (a name and an email or phone), init writes two steps: ``companies`` from
the records, then ``contacts`` from ``records: <member>``, each linked by ``companyId`` to the
company whose record holds it (looked up by the record's domain, else its name, which the
reader gives every nested row as ``parent.<member>``).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from crmsync.extract import read_source
from crmsync.extract.json_members import FIRST
from crmsync.extract.json_nested import PARENT, PLACE
from crmsync.starter.companies import CompaniesStep
from crmsync.starter.model import Left, Suggestion, Table
from crmsync.starter.render import SourceInfo
from crmsync.starter.suggest import suggest
from crmsync.starter.vocab import Product
from crmsync.transform.mapping import header_key

JSON_KINDS = ("json", "ndjson")
SAMPLE = 200  # arrays looked at per member: enough to see what their objects hold
NAMES = frozenset({"name", "fullname", "displayname", "firstname", "lastname", "givenname"})
REACHES = frozenset(
    {"email", "emails", "emailaddress", "emailaddresses", "phone", "phones", "phonenumbers"}
)


@dataclass(frozen=True)
class NestedPlan:
    """The two steps init writes for records holding their people."""

    member: str
    companies_info: SourceInfo
    companies: Suggestion
    contacts_info: SourceInfo
    contacts: Suggestion  # its `companies` says how companyId finds the record's company


def people_member(table: Table) -> str | None:
    """The member of the records whose values are arrays of person-like objects: objects
    with a name and an email or a phone (an array of `{type, email}` is one person's emails,
    not people)."""
    for column in table.columns:
        if FIRST in column:  # a path into an array: its members are the array's, not people
            continue
        values = table.values(column)[:SAMPLE]
        if not values or not all(value.startswith("[") for value in values):
            continue
        keys: set[str] = set()
        for value in values:
            try:
                items = json.loads(value)
            except ValueError:
                continue
            keys.update(header_key(k) for item in items if isinstance(item, dict) for k in item)
        if keys & NAMES and keys & REACHES:
            return column
    return None


def nested_plan(
    source: Path, info: SourceInfo, table: Table, member: str, product: Product | None
) -> NestedPlan | None:
    """The companies step from `table` (the records) and the contacts step from the people
    nested in their `member`; None when the records name no company to link them to."""
    own = [c for c in table.columns if not c.startswith((f"{member}{FIRST}", f"{member}."))]
    companies = suggest(Table(own, table.frame, table.renamed, table.row_word), "companies")
    name = companies.mapping.get("name")
    if not isinstance(name, str):
        return None
    companies = dataclasses.replace(
        companies,
        left=tuple(
            Left(item.column, f"the people in each record: the contacts step reads them (one "
                 f"row each, records: {member})")
            if item.column == member
            else item
            for item in companies.left
        ),
    )  # fmt: skip
    nested = read_source(info.kind, source, records=member)  # type: ignore[arg-type]
    columns = [c for c in nested.columns if c != PLACE and not c.startswith(PARENT)]
    people = Table(columns, nested.frame, nested.renamed, "row")
    contacts = suggest(people, "contacts", product, companies_step=False)
    domain = companies.mapping.get("domain")
    domains = [domain] if isinstance(domain, str) else list(domain or [])
    by = [{"domain": PARENT + column} for column in domains[:1]]
    by.append({"name": PARENT + name})
    names = table.values(name)
    link = CompaniesStep(
        company=PARENT + name,
        fields=companies.fields,
        lookup={"object": "companies", "by": by, "on_missing": "null"},
        names=len({value.casefold() for value in names}),
        rows=len(names),
    )
    rejects = nested.rejects
    first = (int(rejects["_row"][0]), str(rejects["error"][0])) if rejects.height else None
    contacts_info = dataclasses.replace(
        info,
        rows=nested.frame.height,
        rejects=rejects.height,
        first_reject=first,
        renamed=nested.renamed,
        records=member,
    )
    return NestedPlan(
        member=member,
        companies_info=info,
        companies=companies,
        contacts_info=contacts_info,
        contacts=dataclasses.replace(contacts, companies=link),
    )


def people_hint(member: str, object_name: str) -> str:
    """What init says when it writes one step over records that hold people."""
    if object_name == "companies":
        return (
            f'Each record also holds people in "{member}": a second step with object: '
            f"contacts and source records: {member} loads them, linked to their company by "
            f"companyId looked up by parent.name (crmsync init without --object writes both "
            "steps)."
        )
    return (
        f'Each record holds people in "{member}": these rows are the records, not the people. '
        f"To load the people, set records: {member} in the source (a row per person, the "
        "record's members as parent.<member>); the records themselves load as companies "
        "(--object companies)."
    )
