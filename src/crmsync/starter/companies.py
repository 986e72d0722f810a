"""A companies step for a contacts file whose rows name their company.

Rally links a contact to a company by ``companyId``, a Rally id: the companies must exist
first. So init writes two steps over the same file: ``companies`` (one per name: rows that
name a company, deduped by domain, else by name) and then ``contacts`` with a ``companyId``
lookup that finds the company each row names. The companies step takes the company's name,
its website and the account's own columns when the file has them (a Salesforce report's
``Billing City``), and a domain from its domain column, else the website, else the contact's
email when that is no free-mail provider's; the lookup tries the same keys in the same order,
then the name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from crmsync.report.wording import counted
from crmsync.starter.model import Mapped, Table
from crmsync.transform.keys import name_key
from crmsync.transform.placeholders import is_no_value

COMPANY_FIELDS_KEPT_OUT = ("ownerId",)  # a user of the other system needs a values_file


@dataclass(frozen=True)
class CompaniesStep:
    """The companies step init proposes, and how the contacts step links to it."""

    company: str  # the column naming each row's company
    fields: tuple[Mapped, ...]  # the companies step's mapping
    lookup: dict[str, Any]  # companyId's `lookup:` on the contacts step
    names: int  # different company names in the file
    rows: int  # rows naming a company

    @property
    def mapping(self) -> dict[str, str | list[str]]:
        """Rally field -> its column, or its columns in order (as `Suggestion.mapping`)."""
        out: dict[str, str | list[str]] = {}
        for item in self.fields:
            columns = item.columns
            out[item.field] = columns[0] if len(columns) == 1 else columns
        return out

    @property
    def columns(self) -> set[str]:
        """Every column the companies step reads."""
        return {self.company, *(c for item in self.fields for c in item.columns)}


def companies_step(
    table: Table,
    company: str,
    parts: list[str],
    contacts: dict[str, Mapped],
    suggested: tuple[Mapped, ...],
) -> CompaniesStep:
    """The step for `company` (the column naming the company) and `parts` (the columns the
    vocabulary calls the account's: website, billing address, industry); `suggested` is the
    companies suggestion for those columns alone."""
    names = [value for value in table.values(company) if not is_no_value(value)]
    fields = {
        item.field: item
        for item in suggested
        if item.field not in COMPANY_FIELDS_KEPT_OUT and set(item.columns) <= {company, *parts}
    }
    several = sum(1 for name in names if ";" in name.strip(" ;"))
    why = "the company each row names"
    if several:  # HubSpot's associated companies: a name of its own with ";" would be cut
        named = counted(several, "cell")
        why += f" ({named} with several names, split at ';': the first is used, with a warning)"
    fields["name"] = Mapped("name", company, why)
    given = fields["domain"].columns[:1] if "domain" in fields else []
    website = fields.get("website")
    sites = list(dict.fromkeys([*given, *(website.columns[:1] if website else [])]))
    emails = contacts["email"].columns if "email" in contacts else []
    if sites or emails:
        keys = [*sites, *emails]
        origin = f" of {' or '.join(repr(c) for c in sites)}, else" if sites else ""
        fields["domain"] = Mapped(
            "domain",
            keys if len(keys) > 1 else keys[0],
            f"the domain{origin} of the contact's email when it is no free-mail provider's "
            "(Rally's key for companies); without one, companies are deduped by name",
        )
    order = ["name", "domain", "website"]
    ordered = [fields[f] for f in order if f in fields]
    ordered += [item for f, item in fields.items() if f not in order]
    by: list[dict[str, str]] = [{"domain": column} for column in sites]
    by += [{"email_domain": column} for column in emails[:1]]
    by.append({"name": company})
    lookup = {"object": "companies", "by": by, "on_missing": "null"}
    return CompaniesStep(
        company=company,
        fields=tuple(ordered),
        lookup=lookup,
        names=pl.DataFrame({"n": names}, schema={"n": pl.String})
        .select(name_key(pl.col("n")))
        .to_series()
        .drop_nulls()
        .n_unique(),
        rows=len(names),
    )
