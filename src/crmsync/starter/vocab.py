"""What `crmsync init` knows about column names: per export product, and in general.

A product's entries say, for the headers it writes, which Rally field each one fills and why
(the reason becomes the YAML comment), or why it is left alone (an honorific, a 1-5 rating, a
system group). Headers are matched the way mappings match them (case, spaces and punctuation
ignored). A product is recognised by its signature: headers spelled exactly as it writes them,
so "FirstName" (Salesforce's API name) and "First Name" (its report label) tell two exports
apart even though a mapping reads either.

Targets other than Rally fields: ``SOURCE_ID`` (the pipeline's ``source_id``), ``COMPANY`` (the
contact's company: a companies step's business), ``OWNER`` (a user of the other system),
``None`` (nothing to fill; the reason is shown in the not-mapped list). A header with a ``*``
is a pattern (``Home *``, ``E-mail * - Type``), for the reasons only.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field

SOURCE_ID = "@source_id"
COMPANY = "@company"
OWNER = "@owner"

# What the reason of a company's own column (its website, its billing address) says: the
# companies step init proposes reads those columns.
COMPANY_PART = "a companies step's business"
COMPANY_WHY = (
    "the company's name: Rally links a contact to a company by companyId, so a companies "
    "step can be added to create the companies and link these contacts to them"
)
OWNER_WHY = (
    "a user of {product}, not a Rally user id: ownerId needs a values_file that translates "
    "them (two columns: this value, the Rally user's id)"
)


@dataclass(frozen=True)
class Known:
    """One header a product writes: the target it fills (or None) and why."""

    header: str
    target: str | None
    why: str = ""
    fallback: bool = False  # read only where the field's first column is empty


@dataclass(frozen=True)
class Product:
    """An export shape: its signature headers and what its columns mean, per Rally object."""

    key: str
    label: str  # "a Google Contacts export"
    owner: str  # whose users an owner column names
    holds: str  # the Rally object its rows are: contacts or companies
    signature: tuple[str, ...]
    min_signature: int
    entries: dict[str, tuple[Known, ...]] = field(default_factory=dict)
    no_names: str = ""  # why its rows may lack names, for the hint about them
    # its names are tried for files of no recognised product; a localized product's one-word
    # labels ("Service", "Ufficio") mean other things elsewhere
    lends: bool = True


def K(header: str, target: str | None, why: str = "", *, fallback: bool = False) -> Known:
    """Short for Known(...): the vocabulary tables read as tables."""
    return Known(header, target, why, fallback)


FIELD_WHAT: dict[str, str] = {
    "firstName": "first name",
    "lastName": "last name",
    "fullName": "full name (split into first and last name where those are empty)",
    "email": "email",
    "phone": "phone",
    "mobile": "mobile phone",
    "title": "job title",
    "department": "department",
    "linkedInUrl": "LinkedIn profile",
    "twitterHandle": "Twitter handle",
    "address": "street address",
    "city": "city",
    "state": "state or province",
    "country": "country",
    "postalCode": "postal code",
    "leadSource": "lead source",
    "leadScore": "0-100 lead score",
    "lifecycleStage": "lifecycle stage",
    "tags": "tags",
    "notes": "notes",
    "name": "company name",
    "domain": "website domain (Rally's key for companies)",
    "website": "website",
    "industry": "industry",
    "description": "description",
    "employeeCount": "number of employees",
    "annualRevenue": "annual revenue",
    "activityType": "activity type",
    "subject": "subject",
    "body": "body",
    "scheduledAt": "date and time",
    "dueDate": "due date",
    "priority": "priority",
    "status": "status",
    "callDirection": "call direction",
    "callOutcome": "call outcome",
    "callDurationSeconds": "call duration in seconds",
    "durationMinutes": "duration in minutes",
    "location": "location",
    "meetingUrl": "meeting link",
}


def usual_entries(table: dict[str, tuple[str, ...]], *others: Known) -> tuple[Known, ...]:
    """Entries for usual header names (their reason says so), then ``others``."""
    usual = (
        K(header, target, f"a usual name for the {FIELD_WHAT.get(target, target)}")
        for target, headers in table.items()
        for header in headers
    )
    return (*usual, *others)


# A contacts file's website and domain columns: Rally contacts have neither field, and beside
# a company column they are the company's, its key in Rally (a personal page comes under
# another name in the exports that have one: Google's "Website 1 - Value", vCard's "URL").
COMPANY_SITES = (
    "Website", "Website URL", "Web Site", "Company Website", "Company URL", "Homepage",
    "Account Website", "Web Page", "Webseite", "Page Web", "Página web", "Pagina Web",
    "Webpagina",
)  # fmt: skip
COMPANY_DOMAINS = ("Domain", "Company Domain", "Company Domain Name", "Website Domain")
COMPANY_SITE_WHY = f"the company's website: {COMPANY_PART}"
COMPANY_DOMAIN_WHY = f"the company's domain: {COMPANY_PART}"


def matches(header: str, known: str, key: Callable[[str], str]) -> bool:
    """``known`` names ``header``: the same key, or a pattern (``Home *``) that fits it."""
    if "*" in known:
        return fnmatch.fnmatchcase(header.casefold(), known.casefold())
    return key(header) == key(known)


def recognise(columns: list[str], products: tuple[Product, ...]) -> Product | None:
    """The product whose signature headers the file has most of (spelled as it writes them)."""
    present = {column.strip().casefold() for column in columns}
    best: tuple[int, Product] | None = None
    for product in products:
        score = sum(1 for header in product.signature if header.casefold() in present)
        if score >= product.min_signature and (best is None or score > best[0]):
            best = (score, product)
    return best[1] if best else None
