"""Export shapes of address books and marketing tools: Google Contacts, Outlook, HubSpot,
Mailchimp and LinkedIn, with their headers as each one writes them."""

from __future__ import annotations

from crmsync.starter.vocab import (
    COMPANY,
    COMPANY_SITE_WHY,
    COMPANY_WHY,
    OWNER,
    OWNER_WHY,
    SOURCE_ID,
    K,
    Product,
)

HONORIFIC = "an honorific (Mr., Ms., Dr.), not a job title"
MIDDLE = 'a middle name; to keep it:\n  firstName: {{template: "{{{first}}} {{{middle}}}"}}'
ADDRESS_ELSEWHERE = "another address; Rally keeps one (the {kept} one is mapped)"
ANOTHER_PHONE = "another phone number; Rally has one phone and one mobile"

GOOGLE = Product(
    key="google",
    label="a Google Contacts export",
    owner="Google",
    holds="contacts",
    signature=(
        "Given Name",
        "Family Name",
        "Group Membership",
        "E-mail 1 - Value",
        "Phone 1 - Type",
        "Organization 1 - Name",
        "Labels",
        "E-mail 1 - Label",
        "Phone 1 - Label",
        "Organization Name",
    ),
    min_signature=3,
    no_names="Google keeps contacts saved under one word, or with only an email or a company",
    entries={
        "contacts": (
            K("Given Name", "firstName", "Google's given name"),
            K("First Name", "firstName", "Google's first name"),
            K("Family Name", "lastName", "Google's family name"),
            K("Last Name", "lastName", "Google's last name"),
            K("Name", "fullName", "Google's display name"),
            K("Additional Name", None, MIDDLE.format(first="Given Name", middle="Additional Name")),
            K("Middle Name", None, MIDDLE.format(first="First Name", middle="Middle Name")),
            K("Name Prefix", None, HONORIFIC),
            K("Name Suffix", None, "a name suffix (Jr., PhD)"),
            K("E-mail 1 - Value", "email", "Google's first email"),
            K("E-mail 2 - Value", "email", "Google's second email", fallback=True),
            K("E-mail * - Type", None, "the email's label (a * marks the primary one)"),
            K("E-mail * - Label", None, "the email's label (a * marks the primary one)"),
            K("Phone 1 - Value", "phone", "Google's first phone"),
            K("Phone * - Type", None, "the phone's label (Mobile, Work, Home)"),
            K("Phone * - Label", None, "the phone's label (Mobile, Work, Home)"),
            K("Organization 1 - Title", "title", "Google's job title"),
            K("Organization Title", "title", "Google's job title"),
            K("Organization 1 - Department", "department", "Google's department"),
            K("Organization Department", "department", "Google's department"),
            K("Organization 1 - Name", COMPANY, COMPANY_WHY),
            K("Organization Name", COMPANY, COMPANY_WHY),
            K("Address 1 - Street", "address", "Google's first address: street"),
            K("Address 1 - City", "city", "Google's first address: city"),
            K("Address 1 - Region", "state", "Google's first address: region (state)"),
            K("Address 1 - Postal Code", "postalCode", "Google's first address: postal code"),
            K("Address 1 - Country", "country", "Google's first address: country"),
            K(
                "Address 1 - Formatted",
                None,
                "the whole first address in one cell; its parts are mapped",
            ),
            K("Notes", "notes", "Google's notes"),
            K(
                "Group Membership",
                None,
                'Google\'s groups: " ::: " between them is not a tag separator and '
                '"* myContacts" is a system group, so the cell is not sent as tags',
            ),
            K(
                "Labels",
                None,
                'Google\'s labels: " ::: " between them is not a tag separator and '
                '"* myContacts" is a system group, so the cell is not sent as tags',
            ),
            K("Website 1 - Value", None, "a web page; Rally contacts have no website field"),
        )
    },
)

OUTLOOK = Product(
    key="outlook",
    label="an Outlook contacts export",
    owner="Outlook",
    holds="contacts",
    signature=(
        "Business Street",
        "Business Country/Region",
        "E-mail Display Name",
        "E-mail Type",
        "Home Street",
        "Business Postal Code",
        "Mobile Phone",
        "Suffix",
    ),
    min_signature=3,
    entries={
        "contacts": (
            K("Title", None, "Outlook's title is " + HONORIFIC),
            K("First Name", "firstName", "Outlook's first name"),
            K("Middle Name", None, MIDDLE.format(first="First Name", middle="Middle Name")),
            K("Last Name", "lastName", "Outlook's last name"),
            K("Suffix", None, "a name suffix (Jr., III)"),
            K("Company", COMPANY, COMPANY_WHY),
            K("Department", "department", "Outlook's department"),
            K("Job Title", "title", "Outlook's job title"),
            K("Business Street", "address", "Outlook's business street"),
            K("Business City", "city", "Outlook's business city"),
            K("Business State", "state", "Outlook's business state"),
            K("Business Postal Code", "postalCode", "Outlook's business postal code"),
            K("Business Country/Region", "country", "Outlook's business country"),
            K("Business Country", "country", "the business country (Google's Outlook CSV)"),
            K("Business Street *", None, "the business street's next line"),
            K("Business Phone", "phone", "Outlook's business phone"),
            K("Business Phone 2", "phone", "Outlook's second business phone", fallback=True),
            K("Primary Phone", "phone", "Outlook's primary phone", fallback=True),
            K("Company Main Phone", "phone", "Outlook's company main phone", fallback=True),
            K("Home Phone", "phone", "Outlook's home phone", fallback=True),
            K("Mobile Phone", "mobile", "Outlook's mobile phone"),
            K("* Fax", None, "a fax number; Rally has no fax field"),
            K("* Phone*", None, ANOTHER_PHONE),
            K("Pager", None, ANOTHER_PHONE),
            K("Callback", None, ANOTHER_PHONE),
            K("ISDN", None, ANOTHER_PHONE),
            K("Telex", None, ANOTHER_PHONE),
            K("Home *", None, ADDRESS_ELSEWHERE.format(kept="business")),
            K("Other *", None, ADDRESS_ELSEWHERE.format(kept="business")),
            K("E-mail Address", "email", "Outlook's first email"),
            K("E-mail 2 Address", "email", "Outlook's second email", fallback=True),
            K("E-mail Type", None, "SMTP for an email; EX for an Exchange address, not an email"),
            K("E-mail * Type", None, "SMTP for an email; EX for an Exchange address"),
            K("E-mail Display Name", None, "how Outlook shows the address"),
            K("E-mail * Display Name", None, "how Outlook shows the address"),
            K("Categories", "tags", "Outlook's categories (separated by ;)"),
            K("Notes", "notes", "Outlook's notes"),
            K("Web Page", None, COMPANY_SITE_WHY),  # the business one: "Personal Web Page"
            K("Initials", None, "derived from the name"),
            K("Birthday", None, "Rally contacts have no birthday (Outlook writes 0/0/00 for none)"),
            K("Anniversary", None, "Rally contacts have no such field"),
            K("Gender", None, "Rally contacts have no such field"),
            K("Priority", None, "Outlook's item priority"),
            K("Sensitivity", None, "Outlook's item sensitivity"),
            K("Private", None, "Outlook's private flag"),
        )
    },
)

HUBSPOT_CONTACTS = Product(
    key="hubspot-contacts",
    label="a HubSpot contacts export",
    owner="HubSpot",
    holds="contacts",
    signature=(
        "Record ID",
        "Contact owner",
        "Lifecycle Stage",
        "Lead Status",
        "Marketing contact status",
        "Associated Company",
        "Phone Number",
    ),
    min_signature=3,
    no_names="HubSpot keeps contacts that left only an email (form fills, newsletter sign-ups)",
    entries={
        "contacts": (
            K("Record ID", SOURCE_ID, "HubSpot's record id"),
            K("First Name", "firstName", "HubSpot's first name"),
            K("Last Name", "lastName", "HubSpot's last name"),
            K("Email", "email", "HubSpot's email"),
            K("Phone Number", "phone", "HubSpot's phone number"),
            K("Mobile Phone Number", "mobile", "HubSpot's mobile phone number"),
            K("Job Title", "title", "HubSpot's job title"),
            K("Street Address", "address", "HubSpot's street address"),
            K("City", "city", "HubSpot's city"),
            K("State/Region", "state", "HubSpot's state/region"),
            K("Postal Code", "postalCode", "HubSpot's postal code"),
            K("Country/Region", "country", "HubSpot's country/region"),
            K("Lifecycle Stage", "lifecycleStage", "HubSpot's lifecycle stage (Lead, Customer)"),
            K(
                "Lead Status",
                None,
                "HubSpot's sales status (New, Open, ...), not a lifecycle stage",
            ),
            K("Original Source", "leadSource", "HubSpot's original source"),
            K("HubSpot Score", "leadScore", "HubSpot's 0-100 score"),
            K("Contact owner", OWNER, OWNER_WHY),
            K("Company Name", COMPANY, COMPANY_WHY),
            K("Associated Company", COMPANY, COMPANY_WHY),
            K(
                "Primary Associated Company ID",
                None,
                "HubSpot's id of the contact's company: a companies step with source_id "
                '"Record ID" can link contacts by it',
            ),
            K("Website URL", None, "the company's website: a companies step's business"),
            K("Marketing contact status", None, "HubSpot's billing status of the contact"),
            K("Create Date", None, "when the contact was created in HubSpot"),
            K("Last Activity Date", None, "HubSpot's last activity"),
        )
    },
)

HUBSPOT_COMPANIES = Product(
    key="hubspot-companies",
    label="a HubSpot companies export",
    owner="HubSpot",
    holds="companies",
    signature=(
        "Record ID",
        "Company name",
        "Company Domain Name",
        "Company owner",
        "Website URL",
        "Number of Employees",
    ),
    min_signature=3,
    entries={
        "companies": (
            K("Record ID", SOURCE_ID, "HubSpot's record id"),
            K("Company name", "name", "HubSpot's company name"),
            K("Company Domain Name", "domain", "HubSpot's company domain"),
            K("Website URL", "website", "HubSpot's website"),
            K("Industry", "industry", "HubSpot's industry"),
            K("Phone Number", "phone", "HubSpot's phone number"),
            K("Street Address", "address", "HubSpot's street address"),
            K("City", "city", "HubSpot's city"),
            K("State/Region", "state", "HubSpot's state/region"),
            K("Postal Code", "postalCode", "HubSpot's postal code"),
            K("Country/Region", "country", "HubSpot's country/region"),
            K("Number of Employees", "employeeCount", "HubSpot's number of employees"),
            K("Annual Revenue", "annualRevenue", "HubSpot's annual revenue"),
            K("Description", "description", "HubSpot's description"),
            K("LinkedIn Company Page", "linkedInUrl", "HubSpot's LinkedIn company page"),
            K("Company owner", OWNER, OWNER_WHY),
            K("Type", None, "HubSpot's company type (Prospect, Partner, ...)"),
            K("Lifecycle Stage", None, "Rally companies have no lifecycle stage"),
            K("Create Date", None, "when the company was created in HubSpot"),
            K("Last Activity Date", None, "HubSpot's last activity"),
            K("Time Zone", None, "Rally companies have no time zone"),
        )
    },
)

MAILCHIMP = Product(
    key="mailchimp",
    label="a Mailchimp audience export",
    owner="Mailchimp",
    holds="contacts",
    signature=("MEMBER_RATING", "OPTIN_TIME", "CONFIRM_TIME", "LEID", "EUID", "CC", "TIMEZONE"),
    min_signature=3,
    no_names="a Mailchimp sign-up form asks most subscribers for nothing but their email",
    entries={
        "contacts": (
            K("Email Address", "email", "Mailchimp's email"),
            K("First Name", "firstName", "Mailchimp's FNAME merge field"),
            K("Last Name", "lastName", "Mailchimp's LNAME merge field"),
            K(
                "Address",
                "address",
                "Mailchimp's address merge field: street, city, state, zip and country in one "
                "cell, two spaces apart",
            ),
            K("Phone Number", "phone", "Mailchimp's PHONE merge field"),
            K("CC", "country", "Mailchimp's two-letter country code of the subscriber"),
            K("NOTES", "notes", "Mailchimp's notes"),
            K("TAGS", "tags", "Mailchimp's tags"),
            K("Company", COMPANY, COMPANY_WHY),
            K(
                "MEMBER_RATING",
                None,
                "Mailchimp's 1-5 star engagement rating, not a 0-100 lead score; to keep it "
                'anyway, scaled:\n  leadScore: {column: MEMBER_RATING, values: {"1": "20", '
                '"2": "40", "3": "60", "4": "80", "5": "100"}}',
            ),
            K("REGION", None, "Mailchimp's geolocated region code (NY, 14, tg): not a state"),
            K("TIMEZONE", None, "the subscriber's time zone"),
            K("GMTOFF", None, "the subscriber's UTC offset"),
            K("DSTOFF", None, "the subscriber's UTC offset in summer"),
            K("LATITUDE", None, "geolocation"),
            K("LONGITUDE", None, "geolocation"),
            K("OPTIN_TIME", None, "when they subscribed"),
            K("OPTIN_IP", None, "where they subscribed from"),
            K("CONFIRM_TIME", None, "when they confirmed"),
            K("CONFIRM_IP", None, "where they confirmed from"),
            K("LAST_CHANGED", None, "Mailchimp's last change"),
            K("LEID", None, "Mailchimp's id of the member"),
            K("EUID", None, "Mailchimp's id of the member"),
            K("Birthday", None, "Rally contacts have no birthday"),
        )
    },
)

LINKEDIN = Product(
    key="linkedin",
    label="a LinkedIn connections export",
    owner="LinkedIn",
    holds="contacts",
    signature=("URL", "Connected On", "Position", "Email Address", "Company"),
    min_signature=3,
    entries={
        "contacts": (
            K("First Name", "firstName", "LinkedIn's first name"),
            K("Last Name", "lastName", "LinkedIn's last name"),
            K("URL", "linkedInUrl", "the connection's LinkedIn profile"),
            K(
                "Email Address",
                "email",
                "LinkedIn's email, there only when the connection shares it",
            ),
            K("Position", "title", "the connection's position"),
            K("Company", COMPANY, COMPANY_WHY),
            K("Connected On", None, "when you connected; Rally has no field for it"),
        )
    },
)

PEOPLE_PRODUCTS = (GOOGLE, OUTLOOK, HUBSPOT_CONTACTS, HUBSPOT_COMPANIES, MAILCHIMP, LINKEDIN)
