"""`crmsync init`: mapping suggestions from header names alone (no rows to check them against).

The corpus of whole export files is in tests/starter."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmsync.config import load_pipeline
from crmsync.starter import render_pipeline, suggest_mapping
from crmsync.starter.render import SourceInfo

EXPORTS = {
    "google-contacts": (
        [
            "Name",
            "Given Name",
            "Family Name",
            "E-mail 1 - Value",
            "Phone 1 - Value",
            "Organization 1 - Title",
            "Labels",
        ],
        {
            "firstName": "Given Name",
            "lastName": "Family Name",
            "email": "E-mail 1 - Value",
            "phone": "Phone 1 - Value",
            "title": "Organization 1 - Title",
        },  # Labels: "* myContacts ::: Friends" is no tag list
    ),
    "outlook": (
        [
            "First Name",
            "Middle Name",
            "Last Name",
            "E-mail Address",
            "Business Phone",
            "Mobile Phone",
            "Business City",
            "Business Postal Code",
        ],
        {
            "firstName": "First Name",
            "lastName": "Last Name",
            "email": "E-mail Address",
            "phone": "Business Phone",
            "mobile": "Mobile Phone",
            "city": "Business City",
            "postalCode": "Business Postal Code",
        },
    ),
    "hubspot": (
        [
            "First Name",
            "Last Name",
            "Email",
            "Phone Number",
            "Lifecycle Stage",
            "Original Source",
            "HubSpot Score",
        ],
        {
            "firstName": "First Name",
            "lastName": "Last Name",
            "email": "Email",
            "phone": "Phone Number",
            "lifecycleStage": "Lifecycle Stage",
            "leadSource": "Original Source",
            "leadScore": "HubSpot Score",
        },
    ),
    "salesforce": (
        ["FirstName", "LastName", "Email", "Title", "MailingStreet", "MailingCity", "LeadSource"],
        {
            "firstName": "FirstName",
            "lastName": "LastName",
            "email": "Email",
            "title": "Title",
            "address": "MailingStreet",
            "city": "MailingCity",
            "leadSource": "LeadSource",
        },
    ),
    "mailchimp": (
        ["Email Address", "First Name", "Last Name", "MEMBER_RATING", "TAGS"],
        {
            "email": "Email Address",
            "firstName": "First Name",
            "lastName": "Last Name",
            "tags": "TAGS",  # no rows to show the quotes Mailchimp puts around each tag
        },
    ),
    "redmine-crm": (
        [
            "#",
            "Full name",
            "First name",
            "Last name",
            "Middle Name",
            "Job title",
            "Company",
            "Phone",
            "Email",
            "Street 1",
            "City",
            "State",
            "ZIP",
            "Country",
            "Tags",
        ],
        {
            "firstName": "First name",
            "lastName": "Last name",
            "email": "Email",
            "title": "Job title",
            "phone": "Phone",
            "address": "Street 1",
            "city": "City",
            "state": "State",
            "postalCode": "ZIP",
            "country": "Country",
            "tags": "Tags",
        },
    ),
}


@pytest.mark.parametrize(("columns", "expected"), list(EXPORTS.values()), ids=list(EXPORTS))
def test_known_exports_map_to_contact_fields(columns: list[str], expected: dict[str, str]) -> None:
    suggestion = suggest_mapping(columns, "contacts")
    assert {k: v for k, v in suggestion.mapping.items() if k in expected} == expected
    assert suggestion.missing_required == ()
    assert set(suggestion.unmapped_columns) == set(columns) - set(suggestion.mapping.values())


def test_missing_required_fields_are_listed() -> None:
    suggestion = suggest_mapping(["Email", "Favourite colour"], "contacts")
    assert suggestion.missing_required == ("firstName", "lastName")
    assert suggestion.unmapped_columns == ["Favourite colour"]


def test_companies_and_activities() -> None:
    companies = suggest_mapping(
        ["Company Name", "Website", "Number of Employees", "Annual Revenue"], "companies"
    )
    assert companies.mapping == {
        "name": "Company Name",
        "domain": "Website",  # Rally's key for companies, from the website
        "website": "Website",
        "employeeCount": "Number of Employees",
        "annualRevenue": "Annual Revenue",
    }
    activities = suggest_mapping(["Type", "Subject", "Notes", "Due Date"], "activities")
    assert activities.mapping == {
        "activityType": "Type",
        "subject": "Subject",
        "body": "Notes",
        "dueDate": "Due Date",
    }


def test_rendered_file_is_a_valid_pipeline(tmp_path: Path) -> None:
    columns, _ = EXPORTS["outlook"]
    text = render_pipeline(
        name="outlook",
        object_name="contacts",
        source=SourceInfo(kind="csv", path="export: 2026.csv", file_name="export: 2026.csv"),
        suggestion=suggest_mapping(columns, "contacts"),
    )
    path = tmp_path / "p.yaml"
    path.write_text(text)
    pipeline = load_pipeline(
        path, env={"RALLY_BASE_URL": "http://127.0.0.1:1", "RALLY_API_KEY": "k"}
    )
    assert pipeline.step.mapping["email"].column == "E-mail Address"
    assert pipeline.step.source.path == Path("export: 2026.csv")


def test_full_name_only_maps_to_full_name_and_satisfies_names() -> None:
    suggestion = suggest_mapping(["Name", "Email"], "contacts")
    assert suggestion.mapping == {"fullName": "Name", "email": "Email"}
    assert suggestion.missing_required == ()


def test_split_names_win_over_a_full_name() -> None:
    suggestion = suggest_mapping(["Full name", "First name", "Last name", "Email"], "contacts")
    assert "fullName" not in suggestion.mapping
    assert "Full name" in suggestion.unmapped_columns


def test_a_rating_is_never_a_lead_score_and_an_honorific_never_a_title() -> None:
    mailchimp = suggest_mapping(
        ["Email Address", "MEMBER_RATING", "REGION", "CC", "TIMEZONE", "OPTIN_TIME"], "contacts"
    )
    assert "leadScore" not in mailchimp.mapping
    assert "state" not in mailchimp.mapping
    assert mailchimp.mapping["country"] == "CC"
    outlook = suggest_mapping(
        ["Title", "First Name", "Last Name", "Suffix", "Business Street", "E-mail Type"], "contacts"
    )
    assert "title" not in outlook.mapping


@pytest.mark.parametrize(
    ("columns", "field", "column"),
    [
        (
            ["First Name", "Last Name", "URL", "Email Address", "Company", "Position"],
            "linkedInUrl",
            "URL",
        ),
        (
            ["Title", "First Name", "Business Country/Region", "E-mail Type", "Suffix"],
            "country",
            "Business Country/Region",
        ),
        (["name", "billing_state", "billing_postal_code", "is_deleted"], "state", "billing_state"),
    ],
    ids=["linkedin-url", "outlook-country", "salesforce-snake-state"],
)
def test_product_names_map(columns: list[str], field: str, column: str) -> None:
    object_name = "companies" if "billing_state" in columns else "contacts"
    assert suggest_mapping(columns, object_name).mapping[field] == column
