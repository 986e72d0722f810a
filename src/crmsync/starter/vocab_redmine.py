"""Redmine CRM's contacts export, as its own reader gives it.

A Redmine CSV export is recognised by its English captions (``#``, ``Full name``, ``Job title``,
``Street 1``) and then read by the ``redmine_export`` source, whose columns (``first_name``,
``second_phone``, ``cf:<custom field>``) are what these entries name.
"""

from __future__ import annotations

from crmsync.starter.vocab import COMPANY, COMPANY_WHY, OWNER, OWNER_WHY, SOURCE_ID, K, Product
from crmsync.starter.vocab_people import MIDDLE

REDMINE = Product(
    key="redmine",
    label="a Redmine CRM contacts export",
    owner="Redmine",
    holds="contacts",
    signature=("#", "Full name", "First name", "Job title", "Street 1", "Is company", "Assignee"),
    min_signature=4,
    no_names=(
        "Redmine keeps companies as contacts with only a first name, the company's name: a "
        "companies step can take those"
    ),
    entries={
        "contacts": (
            K("id", SOURCE_ID, "Redmine's contact id"),
            K("first_name", "firstName", "Redmine's first name"),
            K("last_name", "lastName", "Redmine's last name"),
            K("middle_name", None, MIDDLE.format(first="first_name", middle="middle_name")),
            K("email", "email", "Redmine's first email (the others are in other_emails_text)"),
            K("phone", "phone", "Redmine's first phone"),
            K("second_phone", "mobile", "Redmine's second phone"),
            K("job_title", "title", "Redmine's job title"),
            K("street", "address", "Redmine's street"),
            K("city", "city", "Redmine's city"),
            K("region", "state", "Redmine's region (state)"),
            K("postcode", "postalCode", "Redmine's postcode"),
            K("country", "country", "Redmine's country"),
            K("tags", "tags", "Redmine's tags"),
            K("background", "notes", "Redmine's background"),
            K("company", COMPANY, COMPANY_WHY),
            K("assigned_to_name", OWNER, OWNER_WHY),
            K(
                "other_emails_text",
                None,
                "the other emails; to keep them:\n"
                '  notes: {template: "{background}\\n{other_emails_text}"}',
            ),
            K("custom_fields_text", None, "every custom field as name: value lines"),
            K("other_emails", None, "the emails after the first (other_emails_text, for notes)"),
            K("other_phones", None, "the phones after the first (the second is second_phone)"),
            K("website", None, "a web page; Rally contacts have no website field"),
            K("is_company", None, "true for companies (only the older export says which)"),
            K("custom_fields", None, "the custom fields as JSON; each is a cf: column too"),
            K("assigned_to_id", None, "Redmine's id of the assignee (assigned_to_name is named)"),
        ),
        "companies": (
            K("id", SOURCE_ID, "Redmine's contact id"),
            K("first_name", "name", "Redmine keeps a company's name in first_name"),
            K("website", "website", "Redmine's website"),
            K(
                "email",
                None,
                "the company's email; its domain can key the company where the website is "
                "empty (a free-mail domain never does):\n  domain: [website, email]",
            ),
            K("phone", "phone", "Redmine's first phone"),
            K("street", "address", "Redmine's street"),
            K("city", "city", "Redmine's city"),
            K("region", "state", "Redmine's region (state)"),
            K("postcode", "postalCode", "Redmine's postcode"),
            K("country", "country", "Redmine's country"),
            K("tags", "tags", "Redmine's tags"),
            K("background", "notes", "Redmine's background"),
            K("assigned_to_name", OWNER, OWNER_WHY),
        ),
    },
)
