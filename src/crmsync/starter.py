"""`crmsync init`: a starter pipeline file with a mapping suggested from a file's headers.

Knows the column names of common exports (Google Contacts, Outlook, HubSpot, Salesforce,
Mailchimp, Redmine CRM). Headers are compared the way mappings are (case, spaces and
punctuation ignored), so "E-mail Address" and "email_address" are one name.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from crmsync.schema import OBJECTS
from crmsync.transform.mapping import header_key

# Rally field -> header names seen in exports, most specific first.
KNOWN_HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    "contacts": {
        "firstName": ("First Name", "Given Name", "FirstName", "First", "fname", "Forename"),
        "lastName": ("Last Name", "Family Name", "Surname", "LastName", "Last", "lname"),
        "fullName": ("Full Name", "Name", "Contact Name", "Display Name", "Contact"),
        "email": (
            "Email",
            "E-mail Address",
            "Email Address",
            "E-mail 1 - Value",
            "Primary Email",
            "Work Email",
            "Email 1",
            "Mail",
            "E-mail",
        ),
        "phone": (
            "Phone",
            "Business Phone",
            "Phone Number",
            "Phone 1 - Value",
            "Work Phone",
            "Primary Phone",
            "Telephone",
        ),
        "mobile": (
            "Mobile Phone",
            "Mobile",
            "Mobile Phone Number",
            "Cell",
            "Cell Phone",
            "Phone 2 - Value",
        ),
        "title": ("Job Title", "Title", "Organization 1 - Title", "Position", "Role"),
        "department": ("Department", "Organization 1 - Department"),
        "linkedInUrl": ("LinkedIn", "LinkedIn URL", "LinkedIn Profile", "LinkedIn Bio"),
        "twitterHandle": ("Twitter", "Twitter Username", "Twitter Handle"),
        "address": (
            "Address",
            "Street",
            "Street Address",
            "Business Street",
            "Mailing Street",
            "Address 1 - Street",
            "Street 1",
            "Address Line 1",
        ),
        "city": ("City", "Business City", "Mailing City", "Address 1 - City", "Town"),
        "state": (
            "State",
            "State/Province",
            "Business State",
            "Mailing State",
            "Address 1 - Region",
            "Region",
            "Province",
            "State/Region",
        ),
        "country": (
            "Country",
            "Country/Region",
            "Business Country/Region",
            "Mailing Country",
            "Address 1 - Country",
        ),
        "postalCode": (
            "Postal Code",
            "ZIP",
            "Zip Code",
            "Business Postal Code",
            "Mailing Zip/Postal Code",
            "Address 1 - Postal Code",
            "Postcode",
            "ZIP/Postal Code",
        ),
        "leadSource": ("Lead Source", "Original Source", "Source"),
        "leadScore": ("Lead Score", "HubSpot Score", "Score", "Member Rating"),
        "lifecycleStage": ("Lifecycle Stage", "Lead Status", "Stage"),
        "tags": ("Tags", "Labels", "Group Membership", "Categories", "TAGS"),
        "notes": ("Notes", "Note", "Background", "Description", "Comments"),
    },
    "companies": {
        "name": (
            "Company Name",
            "Name",
            "Company",
            "Account Name",
            "Organization",
            "Organization 1 - Name",
            "First name",
        ),
        "domain": ("Domain", "Company Domain Name", "Website Domain", "Email Domain"),
        "website": ("Website", "Website URL", "Web Site", "URL", "Homepage"),
        "industry": ("Industry", "Sector"),
        "description": ("Description", "About", "Background"),
        "employeeCount": (
            "Employees",
            "Number of Employees",
            "NumberOfEmployees",
            "Employee Count",
            "Headcount",
        ),
        "annualRevenue": ("Annual Revenue", "AnnualRevenue", "Revenue"),
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
    "activities": {
        "activityType": ("Activity Type", "Type", "Kind", "Engagement Type"),
        "subject": ("Subject", "Title", "Name", "Activity"),
        "body": ("Body", "Description", "Notes", "Content", "Note", "Comments"),
        "scheduledAt": ("Scheduled At", "Start", "Start Date", "Date", "Activity Date"),
        "dueDate": ("Due Date", "Due", "Deadline"),
        "priority": ("Priority",),
        "status": ("Status", "State"),
        "callDirection": ("Call Direction", "Direction"),
        "callOutcome": ("Call Outcome", "Outcome", "Disposition"),
        "callDurationSeconds": ("Call Duration Seconds", "Duration (seconds)", "Call Duration"),
        "durationMinutes": ("Duration Minutes", "Duration (minutes)", "Duration"),
        "location": ("Location", "Place"),
        "meetingUrl": ("Meeting URL", "Meeting Link", "Video Link"),
    },
}


@dataclass(frozen=True)
class Suggestion:
    mapping: dict[str, str]  # Rally field -> source column
    unmapped_columns: list[str]  # source columns no field took
    missing_required: list[str]  # required Rally fields no column matched


def suggest_mapping(columns: list[str], object_name: str) -> Suggestion:
    """Match each Rally field to the first known header the file has; each column used once."""
    by_key: dict[str, str] = {}
    for name in columns:
        by_key.setdefault(header_key(name), name)
    fields = OBJECTS[object_name].wire_fields
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for field, names in KNOWN_HEADERS[object_name].items():
        for candidate in (field, *names):
            column = by_key.get(header_key(candidate))
            if column is not None and column not in used:
                mapping[field] = column
                used.add(column)
                break
    if "firstName" in mapping and "lastName" in mapping:
        full = mapping.pop("fullName", "")  # split names win; a full name is the fallback
        if full:
            used.discard(full)
    covered = {"firstName", "lastName"} if "fullName" in mapping else set()
    missing = [
        f for f, required in fields.items() if required and f not in mapping and f not in covered
    ]
    unmapped = [c for c in columns if c not in used]
    return Suggestion(mapping, unmapped, missing)


def render_pipeline(
    *, name: str, object_name: str, source_kind: str, source_path: str, suggestion: Suggestion
) -> str:
    """The pipeline file text, with comments a first-time user needs."""

    def scalar(value: str) -> str:
        return (
            yaml.safe_dump(value, default_flow_style=True, width=1000).strip().removesuffix("\n...")
        )

    lines = [
        f"# Starter pipeline written by `crmsync init` from {Path(source_path).name}.",
        "# Check the mapping, then: crmsync run THIS_FILE --dry-run",
        "# Destination from the environment: RALLY_BASE_URL (tenant root) and RALLY_API_KEY.",
        f"name: {scalar(name)}",
        f"object: {object_name}",
        "",
        "source:",
        f"  kind: {source_kind}",
        f"  path: {scalar(source_path)}",
        "  encoding: auto",
        "  delimiter: auto",
        "",
        "mapping:  # Rally field: source column",
    ]
    lines += [f"  {field}: {scalar(column)}" for field, column in suggestion.mapping.items()]
    for field in suggestion.missing_required:
        lines.append(f"  # {field}: ???   required, and no column looked like it")
    if suggestion.unmapped_columns:
        lines.append("  # not mapped: " + ", ".join(suggestion.unmapped_columns))
    lines += [
        "",
        "normalize:",
        "  default_region: null   # e.g. US: how to read phone numbers without +country",
        "",
        "dedupe:",
        "  keep: first            # first | last | most_complete | newest (with newest_by)",
        "",
        "destination:",
        "  base_url: ${RALLY_BASE_URL}",
        "  api_key: ${RALLY_API_KEY}",
        "",
        "load:",
        "  mode: bulk             # bulk: 100 a request; upsert: one request a record,"
        " matched by key",
        "  batch_size: 100",
        "  concurrency: 4",
        "",
        "report:",
        f"  dir: reports/{name}",
        "",
    ]
    return "\n".join(lines)


def write_starter(
    source: Path, *, object_name: str, output: Path, columns: list[str], source_kind: str
) -> Suggestion:
    """Write the starter file; the source path in it is relative to the output's folder."""
    suggestion = suggest_mapping(columns, object_name)
    relative = os.path.relpath(source.resolve(), output.resolve().parent)
    text = render_pipeline(
        name=source.stem.replace(" ", "-").lower() or "pipeline",
        object_name=object_name,
        source_kind=source_kind,
        source_path=relative,
        suggestion=suggestion,
    )
    output.write_text(text, encoding="utf-8")
    return suggestion


SOURCE_KINDS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
}


def source_kind_of(path: Path) -> str:
    """csv, json or ndjson from the file's extension (csv when unknown)."""
    return SOURCE_KINDS.get(path.suffix.lower(), "csv")
