"""The starter file for records that hold their people: a companies step over the records,
then a contacts step over the people nested in them (``nested``), written with the same
pieces as every starter file (``render``)."""

from __future__ import annotations

from crmsync.starter.nested import NestedPlan
from crmsync.starter.render import step_item, step_lines, tail_lines
from crmsync.starter.yaml_text import comment_lines, quoted, scalar


def render_nested(*, name: str, plan: NestedPlan) -> str:
    """The pipeline file's text: two steps over one file, each explained as init explains a
    step, and why there are two."""
    info = plan.contacts_info
    link = plan.contacts.companies
    keys = " or ".join(str(next(iter(key.values()))) for key in link.lookup["by"]) if link else ""
    contacts = plan.contacts.object_name
    word = "record" if info.kind == "json" else "line"
    lines = [
        *comment_lines(
            f"Starter pipeline written by `crmsync init` from {quoted(info.file_name)}. Check "
            "the mapping, then: crmsync run THIS_FILE --dry-run"
        ),
        "# Destination from the environment: RALLY_BASE_URL (tenant root) and RALLY_API_KEY.",
        f"name: {scalar(name)}",
        "",
        *comment_lines(
            f"Each record of the file is a company holding its people in {quoted(plan.member)} "
            f"({plan.companies_info.rows} records, {info.rows} people). Rally links a contact to "
            "a company by its id, so the companies are loaded first, once each; then the "
            f"people, a row each (records: {plan.member}), each finding the company whose "
            f"record holds it by {keys} (companyId). Reports name a person's row by its place "
            f"in the file, found_at ({word} 3, {plan.member}[0])."
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
            [
                f"name: {contacts}",
                f"object: {contacts}",
                "",
                *step_lines(contacts, info, plan.contacts),
            ]
        ),
        "",
        *tail_lines(name),
    ]
    return "\n".join(lines) + "\n"
