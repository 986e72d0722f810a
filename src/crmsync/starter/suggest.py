"""The mapping `crmsync init` suggests, with a reason for every line of it.

Each column gets one meaning: the recognised product's vocabulary first (it knows that
Outlook's ``Title`` is an honorific), then the general one, then the other products' names for
Rally fields (a file too partial to be recognised). A suggestion that the values
contradict (``veto``) is not made, and the reason goes to the not-mapped list instead. A few
shapes need more than a header: Google's ``Phone N - Type`` decides which slot is the phone and
which the mobile; a full-name column is kept beside first and last name only when it fills
names some rows lack; a second column of the same name is read where the first is empty.
"""

from __future__ import annotations

from crmsync.schema import OBJECTS
from crmsync.starter import values as v
from crmsync.starter.builder import CUSTOM_FIELD, Builder
from crmsync.starter.companies import CompaniesStep, companies_step
from crmsync.starter.counts import field_notes, keyless_rows, mapped_values, row_hints
from crmsync.starter.full_name import full_name
from crmsync.starter.model import Left, Mapped, Suggestion, Table, rally_fields, split_targets
from crmsync.starter.names import email_offer, name_gaps
from crmsync.starter.phones import phone_slots
from crmsync.starter.regions import RegionGuess, guess_region
from crmsync.starter.vocab import (
    COMPANY,
    OWNER,
    SOURCE_ID,
    Known,
    Product,
    matches,
    recognise,
)
from crmsync.starter.vocab_commerce import COMMERCE_PRODUCTS
from crmsync.starter.vocab_crm import CRM_PRODUCTS
from crmsync.starter.vocab_generic import GENERIC
from crmsync.starter.vocab_localized import LOCALIZED_PRODUCTS, stage_values
from crmsync.starter.vocab_outlook_intl import LOCALIZED_OUTLOOK
from crmsync.starter.vocab_people import PEOPLE_PRODUCTS
from crmsync.starter.vocab_redmine import REDMINE
from crmsync.starter.vocab_sales import SALES_PRODUCTS
from crmsync.transform.mapping import header_key

PRODUCTS: tuple[Product, ...] = (
    *PEOPLE_PRODUCTS,
    *CRM_PRODUCTS,
    *SALES_PRODUCTS,
    *COMMERCE_PRODUCTS,
    REDMINE,
    *LOCALIZED_OUTLOOK,
    *LOCALIZED_PRODUCTS,
)


def suggest(
    table: Table,
    object_name: str,
    product: Product | None = None,
    *,
    companies_step: bool = True,
) -> Suggestion:
    """The suggested mapping of ``table``'s columns onto the Rally object's fields, and of a
    companies step before it when the rows name their company (unless `companies_step` is
    false: an export whose companies are rows of their own)."""
    if product is None:
        product = recognise(table.columns, PRODUCTS)
    build = Builder(table, object_name, product)
    entries = (
        *(product.entries.get(object_name, ()) if product else ()),
        *GENERIC[object_name],
        *_secondary(product, object_name),
    )
    fields = _targets(object_name)
    for column in table.columns:  # its members are columns of their own: they are mapped
        if v.json_objects(table.values(column)):
            build.claim(column, v.JSON_OBJECTS)
    if object_name == "contacts":
        phone_slots(build)
    for known in entries:
        _apply(build, known, fields)
    _duplicates(build)
    _stages(build)
    if object_name == "companies":
        _domain_from_website(build)
    if object_name == "contacts":
        full_name(build)
    companies = _companies(build) if companies_step else None
    for column in table.columns:
        if column not in build.used:
            build.left.setdefault(column, "")
    split = split_targets(object_name)
    covered = {part for name, parts in split.items() if name in build.fields for part in parts}
    required = rally_fields(object_name)
    mapped = {name: table.values(item.columns[0]) for name, item in build.fields.items()}
    key = OBJECTS[object_name].match_key
    missing = tuple(
        f for f, req in required.items() if req and f not in build.fields and f not in covered
    )
    ordered = [
        Mapped(item.field, item.value, item.why, (*item.notes, *field_notes(table, item)))
        for item in (build.fields[f] for f in fields if f in build.fields)
    ]
    order = {c: i for i, c in enumerate(table.columns)}
    left = sorted(build.left.items(), key=lambda item: order.get(item[0], len(order)))
    return Suggestion(
        object_name=object_name,
        product=product,
        fields=tuple(ordered),
        left=tuple(Left(c, why) for c, why in left),
        missing_required=missing,
        source_id=build.source_id,
        region=_region(build) if table.frame is not None else RegionGuess(None, ""),
        notes=_object_note(product, object_name),
        keyless=0 if required.get(key or "") else keyless_rows(table, build.fields, key),
        names_offer=_names_offer(table, build.fields) if object_name == "contacts" else "",
        formats=tuple(v.formats(mapped, OBJECTS[object_name])),
        companies=companies,
        hints=tuple(
            row_hints(
                table,
                build.fields,
                [f for f, req in required.items() if req],
                product.no_names if product else "",
            )
        ),
    )


def _names_offer(table: Table, fields: dict[str, Mapped]) -> str:
    """What names_from_email would give the rows without a name (empty: nothing to give)."""
    if table.frame is None or not table.rows:
        return ""
    return email_offer(name_gaps(table, mapped_values(table, fields)))


def _name_count(table: Table, column: str) -> str:
    names = table.values(column)
    return f" ({len(set(names))} different names on {len(names)} rows)" if names else ""


def _companies(build: Builder) -> CompaniesStep | None:
    """The companies step for a contacts file whose rows name their company, with the
    reasons of the columns it reads rewritten to say so."""
    if build.object_name != "contacts" or not build.companies or build.table.frame is None:
        return None
    if "email" not in build.fields or (build.product and build.product.holds == "companies"):
        return None  # rows of companies read as contacts: init says so instead
    company = build.companies[0]
    table = build.table
    sub = suggest(Table([company, *build.company_parts], table.frame), "companies", build.product)
    step = companies_step(table, company, build.company_parts, build.fields, sub.fields)
    if not step.names:
        return None
    # counted as the step counts them (as lookups compare names), so the two comments agree
    build.left[company] = (
        f"the company each row names ({step.names} different names on {step.rows} rows): the "
        "companies step creates each company once, and companyId links the contact to it"
    )
    for item in step.fields:
        for column in item.columns:
            if column in build.company_parts:
                build.left[column] = f"read by the companies step ({item.field})"
    return step


def _secondary(product: Product | None, object_name: str) -> list[Known]:
    """The other products' names for Rally fields, tried last: a file with too few of a
    product's headers to be recognised still gets "MailingStreet" or "Phone 1 - Value" right.
    Their reasons for leaving a column alone are not borrowed: an Outlook "Title" is an
    honorific, a Salesforce one a job title."""
    return [
        known
        for other in PRODUCTS
        if other is not product and other.lends
        for known in other.entries.get(object_name, ())
        if known.target not in (None, COMPANY, OWNER) and "*" not in known.header
    ]


def _targets(object_name: str) -> list[str]:
    """The fields a mapping may fill, in the order the file lists them: a full name right
    after the names it splits into."""
    targets = list(rally_fields(object_name))
    for name, parts in split_targets(object_name).items():
        targets.insert(max(targets.index(part) for part in parts) + 1, name)
    return targets


def _apply(build: Builder, known: Known, fields: list[str]) -> None:
    """One vocabulary entry: claim its column for its target, or leave it with its reason."""
    if "*" in known.header:
        for name in build.table.columns:
            if name not in build.used and matches(name, known.header, header_key):
                build.claim(name, known.why)
        return
    column = build.column(known.header)
    if column is None:
        return
    owner = build.product.owner if build.product else "the source system"
    if known.target == COMPANY:
        build.claim(column, known.why + _name_count(build.table, column))
        build.companies.append(column)
        return
    if known.target == OWNER or known.target is None:
        build.claim(column, known.why.format(product=owner) if known.target == OWNER else known.why)
        return
    if known.target == SOURCE_ID:
        if build.source_id is None and v.unique_ids(build.table.values(column), build.table.rows):
            build.source_id = Mapped("source_id", column, known.why)
            build.used.add(column)
        return
    if known.target not in fields:
        return
    reason = v.veto(known.target, build.table.values(column))
    if reason:
        build.claim(column, f"{reason}; not mapped to {known.target}")
        return
    if known.target in build.fields:
        if known.fallback:
            build.add_fallback(known.target, column, known.why)
        return
    # a second choice whose first is not in the file takes its place
    why = known.why + (" (a custom field)" if column.startswith(CUSTOM_FIELD) else "")
    build.put(known.target, column, why)


def _duplicates(build: Builder) -> None:
    """A second column of a mapped name (``Phone``, ``Phone_2``) is read where the first is
    empty."""
    for written, given in build.table.renamed:
        if given in build.used:
            continue
        for item in list(build.fields.values()):
            if item.columns and item.columns[0] == written:
                build.add_fallback(item.field, given, f'the file\'s next "{written}" column')
                break


def _stages(build: Builder) -> None:
    """Lifecycle stages written in a German portal's words get a translation to HubSpot's
    English ones, which the rest of a Rally's contacts carry."""
    stage = build.fields.get("lifecycleStage")
    if stage is None or not isinstance(stage.value, str):
        return
    translated = stage_values(build.table.values(stage.value))
    if translated:
        value = {"column": stage.value, "values": translated}
        why = f"{stage.why}, its German stage names translated"
        build.fields["lifecycleStage"] = Mapped(stage.field, value, why, stage.notes)


def _domain_from_website(build: Builder) -> None:
    """Rally matches companies by domain: a website gives one where no domain column does."""
    website = build.fields.get("website")
    if website is None:
        return
    column = website.columns[0]
    domain = build.fields.get("domain")
    if domain is None:
        build.fields["domain"] = Mapped(
            "domain", column, f'the domain of "{column}" (Rally\'s key for companies)'
        )
    elif column not in domain.columns:
        note = f'where "{domain.columns[0]}" is empty, the domain of the website ("{column}")'
        build.fields["domain"] = Mapped(
            "domain", [*domain.columns, column], domain.why, (*domain.notes, note)
        )


def _region(build: Builder) -> RegionGuess:
    countries: dict[str, list[str]] = {}
    mapped = build.fields.get("country")
    candidates = [*(mapped.columns if mapped else []), *build.table.columns]
    for column in candidates:
        key = header_key(column)
        if ("country" in key or key == "cc") and column not in countries:
            countries[column] = build.table.values(column)
    countries = {c: vals for c, vals in countries.items() if vals}
    phones = {
        column: build.table.values(column)
        for target in ("phone", "mobile")
        if target in build.fields
        for column in build.fields[target].columns
    }
    return guess_region(countries, phones)


def _object_note(product: Product | None, object_name: str) -> tuple[str, ...]:
    if product is None or product.holds == object_name:
        return ()
    return (
        f"This looks like {product.label}, whose rows are {product.holds}: "
        f"crmsync init --object {product.holds} may suit it better.",
    )
