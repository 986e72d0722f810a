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


def _generic(table: dict[str, tuple[str, ...]], *others: Known) -> tuple[Known, ...]:
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
    "Account Website",
)  # fmt: skip
COMPANY_DOMAINS = ("Domain", "Company Domain", "Company Domain Name", "Website Domain")
COMPANY_SITE_WHY = f"the company's website: {COMPANY_PART}"
COMPANY_DOMAIN_WHY = f"the company's domain: {COMPANY_PART}"

# Names any export may use, tried after the recognised product's own; the value checks
# (honorifics, scales, region codes) guard the ambiguous ones ("Title", "Region", "Score").
GENERIC: dict[str, tuple[Known, ...]] = {
    "contacts": _generic(
        {
            "firstName": ("First Name", "Given Name", "First", "fname", "Forename", "Vorname"),
            "lastName": ("Last Name", "Family Name", "Surname", "Last", "lname", "Nachname"),
            "fullName": ("Full Name", "Name", "Contact Name", "Display Name", "Contact"),
            "email": ("Email", "E-mail Address", "Email Address", "Primary Email", "Work Email"),
            "phone": ("Phone", "Business Phone", "Phone Number", "Work Phone", "Telephone"),
            "mobile": ("Mobile Phone", "Mobile", "Mobile Phone Number", "Cell", "Cell Phone"),
            "title": ("Job Title", "Title", "Position", "Role"),
            "department": ("Department",),
            "linkedInUrl": ("LinkedIn", "LinkedIn URL", "LinkedIn Profile"),
            "twitterHandle": ("Twitter", "Twitter Username", "Twitter Handle"),
            "address": ("Address", "Street", "Street Address", "Address Line 1", "Street 1"),
            "city": ("City", "Town"),
            "state": ("State", "State/Province", "Province", "State/Region", "Region"),
            "country": ("Country", "Country/Region"),
            "postalCode": ("Postal Code", "ZIP", "Zip Code", "Postcode", "ZIP/Postal Code"),
            "leadSource": ("Lead Source", "Original Source", "Source"),
            "leadScore": ("Lead Score", "Score"),
            "lifecycleStage": ("Lifecycle Stage", "Stage", "Status", "Contact Status"),
            "tags": ("Tags", "Labels", "Categories"),
            "notes": ("Notes", "Note", "Background", "Description", "Comments"),
        },
        K("Company", COMPANY, COMPANY_WHY),
        K("Company Name", COMPANY, COMPANY_WHY),
        K("Account Name", COMPANY, COMPANY_WHY),
        K("Organization", COMPANY, COMPANY_WHY),
        *(K(header, None, COMPANY_SITE_WHY) for header in COMPANY_SITES),
        *(K(header, None, COMPANY_DOMAIN_WHY) for header in COMPANY_DOMAINS),
        K("Owner", OWNER, OWNER_WHY),
        K("ID", SOURCE_ID, "the source system's id"),
    ),
    "companies": _generic(
        {
            "name": ("Company Name", "Name", "Company", "Account Name", "Organization"),
            "domain": (*COMPANY_DOMAINS, "Email Domain"),
            "website": (*COMPANY_SITES, "URL"),
            "industry": ("Industry", "Sector"),
            "description": ("Description", "About", "Background"),
            "employeeCount": ("Employees", "Number of Employees", "Employee Count", "Headcount"),
            "annualRevenue": ("Annual Revenue", "Revenue"),
            "phone": ("Phone", "Phone Number", "Company Phone", "Main Phone"),
            "linkedInUrl": ("LinkedIn", "LinkedIn Company Page", "LinkedIn URL"),
            "address": ("Address", "Street", "Street Address", "Billing Street", "Street 1"),
            "city": ("City", "Billing City"),
            "state": ("State", "State/Region", "Billing State/Province", "Region"),
            "country": ("Country", "Country/Region", "Billing Country"),
            "postalCode": ("Postal Code", "ZIP", "Zip Code", "Billing Zip/Postal Code", "Postcode"),
            "tags": ("Tags", "Labels", "Categories"),
            "notes": ("Notes", "Note", "Comments"),
        },
        K("Owner", OWNER, OWNER_WHY),
        K("ID", SOURCE_ID, "the source system's id"),
    ),
    "activities": _generic(
        {
            "activityType": ("Activity Type", "Type", "Kind", "Engagement Type"),
            "subject": ("Subject", "Title", "Name", "Activity"),
            "body": ("Body", "Description", "Notes", "Content", "Note", "Comments"),
            "scheduledAt": ("Scheduled At", "Start", "Start Date", "Date", "Activity Date"),
            "dueDate": ("Due Date", "Due", "Deadline"),
            "priority": ("Priority",),
            "status": ("Status", "State"),
            "callDirection": ("Call Direction", "Direction"),
            "callOutcome": ("Call Outcome", "Outcome", "Disposition"),
            "callDurationSeconds": ("Call Duration Seconds", "Duration (seconds)"),
            "durationMinutes": ("Duration Minutes", "Duration (minutes)", "Duration"),
            "location": ("Location", "Place"),
            "meetingUrl": ("Meeting URL", "Meeting Link", "Video Link"),
        }
    ),
}


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
