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

from collections import Counter
from dataclasses import dataclass

from crmsync.extract.json_members import field_member
from crmsync.schema import OBJECTS
from crmsync.starter import values as v
from crmsync.starter.companies import CompaniesStep, companies_step
from crmsync.starter.counts import (
    field_notes,
    keyless_rows,
    mapped_values,
    rescued_by_full_name,
    row_hints,
    rows_of,
)
from crmsync.starter.model import Left, Mapped, Suggestion, Table, rally_fields, split_targets
from crmsync.starter.names import email_offer, name_gaps
from crmsync.starter.regions import RegionGuess, guess_region
from crmsync.starter.vocab import (
    COMPANY,
    COMPANY_PART,
    OWNER,
    SOURCE_ID,
    Known,
    Product,
    matches,
    recognise,
)
from crmsync.starter.vocab_crm import CRM_PRODUCTS
from crmsync.starter.vocab_generic import GENERIC
from crmsync.starter.vocab_people import PEOPLE_PRODUCTS
from crmsync.starter.vocab_redmine import REDMINE
from crmsync.transform.mapping import header_key

PRODUCTS: tuple[Product, ...] = (*PEOPLE_PRODUCTS, *CRM_PRODUCTS, REDMINE)
MAX_PHONE_SLOTS = 9
CUSTOM_FIELD = "cf:"
NEWLINE_ESCAPE = "\\n"  # a line break inside a double-quoted YAML string


class _Builder:
    """The state of one suggestion while columns are claimed."""

    def __init__(self, table: Table, object_name: str, product: Product | None) -> None:
        self.table = table
        self.object_name = object_name
        self.product = product
        self.by_key: dict[str, str] = {}
        for column in table.columns:
            self.by_key.setdefault(header_key(column), column)
        for column in table.columns:  # Redmine's custom fields go by their own names too
            if column.startswith(CUSTOM_FIELD):
                self.by_key.setdefault(header_key(column.removeprefix(CUSTOM_FIELD)), column)
        for column in table.columns:  # a field nested in an API's record by its own name
            if member := field_member(column):
                self.by_key.setdefault(header_key(member), column)
        self.fields: dict[str, Mapped] = {}
        self.left: dict[str, str] = {}
        self.used: set[str] = set()
        self.source_id: Mapped | None = None
        self.typed_phones: tuple[_Slot, list[_Slot]] | None = None
        self.companies: list[str] = []  # columns naming the contact's company
        self.company_parts: list[str] = []  # the company's own columns (website, billing)

    def column(self, header: str) -> str | None:
        found = self.by_key.get(header_key(header))
        return None if found is None or found in self.used else found

    def claim(self, column: str, why: str) -> None:
        self.used.add(column)
        if why:
            self.left[column] = why
        if COMPANY_PART in why:
            self.company_parts.append(column)

    def put(self, target: str, column: str, why: str, notes: tuple[str, ...] = ()) -> None:
        self.used.add(column)
        self.left.pop(column, None)
        self.fields[target] = Mapped(target, column, why, notes)

    def add_fallback(self, target: str, column: str, why: str) -> None:
        first = self.fields[target]
        columns = [*first.columns, column]
        note = f'where "{first.columns[0]}" is empty, {why.rstrip(".")} ("{column}")'
        self.fields[target] = Mapped(target, columns, first.why, (*first.notes, note))
        self.used.add(column)


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
    build = _Builder(table, object_name, product)
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
        _phone_slots(build)
    for known in entries:
        _apply(build, known, fields)
    _duplicates(build)
    _types_vary(build)
    if object_name == "companies":
        _domain_from_website(build)
    if object_name == "contacts":
        _full_name(build)
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


def _companies(build: _Builder) -> CompaniesStep | None:
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
        if other is not product
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


def _apply(build: _Builder, known: Known, fields: list[str]) -> None:
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


@dataclass(frozen=True)
class _Slot:
    """One of Google's numbered phones: its value column, its type column, what the types say."""

    value: str
    types: str
    kind: str
    seen: Counter[str]


def _phone_slots(build: _Builder) -> None:
    """Google's numbered phones: the type column of each slot says phone or mobile."""
    slots: list[_Slot] = []
    for n in range(1, MAX_PHONE_SLOTS + 1):
        value = build.column(f"Phone {n} - Value")
        types = build.column(f"Phone {n} - Type") or build.column(f"Phone {n} - Label")
        if value is None or types is None:
            break
        slots.append(_Slot(value, types, *v.phone_kind(build.table.values(types))))
    mobile = next((slot for slot in slots if slot.kind == "mobile"), None)
    phone = next((slot for slot in slots if slot.kind == "phone"), None)
    if mobile:
        build.put("mobile", mobile.value, f"its type column says {v.examples(mobile.seen)}")
    if phone:
        build.put("phone", phone.value, f"its type column says {v.examples(phone.seen)}")
    elif mixed := next((slot for slot in slots if slot.kind == "mixed"), None):
        build.put("phone", mixed.value, "the contact's first phone")
        build.typed_phones = (mixed, slots)
    for slot in slots:
        if slot.value not in build.used:
            why = f"another phone ({v.examples(slot.seen)}); Rally has one phone and one mobile"
            build.claim(slot.value, why)


def _types_vary(build: _Builder) -> None:
    """The phone slot mapped whatever its type: say so, and how to keep every type."""
    if build.typed_phones is None:
        return
    mixed, slots = build.typed_phones
    parts = [f"{{{slot.types}}}: {{{slot.value}}}" for slot in slots]
    notes = build.fields.get("notes")
    if notes and isinstance(notes.value, str):
        parts.insert(0, f"{{{notes.value}}}")
    template = NEWLINE_ESCAPE.join(parts)
    note = (
        f'"{mixed.types}" varies ({v.examples(mixed.seen)}): phone gets this number whatever '
        "its type. To keep every number with its type instead, in the notes:\n"
        f'  notes: {{template: "{template}"}}'
    )
    phone = build.fields["phone"]
    build.fields["phone"] = Mapped(phone.field, phone.value, phone.why, (*phone.notes, note))


def _duplicates(build: _Builder) -> None:
    """A second column of a mapped name (``Phone``, ``Phone_2``) is read where the first is
    empty."""
    for written, given in build.table.renamed:
        if given in build.used:
            continue
        for item in list(build.fields.values()):
            if item.columns and item.columns[0] == written:
                build.add_fallback(item.field, given, f'the file\'s next "{written}" column')
                break


def _domain_from_website(build: _Builder) -> None:
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


def _full_name(build: _Builder) -> None:
    """A full name beside first and last name: kept only where it fills names rows lack."""
    full = build.fields.get("fullName")
    if full is None or not ({"firstName", "lastName"} <= build.fields.keys()):
        return
    rescued = rescued_by_full_name(build.table, build.fields)
    if rescued:
        note = (
            "fills first and last name where they are empty: "
            f"{rows_of(rescued, build.table.rows)} only this"
        )
        build.fields["fullName"] = Mapped("fullName", full.value, full.why, (*full.notes, note))
        return
    del build.fields["fullName"]
    build.left[full.columns[0]] = "a full name; first and last name come from their own columns"


def _region(build: _Builder) -> RegionGuess:
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
