"""Two steps over two files: the companies export, then the contacts that point at it by id.

Rally links a contact to a company by ``companyId``, a Rally id; a source system's contacts
name theirs by its own id (Salesforce's ``AccountId`` is an ``Id`` of ``Account.csv``). So the
companies step reads the companies file, mapped as ``init --object companies`` maps it, with
``source_id`` its id column: each company created once, its Rally id remembered by that id. The
contacts step then finds each contact's company with ``lookup: {by: [source_id: AccountId]}``,
falling back to the company's name where the contacts file names it. A reference column whose
cells name several companies (HubSpot's ``Associated Company IDs``, ``1234;5678``) is looked
up by its first id: the key's ``separator``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from crmsync.report.wording import counted
from crmsync.starter.companies import CompaniesStep
from crmsync.starter.model import Left, Mapped, Suggestion, Table
from crmsync.starter.render import SourceInfo, step_item, step_lines, tail_lines
from crmsync.starter.siblings import ID_SEPARATOR, Link
from crmsync.starter.suggest import suggest
from crmsync.starter.vocab import Product
from crmsync.starter.yaml_text import comment_lines, quoted, scalar


@dataclass(frozen=True)
class LinkedPlan:
    """The companies step over the companies file and the contacts step linked to it."""

    link: Link
    companies_info: SourceInfo
    companies: Suggestion
    contacts_info: SourceInfo
    contacts: Suggestion  # its `companies` holds companyId's lookup by source_id


def linked_plan(
    link: Link,
    contacts: tuple[Table, SourceInfo, Product | None],
    companies: tuple[Table, SourceInfo, Product | None],
) -> LinkedPlan:
    """The two suggestions: the companies file's as ``init --object companies`` makes it
    (its source_id the id column the references hold), the contacts' with companyId."""
    table, info, product = contacts
    parents = _companies_suggestion(link, companies[0], companies[2])
    named = suggest(table, "contacts", product)  # which column names the company, if any
    company = named.companies.company if named.companies else None
    people = suggest(table, "contacts", product, companies_step=False)
    key = {"source_id": link.reference}
    if link.several:  # HubSpot's "1234;5678": the first is the row's company
        key["separator"] = ID_SEPARATOR
    by: list[dict[str, str]] = [key]
    if company is not None:
        by.append({"name": company})
    rows = sum(1 for value in table.values(link.reference))
    step = CompaniesStep(
        company=link.reference,
        fields=parents.fields,
        lookup={"object": "companies", "by": by, "on_missing": "null"},
        names=link.referenced,
        rows=rows,
    )
    reasons = {
        link.reference: (
            f"the {link.noun} each row belongs to: its {link.id_column} in "
            f"{link.companies.name}; companyId is looked up by it"
            + (
                f" ({counted(link.several, 'cell')} of several ids, separated by "
                f"{quoted(ID_SEPARATOR)}: the first is looked up, the others are left out)"
                if link.several
                else ""
            )
        )
    }
    if company is not None:
        reasons[company] = (
            f"the company's name: companyId is looked up by it where {link.reference} finds "
            "no company"
        )
    left = tuple(Left(item.column, reasons.get(item.column, item.why)) for item in people.left)
    people = dataclasses.replace(people, companies=step, left=left)
    return LinkedPlan(link, companies[1], parents, info, people)


def _companies_suggestion(link: Link, table: Table, product: Product | None) -> Suggestion:
    """The companies file's suggestion, its source_id the column the references hold, and
    without the note that a contacts product's file may suit --object contacts better."""
    parents = suggest(table, "companies", product)
    source_id = parents.source_id
    if source_id is None or source_id.columns != [link.id_column]:
        source_id = Mapped(
            "source_id", link.id_column, f"the id the contacts' {quoted(link.reference)} hold"
        )
    left = tuple(item for item in parents.left if item.column != link.id_column)
    return dataclasses.replace(parents, source_id=source_id, left=left, notes=())


def render_linked(*, name: str, plan: LinkedPlan) -> str:
    """The pipeline file's text: the companies step, then the contacts step, and why."""
    link = plan.link
    info = plan.contacts_info
    contacts = plan.contacts
    product = f" ({contacts.product.label})" if contacts.product else ""
    missing = link.referenced - link.found
    lines = [
        *comment_lines(
            f"Starter pipeline written by `crmsync init` from {quoted(info.file_name)}{product} "
            f"and {quoted(plan.companies_info.file_name)}. Check the mapping, then: crmsync "
            "run THIS_FILE --dry-run"
        ),
        "# Destination from the environment: RALLY_BASE_URL (tenant root) and RALLY_API_KEY.",
        *[line for note in contacts.notes for line in comment_lines(note)],
        f"name: {scalar(name)}",
        "",
        *comment_lines(
            f"Two files, one pipeline: {link.said} ({link.found} of the {link.referenced} "
            f"different ids the rows of {quoted(info.file_name)} point at are in "
            f"{quoted(plan.companies_info.file_name)}"
            + (f"; the contacts pointing at the other {missing} load unlinked" if missing else "")
            + "). Rally links a contact to a company by its Rally id, so the companies are "
            f"loaded first, once each, remembered by {quoted(link.id_column)} (source_id); "
            "then the contacts find theirs by it (companyId)."
        ),
        "steps:",
        *step_item(
            [
                "name: companies",
                "object: companies",
                "",
                *step_lines("companies", plan.companies_info, plan.companies),
            ]
        ),
        "",
        *step_item(
            ["name: contacts", "object: contacts", "", *step_lines("contacts", info, contacts)]
        ),
        "",
        *tail_lines(name),
    ]
    return "\n".join(lines) + "\n"
