"""Export shapes of sales tools: Apollo.io, Freshsales, Copper and Microsoft Dynamics 365
(its "Export to Excel" saved as CSV), with their headers as each one writes them.

Apollo writes a person's numbers in five columns (``Work Direct Phone``, ``Mobile Phone``,
``Corporate Phone``: the company's switchboard, ``Home Phone``, ``Other Phone``) and the
company's own columns beside them (``Company Phone``, ``# Employees``, ``Company City``),
which its companies step reads. Freshsales names its phones by their label alone (``Work``,
``Mobile``): those words mean too little elsewhere to be lent to other files.
"""

from __future__ import annotations

from crmsync.starter.vocab import (
    COMPANY,
    COMPANY_PART,
    COMPANY_SITE_WHY,
    COMPANY_WHY,
    OWNER,
    OWNER_WHY,
    SOURCE_ID,
    K,
    Product,
)
from crmsync.starter.vocab_people import HONORIFIC

APOLLO_COMPANY = f"the company's {{what}}: {COMPANY_PART}"
NOT_A_STAGE = "{product}'s {what}, not a lifecycle stage"

APOLLO = Product(
    key="apollo",
    label="an Apollo.io contacts export",
    owner="Apollo",
    holds="contacts",
    signature=(
        "Company Name for Emails",
        "Email Status",
        "Seniority",
        "Departments",
        "Work Direct Phone",
        "Corporate Phone",
        "Person Linkedin Url",
        "Company Linkedin Url",
        "Apollo Contact Id",
        "Apollo Account Id",
    ),
    min_signature=3,
    entries={
        "contacts": (
            K("Apollo Contact Id", SOURCE_ID, "Apollo's contact id"),
            K("First Name", "firstName", "Apollo's first name"),
            K("Last Name", "lastName", "Apollo's last name"),
            K("Title", "title", "Apollo's job title"),
            K("Email", "email", "Apollo's email (empty where its Email Status is Unavailable)"),
            K("Work Direct Phone", "phone", "Apollo's work direct phone"),
            K("Corporate Phone", "phone", "the company's switchboard", fallback=True),
            K("Other Phone", "phone", "Apollo's other phone", fallback=True),
            K("Home Phone", "phone", "Apollo's home phone", fallback=True),
            K("Mobile Phone", "mobile", "Apollo's mobile phone"),
            K("Departments", "department", "Apollo's departments"),
            K("Person Linkedin Url", "linkedInUrl", "the person's LinkedIn profile"),
            K("City", "city", "the person's city"),
            K("State", "state", "the person's state"),
            K("Country", "country", "the person's country"),
            K("Company", COMPANY, COMPANY_WHY),
            K("Contact Owner", OWNER, OWNER_WHY),
            K("Account Owner", OWNER, OWNER_WHY),
            K("Company Name for Emails", None, "the company's name as emails write it"),
            K("Email Status", None, "how sure Apollo is of the email (Verified, Guessed)"),
            K("Seniority", None, "Apollo's seniority band"),
            K(
                "Stage",
                None,
                NOT_A_STAGE.format(product="Apollo", what="prospecting stage (Cold, Approaching)"),
            ),
            K("Lists", None, "Apollo's lists the person is on"),
            K("Apollo Account Id", None, "Apollo's id of the company"),
            K("Twitter Url", None, "the company's Twitter, not the person's"),
            K("Facebook Url", None, "the company's Facebook page"),
            K("Keywords", None, "Apollo's keywords of the company"),
            K("Website", None, COMPANY_SITE_WHY),
            K("Company Phone", None, APOLLO_COMPANY.format(what="phone")),
            K("Company City", None, APOLLO_COMPANY.format(what="city")),
            K("Company State", None, APOLLO_COMPANY.format(what="state")),
            K("Company Country", None, APOLLO_COMPANY.format(what="country")),
            K("Company Linkedin Url", None, APOLLO_COMPANY.format(what="LinkedIn page")),
            K("Industry", None, APOLLO_COMPANY.format(what="industry")),
            K("# Employees", None, APOLLO_COMPANY.format(what="number of employees")),
            K("Annual Revenue", None, APOLLO_COMPANY.format(what="annual revenue")),
            K("Company Address", None, "the company's address in one cell; its parts are read"),
            K("Total Funding", None, "the company's funding"),
            K("Last Contacted", None, "Apollo's last touch"),
            K("Email *", None, "Apollo's sequence statistics"),
            K("Replied", None, "Apollo's sequence statistics"),
            K("Demoed", None, "Apollo's sequence statistics"),
        ),
        "companies": (
            K("Company", "name", "Apollo's company name"),
            K("Website", "website", "Apollo's company website"),
            K("Company Phone", "phone", "Apollo's company phone"),
            K("Company City", "city", "Apollo's company city"),
            K("Company State", "state", "Apollo's company state"),
            K("Company Country", "country", "Apollo's company country"),
            K("Company Linkedin Url", "linkedInUrl", "Apollo's company LinkedIn page"),
            K("Industry", "industry", "Apollo's industry"),
            K("# Employees", "employeeCount", "Apollo's number of employees"),
            K("Annual Revenue", "annualRevenue", "Apollo's annual revenue"),
        ),
    },
)

FRESHSALES = Product(
    key="freshsales",
    label="a Freshsales contacts export",
    owner="Freshsales",
    holds="contacts",
    signature=(
        "Emails",
        "Work",
        "Sales owner",
        "Lifecycle stage",
        "Subscription status",
        "Zipcode",
        "Last contacted time",
        "Territory",
    ),
    min_signature=3,
    no_names="Freshsales requires a Last name only",
    lends=False,  # "Work" and "Mobile" say little outside its export
    entries={
        "contacts": (
            K("First name", "firstName", "Freshsales' first name"),
            K("Last name", "lastName", "Freshsales' last name"),
            K("Emails", "email", "Freshsales' emails (the first of them)"),
            K("Work", "phone", "Freshsales' work number"),
            K("Mobile", "mobile", "Freshsales' mobile number"),
            K("Job title", "title", "Freshsales' job title"),
            K("Zipcode", "postalCode", "Freshsales' zipcode"),
            K("Lifecycle stage", "lifecycleStage", "Freshsales' lifecycle stage"),
            K("Lead source", "leadSource", "Freshsales' lead source"),
            K("Score", "leadScore", "Freshsales' 0-100 contact score"),
            K("Account name", COMPANY, COMPANY_WHY),
            K("Sales owner", OWNER, OWNER_WHY),
            K(
                "Status",
                None,
                NOT_A_STAGE.format(product="Freshsales", what="contact status (New, Contacted)"),
            ),
            K(
                "Subscription status",
                None,
                "Freshsales' email subscription (Subscribed, Unsubscribed); Rally contacts have "
                "no unsubscribe field",
            ),
            K("Territory", None, "Freshsales' sales territory"),
            K("Time zone", None, "Rally contacts have no time zone"),
            K("Created at", None, "when the contact was created in Freshsales"),
            K("Updated at", None, "Freshsales' last change"),
            K("Last contacted time", None, "Freshsales' last touch"),
        )
    },
)

COPPER = Product(
    key="copper",
    label="a Copper people export",
    owner="Copper",
    holds="contacts",
    signature=(
        "Person ID",
        "Contact Type",
        "Owned By",
        "Work Email",
        "Personal Email",
        "Work Website",
        "Interaction Count",
        "Date Added",
    ),
    min_signature=3,
    no_names="Copper keeps people saved under one name (a front desk, a shared inbox)",
    entries={
        "contacts": (
            K("Person ID", SOURCE_ID, "Copper's person id"),
            K("Prefix", None, "Copper's prefix is " + HONORIFIC),
            K("First Name", "firstName", "Copper's first name"),
            K("Last Name", "lastName", "Copper's last name"),
            K("Full Name", "fullName", "Copper's full name"),
            K("Title", "title", "Copper's job title (its honorific is Prefix)"),
            K("Work Email", "email", "Copper's work email"),
            K("Personal Email", "email", "Copper's personal email", fallback=True),
            K("Other Email", "email", "Copper's other email", fallback=True),
            K("Work Phone", "phone", "Copper's work phone"),
            K("Mobile Phone", "mobile", "Copper's mobile phone"),
            K("Details", "notes", "Copper's details (its notes on the person)"),
            K("Company", COMPANY, COMPANY_WHY),
            K("Owned By", OWNER, OWNER_WHY),
            K("Work Website", None, COMPANY_SITE_WHY),
            K(
                "Contact Type",
                None,
                NOT_A_STAGE.format(product="Copper", what="relationship (Potential Customer)"),
            ),
            K("Date Added", None, "when the person was added to Copper"),
            K("Date Modified", None, "Copper's last change"),
            K("Last Contacted", None, "Copper's last touch"),
            K("Interaction Count", None, "Copper's count of emails and meetings"),
        ),
        "companies": (
            K("Company", "name", "Copper's company name"),
            K("Work Website", "website", "Copper's work website"),
        ),
    },
)

DYNAMICS = Product(
    key="dynamics",
    label="a Dynamics 365 export to Excel",
    owner="Dynamics 365",
    holds="contacts",
    signature=(
        "(Do Not Modify) Contact",
        "(Do Not Modify) Account",
        "(Do Not Modify) Row Checksum",
        "(Do Not Modify) Modified On",
        "Address 1: City",
        "Status Reason",
    ),
    min_signature=2,
    entries={
        "contacts": (
            # the hidden columns that let Excel's edits be imported back
            K("(Do Not Modify) Contact", SOURCE_ID, "Dynamics 365's contact id"),
            K("(Do Not Modify) Row Checksum", None, "Dynamics 365's check of the row"),
            K("(Do Not Modify) Modified On", None, "Dynamics 365's last change"),
            K("Full Name", "fullName", "Dynamics 365's full name"),
            K("Email", "email", "Dynamics 365's email"),
            K("Business Phone", "phone", "Dynamics 365's business phone"),
            K("Mobile Phone", "mobile", "Dynamics 365's mobile phone"),
            K("Company Name", COMPANY, COMPANY_WHY),
            K("Owner", OWNER, OWNER_WHY),
            K(
                "Status Reason",
                None,
                NOT_A_STAGE.format(product="Dynamics 365", what="record status (Active, Inactive)"),
            ),
            K("Created On", None, "when the contact was created in Dynamics 365"),
        )
    },
)

SALES_PRODUCTS = (APOLLO, FRESHSALES, COPPER, DYNAMICS)
