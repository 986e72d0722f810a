"""`crmsync init` on every file of the export corpus: the mapping it suggests, field by field,
and a pipeline file that loads."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from crmsync.cli import cli
from crmsync.cli.app import main
from crmsync.config import load_pipeline
from crmsync.starter import write_starter

EXPORTS = Path(__file__).resolve().parent.parent / "data" / "exports"
ENV = {"RALLY_BASE_URL": "http://127.0.0.1:1", "RALLY_API_KEY": "k"}


@dataclass(frozen=True)
class Case:
    file: str
    mapping: dict[str, str | list[str]]
    object_name: str = "contacts"
    source_id: str | None = None
    region: str | None = None
    kind: str = "csv"
    header_line: int | None = 1  # None: a JSON file has no header
    # column -> a phrase its not-mapped reason must hold
    left: dict[str, str] = field(default_factory=dict)
    # the companies step's mapping, when the rows name their company, and companyId's keys
    companies: dict[str, str | list[str]] | None = None
    links: list[dict[str, str]] = field(default_factory=list)
    records: str | None = None  # the records' member whose people the contacts step reads
    # the corpus file beside it whose ids the rows point at: the companies step reads it
    linked_to: str | None = None


CASES = [
    Case(
        "google_contacts.csv",
        {
            "firstName": "Given Name",
            "lastName": "Family Name",
            "fullName": "Name",  # one row has only the display name
            "email": ["E-mail 1 - Value", "E-mail 2 - Value"],
            # Phone 1 typed Mobile, Work or Home: each row's types choose
            "phone": ["Phone 1 - Value", "Phone 2 - Value", "Phone 3 - Value"],
            "mobile": ["Phone 1 - Value", "Phone 2 - Value", "Phone 3 - Value"],
            "title": "Organization 1 - Title",
            "department": "Organization 1 - Department",
            "address": "Address 1 - Street",
            "city": "Address 1 - City",
            "state": "Address 1 - Region",
            "country": "Address 1 - Country",
            "postalCode": "Address 1 - Postal Code",
            "notes": "Notes",
        },
        region="US",
        left={
            "Group Membership": "myContacts",
            "Organization 1 - Name": "companies step",
            "Name Prefix": "honorific",
        },
        companies={
            "name": "Organization 1 - Name",
            "domain": ["E-mail 1 - Value", "E-mail 2 - Value"],
        },
        links=[{"email_domain": "E-mail 1 - Value"}, {"name": "Organization 1 - Name"}],
    ),
    Case(
        "outlook_contacts.csv",
        {
            "firstName": "First Name",
            "lastName": "Last Name",
            "email": ["E-mail Address", "E-mail 2 Address"],
            "phone": [
                "Business Phone",
                "Business Phone 2",
                "Primary Phone",
                "Company Main Phone",
                "Home Phone",
            ],
            "mobile": "Mobile Phone",
            "title": "Job Title",
            "department": "Department",
            "address": "Business Street",
            "city": "Business City",
            "state": "Business State",
            "country": "Business Country/Region",
            "postalCode": "Business Postal Code",
            "tags": "Categories",
            "notes": "Notes",
        },
        region="DE",
        left={"Title": "honorific", "Company": "companies step", "Home Phone 2": "another phone"},
        companies={  # its Web Page is the business one (Outlook's other is "Personal Web Page")
            "name": "Company",
            "domain": ["Web Page", "E-mail Address", "E-mail 2 Address"],
            "website": "Web Page",
        },
        links=[{"domain": "Web Page"}, {"email_domain": "E-mail Address"}, {"name": "Company"}],
    ),
    Case(
        "hubspot_contacts.csv",
        {
            "firstName": "First Name",
            "lastName": "Last Name",
            "email": "Email",
            "phone": "Phone Number",
            "mobile": "Mobile Phone Number",
            "title": "Job Title",
            "address": "Street Address",
            "city": "City",
            "state": "State/Region",
            "country": "Country/Region",
            "postalCode": "Postal Code",
            "lifecycleStage": "Lifecycle Stage",
            "leadSource": "Original Source",
            "leadScore": "HubSpot Score",
        },
        source_id="Record ID",
        region="US",
        left={
            "Company Name": "looked up by it where Primary Associated Company ID finds no",
            "Primary Associated Company ID": "its Record ID in hubspot_companies.csv",
            "Contact owner": "values_file",
            "Lead Status": "not a lifecycle stage",
        },
        # the companies export beside it holds the ids the rows point at
        linked_to="hubspot_companies.csv",
        links=[{"source_id": "Primary Associated Company ID"}, {"name": "Company Name"}],
    ),
    Case(
        "hubspot_companies.csv",
        {
            "name": "Company name",
            "domain": ["Company Domain Name", "Website URL"],
            "industry": "Industry",
            "description": "Description",
            "employeeCount": "Number of Employees",
            "annualRevenue": "Annual Revenue",
            "phone": "Phone Number",
            "website": "Website URL",
            "linkedInUrl": "LinkedIn Company Page",
            "address": "Street Address",
            "city": "City",
            "state": "State/Region",
            "country": "Country/Region",
            "postalCode": "Postal Code",
        },
        object_name="companies",
        source_id="Record ID",
        region="US",
        left={"Company owner": "values_file", "Lifecycle Stage": "no lifecycle stage"},
    ),
    Case(
        "salesforce_contacts_report.csv",
        {
            "firstName": "First Name",
            "lastName": "Last Name",
            "email": "Email",
            "phone": "Phone",
            "mobile": "Mobile",
            "title": "Title",
            "address": "Mailing Street",
            "city": "Mailing City",
            "state": "Mailing State/Province",
            "country": "Mailing Country",
            "postalCode": "Mailing Zip/Postal Code",
            "leadSource": "Lead Source",
        },
        source_id="Contact ID",
        region="US",
        left={"Salutation": "honorific", "Account Name": "companies step"},
        companies={"name": "Account Name", "domain": "Email"},
        links=[{"email_domain": "Email"}, {"name": "Account Name"}],
    ),
    Case(
        "salesforce_contacts_export.csv",
        {
            "firstName": "FirstName",
            "lastName": "LastName",
            "email": "Email",
            "phone": "Phone",
            "mobile": "MobilePhone",
            "title": "Title",
            "department": "Department",
            "address": "MailingStreet",
            "city": "MailingCity",
            "state": "MailingState",
            "country": "MailingCountry",
            "postalCode": "MailingPostalCode",
            "leadSource": "LeadSource",
            "notes": "Description",
        },
        source_id="Id",
        region="US",
        left={
            "Salutation": "honorific",
            "Name": "full name",
            "AccountId": "its id in salesforce_accounts_snake.csv; companyId is looked up",
            "OtherPhone": "another phone",
        },
        linked_to="salesforce_accounts_snake.csv",  # the accounts, copied by a replication tool
        links=[{"source_id": "AccountId"}],
    ),
    Case(
        "salesforce_accounts_snake.csv",
        {
            "name": "name",
            "domain": "website",
            "industry": "industry",
            "description": "description",
            "employeeCount": "number_of_employees",
            "annualRevenue": "annual_revenue",
            "phone": "phone",
            "website": "website",
            "address": "billing_street",
            "city": "billing_city",
            "state": "billing_state",
            "country": "billing_country",
            "postalCode": "billing_postal_code",
        },
        object_name="companies",
        source_id="id",
        region="US",
        left={"shipping_state": "another address", "_fivetran_synced": "bookkeeping"},
    ),
    Case(
        "salesforce_accounts_contacts_report.csv",
        {
            "firstName": "First Name",
            "lastName": "Last Name",
            "email": "Email",
            "phone": "Phone",
            "title": "Title",
        },
        region="US",
        header_line=4,
        left={
            "Account Name": "8 different names on 31 rows",
            "Website": "companies step",
            "Billing City": "companies step",
        },
        companies={
            "name": "Account Name",
            "domain": ["Website", "Email"],
            "website": "Website",
            "city": "Billing City",
            "country": "Billing Country",
        },
        links=[{"domain": "Website"}, {"email_domain": "Email"}, {"name": "Account Name"}],
    ),
    Case(
        "mailchimp_audience.csv",
        {
            "firstName": "First Name",
            "lastName": "Last Name",
            "email": "Email Address",
            "phone": "Phone Number",
            "address": "Address",
            "country": "CC",
            "notes": "NOTES",
            "tags": "TAGS",  # "VIP","Customer": read without the quotes
        },
        region="US",
        left={
            "MEMBER_RATING": "not a 0-100 lead score",
            "REGION": "not a state",
        },
        companies={"name": "Company", "domain": "Email Address"},
        links=[{"email_domain": "Email Address"}, {"name": "Company"}],
    ),
    Case(
        "linkedin_connections.csv",
        {
            "firstName": "First Name",
            "lastName": "Last Name",
            "email": "Email Address",
            "title": "Position",
            "linkedInUrl": "URL",
        },
        header_line=4,
        left={"Company": "companies step", "Connected On": "no field"},
        companies={"name": "Company", "domain": "Email Address"},
        links=[{"email_domain": "Email Address"}, {"name": "Company"}],
    ),
    Case(
        "pipedrive_people.csv",
        {
            "firstName": "Person - First name",
            "lastName": "Person - Last name",
            "fullName": "Person - Name",  # one row has only the name
            "email": ["Person - Email - Work", "Person - Email - Home", "Person - Email - Other"],
            "phone": ["Person - Phone - Work", "Person - Phone - Home"],
            "mobile": "Person - Phone - Mobile",
            "title": "Person - Job title",
            "tags": "Person - Label",
        },
        source_id="Person - ID",
        region="CZ",
        left={"Person - Organization": "companies step", "Person - Owner": "values_file"},
        companies={
            "name": "Person - Organization",
            "domain": ["Person - Email - Work", "Person - Email - Home", "Person - Email - Other"],
        },
        links=[{"email_domain": "Person - Email - Work"}, {"name": "Person - Organization"}],
    ),
    Case(
        "zoho_contacts.csv",
        {
            "firstName": "First Name",
            "lastName": "Last Name",
            "email": ["Email", "Secondary Email"],
            "phone": "Phone",
            "mobile": "Mobile",
            "title": "Title",
            "department": "Department",
            "twitterHandle": "Twitter",
            "address": "Mailing Street",
            "city": "Mailing City",
            "state": "Mailing State",
            "country": "Mailing Country",
            "postalCode": "Mailing Zip",
            "leadSource": "Lead Source",
            "tags": "Tag",
            "notes": "Description",
        },
        source_id="Record Id",
        region="IN",
        left={"Salutation": "honorific", "Account Name": "companies step"},
        companies={"name": "Account Name", "domain": ["Email", "Secondary Email"]},
        links=[{"email_domain": "Email"}, {"name": "Account Name"}],
    ),
    Case(
        "redmine_contacts.csv",
        {
            "firstName": "first_name",
            "lastName": "last_name",
            "email": "email",
            "phone": "phone",
            "mobile": "second_phone",
            "title": "job_title",
            "address": "street",
            "city": "city",
            "state": "region",
            "country": "country",
            "postalCode": "postcode",
            "leadSource": "cf:Lead source",
            "tags": "tags",
            "notes": "background",
        },
        source_id="id",
        kind="redmine_export",
        left={"company": "companies step", "middle_name": "template"},
        companies={"name": "company", "domain": "email"},
        links=[{"email_domain": "email"}, {"name": "company"}],
    ),
    Case(
        "generic_crm_fullname.csv",
        {
            "fullName": "FullName",
            "email": "Email",
            "phone": ["Phone", "Phone_2"],
            "title": "Job Title",
            "country": "Country",
            "lifecycleStage": "Status",
            "notes": "Notes",
        },
        source_id="ID",
        region="US",
        left={"Company": "companies step"},
        companies={"name": "Company", "domain": "Email"},
        links=[{"email_domain": "Email"}, {"name": "Company"}],
    ),
    Case(
        "zendesk_sell_contacts.csv",
        {
            "firstName": "first_name",
            "lastName": "last_name",
            "email": "email",
            "phone": "phone",
            "mobile": "mobile",
            "title": "title",
            "linkedInUrl": "linkedin",
            "twitterHandle": "twitter",
            "address": "address",
            "city": "city",
            "state": "state",
            "country": "country",
            "postalCode": "zip",
            "tags": "tags",
            "notes": "description",
        },
        source_id="id",
        region="US",
    ),
    Case(
        "notion_contacts.csv",
        {
            "fullName": "Name",
            "email": "Email",
            "phone": "Phone",
            "title": "Role",
            "linkedInUrl": "LinkedIn",
            "tags": "Tags",
        },
        # relations counted by their pages' titles, not their addresses
        left={"Company": "9 different names on 11 rows", "Status": "not lifecycle stages"},
        companies={"name": "Company", "domain": "Email"},
        links=[{"email_domain": "Email"}, {"name": "Company"}],
    ),
    Case(
        "surveymonkey_responses.csv",
        {
            "firstName": "First Name",  # the invitation's own columns, mostly empty
            "lastName": "Last Name",
            "fullName": "Name",  # the contact-information question's, from the second header row
            "email": ["Email Address", "Email Address_2"],
            "phone": "Phone Number",
            "address": "Address",
            "city": "City/Town",
            "state": "State/Province",
            "country": "Country",
            "postalCode": "ZIP/Postal Code",
        },
        region="US",
        left={"Company": "6 different names on 9 rows"},
        companies={"name": "Company", "domain": ["Email Address", "Email Address_2"]},
        links=[{"email_domain": "Email Address"}, {"name": "Company"}],
    ),
    Case(
        "hubspot_api_contacts.json",
        {
            "firstName": "properties.firstname",
            "lastName": "properties.lastname",
            "email": "properties.email",
            "phone": "properties.phone",
            "title": "properties.jobtitle",
            "lifecycleStage": "properties.lifecyclestage",
        },
        source_id="id",
        kind="json",
        header_line=None,
        left={"properties": "JSON objects"},
        companies={"name": "properties.company", "domain": "properties.email"},
        links=[{"email_domain": "properties.email"}, {"name": "properties.company"}],
    ),
    Case(
        "salesforce_api_contacts.json",
        {
            "firstName": "FirstName",
            "lastName": "LastName",
            "email": "Email",
            "phone": "Phone",
            "title": "Title",
            "city": "MailingCity",
            "country": "MailingCountry",
        },
        source_id="Id",
        region="US",
        kind="json",
        header_line=None,
        left={"Account": "JSON objects", "attributes": "JSON objects"},
        companies={
            "name": "Account.Name",
            "website": "Account.Website",
            "domain": ["Account.Website", "Email"],
        },
        links=[
            {"domain": "Account.Website"},
            {"email_domain": "Email"},
            {"name": "Account.Name"},
        ],
    ),
    Case(
        "close_leads.json",
        {
            "fullName": "name",
            "email": "emails[0].email",  # the first of the person's emails
            "phone": "phones[0].phone",
            "title": "title",
        },
        source_id="id",
        region="US",
        kind="json",
        header_line=None,
        companies={
            "name": "name",
            "domain": "url",
            "website": "url",
            "description": "description",
            "city": "addresses[0].city",
            "state": "addresses[0].state",
            "country": "addresses[0].country",
            "postalCode": "addresses[0].zipcode",
        },
        links=[{"domain": "parent.url"}, {"name": "parent.name"}],
        records="contacts",
    ),
    Case(
        "accounts_people.ndjson",
        {
            "firstName": "first_name",
            "lastName": "last_name",
            "email": "email",
            "phone": "phone",
            "title": "role",
        },
        source_id="person_id",
        kind="ndjson",
        header_line=None,
        companies={
            "name": "account_name",
            "domain": "website",
            "website": "website",
            "industry": "industry",
            "country": "country",
        },
        links=[{"domain": "parent.website"}, {"name": "parent.account_name"}],
        records="people",
    ),
    Case(  # Outlook with German headers: mapped as the English ones, Exchange fallback too
        "outlook_de_contacts.csv",
        {
            "firstName": "Vorname",
            "lastName": "Nachname",
            "email": ["E-Mail-Adresse", "E-Mail 2: Adresse"],
            "phone": [
                "Telefon geschäftlich",
                "Telefon geschäftlich 2",
                "Haupttelefon",
                "Telefon Firma",
                "Telefon privat",
            ],
            "mobile": "Mobiltelefon",
            "title": "Position",
            "department": "Abteilung",
            "address": "Straße geschäftlich",
            "city": "Ort geschäftlich",
            "state": "Region geschäftlich",
            "country": "Land/Region geschäftlich",
            "postalCode": "Postleitzahl geschäftlich",
            "tags": "Kategorien",
            "notes": "Notizen",
        },
        region="DE",
        left={"Anrede": "honorific", "Fax geschäftlich": "fax", "Straße privat": "another"},
        companies={
            "name": "Firma",
            "domain": ["Webseite", "E-Mail-Adresse", "E-Mail 2: Adresse"],
            "website": "Webseite",
        },
        links=[{"domain": "Webseite"}, {"email_domain": "E-Mail-Adresse"}, {"name": "Firma"}],
    ),
    Case(  # Redmine CRM with Russian captions: a plain CSV file, its company row not a person
        "redmine_contacts_ru.csv",
        {
            "firstName": "Имя",
            "lastName": "Фамилия",
            "email": "Email",
            "phone": "Телефон",
            "title": "Должность",
            "address": "Адрес",
            "city": "Город",
            "state": "Регион",
            "country": "Страна",
            "postalCode": "Индекс",
            "tags": "Теги",
        },
        source_id="#",
        left={"Полное имя": "make the other up", "Отчество": "middle name"},
        companies={"name": "Компания", "domain": "Email"},
        links=[{"email_domain": "Email"}, {"name": "Компания"}],
    ),
    Case(  # today's "Google CSV": Phone 1 (the primary, its label varies) first, then Phone 2
        "google_contacts_labels.csv",
        {
            "firstName": "First Name",
            "lastName": "Last Name",
            "email": ["E-mail 1 - Value", "E-mail 2 - Value"],
            "phone": ["Phone 1 - Value", "Phone 2 - Value"],  # by each row's label
            "mobile": ["Phone 1 - Value", "Phone 2 - Value"],
            "title": "Organization Title",
            "department": "Organization Department",
            "address": "Address 1 - Street",
            "city": "Address 1 - City",
            "state": "Address 1 - Region",
            "country": "Address 1 - Country",
            "postalCode": "Address 1 - Postal Code",
            "notes": "Notes",
        },
        region="US",
        left={"Labels": "myContacts"},
        companies={
            "name": "Organization Name",
            "domain": ["E-mail 1 - Value", "E-mail 2 - Value"],
        },
        links=[{"email_domain": "E-mail 1 - Value"}, {"name": "Organization Name"}],
    ),
    # exports of shops, payments, events, marketing and sales tools (their vocabularies:
    # vocab_commerce.py, vocab_sales.py)
    Case(
        "shopify_customers.csv",
        {
            "firstName": "First Name",
            "lastName": "Last Name",
            "email": "Email",
            "phone": ["Phone", "Default Address Phone"],
            "address": "Default Address Address1",
            "city": "Default Address City",
            "state": "Default Address Province Code",
            "country": "Default Address Country Code",
            "postalCode": "Default Address Zip",
            "tags": "Tags",
            "notes": "Note",
        },
        source_id="Customer ID",
        region="US",
        left={"Total Spent": "spent", "Accepts Email Marketing": "consent"},
        companies={"name": "Default Address Company", "domain": "Email"},
        links=[{"email_domain": "Email"}, {"name": "Default Address Company"}],
    ),
    Case(
        "stripe_customers.csv",
        {
            "fullName": "Name",
            "email": "Email",
            "phone": "Phone",
            "address": "Address Line1",
            "city": "Address City",
            "state": "Address State",
            "country": "Address Country",
            "postalCode": "Address Zip",
            "notes": "Description",
        },
        source_id="id",
        region="US",
        left={"Status": "not a lifecycle stage", "Total Spend": "spent", "Card ID": "card"},
        companies={"name": "company (metadata)", "domain": "Email"},
        links=[{"email_domain": "Email"}, {"name": "company (metadata)"}],
    ),
    Case(
        "eventbrite_attendees.csv",
        {
            "firstName": "First Name",
            "lastName": "Last Name",
            "email": "Email",
            "phone": "Work Phone",
            "mobile": "Cell Phone",
            "title": "Job Title",
            "address": "Home Address 1",
            "city": "Home City",
            "state": "Home State",
            "country": "Home Country",
            "postalCode": "Home Zip",
        },
        region="US",
        left={
            "Order #": "not a phone",
            "Attendee #": "not a phone",
            "Total Paid": "spent",
            "Attendee Status": "not a lifecycle stage",
        },
        companies={"name": "Company", "domain": ["Website", "Email"], "website": "Website"},
        links=[{"domain": "Website"}, {"email_domain": "Email"}, {"name": "Company"}],
    ),
    Case(
        "apollo_contacts.csv",
        {
            "firstName": "First Name",
            "lastName": "Last Name",
            "email": "Email",
            "phone": ["Work Direct Phone", "Corporate Phone", "Other Phone", "Home Phone"],
            "mobile": "Mobile Phone",
            "title": "Title",
            "department": "Departments",
            "linkedInUrl": "Person Linkedin Url",
            "city": "City",
            "state": "State",
            "country": "Country",
        },
        source_id="Apollo Contact Id",
        region="US",
        left={
            "Stage": "not a lifecycle stage",
            "Twitter Url": "the company's Twitter",
            "Company Phone": "companies step",
        },
        companies={
            "name": "Company",
            "domain": ["Website", "Email"],
            "website": "Website",
            "industry": "Industry",
            "employeeCount": "# Employees",
            "annualRevenue": "Annual Revenue",
            "phone": "Company Phone",
            "linkedInUrl": "Company Linkedin Url",
            "city": "Company City",
            "state": "Company State",
            "country": "Company Country",
        },
        links=[{"domain": "Website"}, {"email_domain": "Email"}, {"name": "Company"}],
    ),
    Case(
        "activecampaign_contacts.csv",
        {
            "firstName": "First Name",
            "lastName": "Last Name",
            "email": "Email",
            "phone": "Phone",
            "title": "Job Title",
            "leadSource": "Lead Source",
            "leadScore": "Lead Score",
            "tags": "Tags",
        },
        source_id="Contact ID",
        region="US",
        left={"Status": "Unsubscribed", "Account": "companies step"},
        companies={"name": "Account", "domain": ["Website", "Email"], "website": "Website"},
        links=[{"domain": "Website"}, {"email_domain": "Email"}, {"name": "Account"}],
    ),
    Case(
        "brevo_contacts.csv",
        {
            "firstName": "FIRSTNAME",
            "lastName": "LASTNAME",
            "email": "EMAIL",
            "phone": "LANDLINE_NUMBER",
            "mobile": "SMS",
            "title": "JOB_TITLE",
        },
        source_id="CONTACT ID",
        region=None,
        left={"EMAIL_BLACKLISTED": "unsubscribe", "LIST_IDS": "not tags"},
        companies={"name": "COMPANY", "domain": "EMAIL"},
        links=[{"email_domain": "EMAIL"}, {"name": "COMPANY"}],
    ),
    Case(
        "freshsales_contacts.csv",
        {
            "firstName": "First name",
            "lastName": "Last name",
            "email": "Emails",
            "phone": "Work",
            "mobile": "Mobile",
            "title": "Job title",
            "linkedInUrl": "LinkedIn",
            "twitterHandle": "Twitter",
            "address": "Address",
            "city": "City",
            "state": "State",
            "country": "Country",
            "postalCode": "Zipcode",
            "lifecycleStage": "Lifecycle stage",
            "leadSource": "Lead source",
            "leadScore": "Score",
            "tags": "Tags",
        },
        region="US",
        left={
            "Sales owner": "values_file",
            "Status": "not a lifecycle stage",
            "Subscription status": "unsubscribe",
        },
        companies={"name": "Account name", "domain": "Emails"},
        links=[{"email_domain": "Emails"}, {"name": "Account name"}],
    ),
    Case(
        "copper_people.csv",
        {
            "firstName": "First Name",
            "lastName": "Last Name",
            "fullName": "Full Name",
            "email": ["Work Email", "Personal Email", "Other Email"],
            "phone": ["Work Phone", "Home Phone", "Other Phone"],
            "mobile": "Mobile Phone",
            "title": "Title",
            "linkedInUrl": "LinkedIn",
            "twitterHandle": "Twitter",
            "address": "Street",
            "city": "City",
            "state": "State",
            "country": "Country",
            "postalCode": "Postal Code",
            "tags": "Tags",
            "notes": "Details",
        },
        source_id="Person ID",
        region="US",
        left={
            "Prefix": "honorific",
            "Contact Type": "not a lifecycle stage",
            "Work Website": "companies step",
        },
        companies={
            "name": "Company",
            "domain": ["Work Website", "Work Email", "Personal Email", "Other Email"],
            "website": "Work Website",
        },
        links=[{"domain": "Work Website"}, {"email_domain": "Work Email"}, {"name": "Company"}],
    ),
    Case(
        "dynamics365_contacts.csv",
        {
            "fullName": "Full Name",
            "email": "Email",
            "phone": "Business Phone",
            "mobile": "Mobile Phone",
            "title": "Job Title",
            "address": "Address 1: Street 1",
            "city": "Address 1: City",
            "state": "Address 1: State/Province",
            "country": "Address 1: Country/Region",
            "postalCode": "Address 1: ZIP/Postal Code",
        },
        source_id="(Do Not Modify) Contact",
        region="US",
        left={"(Do Not Modify) Row Checksum": "check", "Status Reason": "not a lifecycle stage"},
        companies={"name": "Company Name", "domain": "Email"},
        links=[{"email_domain": "Email"}, {"name": "Company Name"}],
    ),
    Case(
        "constant_contact_contacts.csv",
        {
            "firstName": "First name",
            "lastName": "Last name",
            "email": "Email address",
            "phone": ["Phone - work", "Phone - home"],
            "mobile": "Phone - mobile",
            "title": "Job title",
            "address": "Street address line 1 - Home",
            "city": "City - Home",
            "state": "State/Province - Home",
            "country": "Country - Home",
            "postalCode": "Zip/Postal code - Home",
            "leadSource": "Source name",
            "tags": "Tags",
        },
        region="US",
        left={"Email permission status": "unsubscribe", "Email Lists": "not tags"},
        companies={"name": "Company", "domain": "Email address"},
        links=[{"email_domain": "Email address"}, {"name": "Company"}],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.file.rpartition(".")[0] for case in CASES])
def test_init_suggests_the_right_mapping(case: Case, tmp_path: Path) -> None:
    output = tmp_path / "starter.yaml"
    result = CliRunner().invoke(
        cli, ["init", str(EXPORTS / case.file), "--object", case.object_name, "-o", str(output)]
    )
    assert result.exit_code == 0, result.output

    starter = write_starter(EXPORTS / case.file, object_name=case.object_name, output=output)
    suggestion = starter.suggestion
    for name, columns in case.mapping.items():
        assert suggestion.mapping.get(name) == columns, name
    assert set(suggestion.mapping) == set(case.mapping)
    assert suggestion.missing_required == ()
    assert (suggestion.source_id.columns[0] if suggestion.source_id else None) == case.source_id
    assert suggestion.region.region == case.region
    assert starter.info.kind == case.kind
    assert starter.info.header_line == case.header_line
    reasons = {left.column: left.why for left in suggestion.left}
    for column, phrase in case.left.items():
        assert phrase in reasons[column], column

    pipeline = load_pipeline(output, env=ENV)
    step = pipeline.steps[-1]
    assert step.object == case.object_name
    columns = {name: spec.column for name, spec in step.mapping.items() if not spec.lookup}
    assert columns == case.mapping
    assert step.source.kind == case.kind
    assert step.source_id == case.source_id
    assert step.normalize.default_region == case.region
    assert step.load.mode == "auto"
    assert pipeline.state.path == Path(".crmsync/state.db")
    assert (output.parent / step.source.path).resolve() == (EXPORTS / case.file).resolve()
    if case.linked_to is not None:  # mapped as `init --object companies` maps that file
        own = next(c for c in CASES if c.file == case.linked_to)
        companies, contacts = pipeline.steps
        assert (companies.object, contacts.object) == ("companies", "contacts")
        assert {name: spec.column for name, spec in companies.mapping.items()} == own.mapping
        assert companies.source_id == own.source_id
        path = output.parent / companies.source.path
        assert path.resolve() == (EXPORTS / case.linked_to).resolve()
        lookup = contacts.lookups["companyId"]
        assert [{key.kind: key.column} for key in lookup.by] == case.links
        return
    if case.companies is None:
        assert pipeline.single_step and suggestion.companies is None
        return
    companies, contacts = pipeline.steps
    assert (companies.name, companies.object, contacts.name) == (
        "companies",
        "companies",
        "contacts",
    )
    assert {name: spec.column for name, spec in companies.mapping.items()} == case.companies
    if case.records:  # the records are the companies, the people nested in them the contacts
        assert getattr(contacts.source, "records", None) == case.records
        assert companies.source == contacts.source.model_copy(update={"records": None})
        assert not companies.where_filled
    else:
        assert companies.source == contacts.source
        # the rows naming a company, and having the email a contact needs when one column
        # holds it (a contact without one is not loaded: its company would stand alone)
        email = case.mapping.get("email")
        also = [email] if isinstance(email, str) else []
        assert companies.where_filled == [case.companies["name"], *also]
    lookup = contacts.lookups["companyId"]
    assert [{key.kind: key.column} for key in lookup.by] == case.links


def test_every_corpus_file_has_a_case() -> None:
    files = [*EXPORTS.glob("*.csv"), *EXPORTS.glob("*.json"), *EXPORTS.glob("*.ndjson")]
    assert sorted(p.name for p in files) == sorted(c.file for c in CASES)


def _text(case_file: str, tmp_path: Path, object_name: str = "contacts") -> str:
    output = tmp_path / "starter.yaml"
    return write_starter(EXPORTS / case_file, object_name=object_name, output=output).text


def _unwrapped(text: str) -> str:
    """The comments of ``text`` as one line of prose, as wrapped lines read."""
    return " ".join(line.strip().lstrip("#").strip() for line in text.splitlines())


def test_rows_without_names_are_counted_with_a_hint(tmp_path: Path) -> None:
    text = _text("hubspot_contacts.csv", tmp_path)
    assert "# 23 of 52 rows have no first or last name" in text  # one is "n/a"
    assert '#   lastName: {column: "Last Name", default: "(unknown)"}' in text


def test_a_full_name_that_fills_missing_names_is_kept_and_says_so(tmp_path: Path) -> None:
    text = _text("pipedrive_people.csv", tmp_path)
    assert "fills first and last name where they are empty: 1 of 34 rows has only this" in text


def test_google_s_phones_are_chosen_by_each_row_s_type(tmp_path: Path) -> None:
    """Phone 1 is a mobile for some contacts and a work number for others: the types, not
    the slot, say which number is the mobile."""
    text = _text("google_contacts.csv", tmp_path)
    loaded = yaml.safe_load(text)
    steps = loaded.get("steps") or [loaded]
    mapping = steps[-1]["mapping"]
    types = ["Phone 1 - Type", "Phone 2 - Type", "Phone 3 - Type"]
    assert mapping["mobile"]["label"] == types
    assert "mobile" in mapping["mobile"]["labels"]
    assert {"mobile", "work fax"} <= set(mapping["phone"]["labels_not"])
    said = " ".join(line.strip().lstrip("# ") for line in text.splitlines())
    assert "the first number labelled a mobile (Mobile 20, Work 13, Home 5" in said


def test_no_evidence_leaves_the_region_commented_out(tmp_path: Path) -> None:
    text = _text("linkedin_connections.csv", tmp_path)
    assert "  # default_region: US" in text
    assert "no country column and no phone numbers with a +country code" in text
    assert "33 of 40 rows have no email" in text


def test_what_the_reader_skipped_or_renamed_is_said(tmp_path: Path) -> None:
    report = _text("salesforce_contacts_report.csv", tmp_path)
    assert "not rows of the table" not in report  # its footer is left out, not failed
    prose = _unwrapped(report)
    assert "The 5 lines below the table are a report's footer" in prose
    assert '("Contacts & Accounts Report"): crmsync run leaves them out too.' in prose
    generic = _text("generic_crm_fullname.csv", tmp_path)
    assert 'more than one column named "Phone": the later one is read as "Phone_2"' in generic
    assert "2 cells hold several addresses (a@x.com;b@y.com)" in generic


def test_companies_without_a_domain_are_loaded_not_failed(tmp_path: Path) -> None:
    text = _text("hubspot_companies.csv", tmp_path, "companies")
    assert "  missing_key: load" in text
    assert load_pipeline(tmp_path / "starter.yaml", env=ENV).step.dedupe.missing_key == "load"


def test_a_companies_export_read_as_contacts_says_so(tmp_path: Path) -> None:
    text = _text("hubspot_companies.csv", tmp_path, "contacts")
    assert "whose rows are companies: crmsync init --object companies" in _unwrapped(text)
    assert "  # email: ???   required, and no column looked like it" in text


def test_cli_prints_the_header_line_and_renamed_columns(tmp_path: Path) -> None:
    runner = CliRunner()
    linkedin = runner.invoke(
        cli, ["init", str(EXPORTS / "linkedin_connections.csv"), "-o", str(tmp_path / "a.yaml")]
    )
    assert "header: line 4" in linkedin.output
    generic = runner.invoke(
        cli, ["init", str(EXPORTS / "generic_crm_fullname.csv"), "-o", str(tmp_path / "b.yaml")]
    )
    assert "more than one column is named 'Phone'; one is read as 'Phone_2'" in generic.output
    assert "default_region: US" in generic.output


def test_an_older_redmine_export_keeps_its_companies_out(tmp_path: Path) -> None:
    source = Path(__file__).resolve().parents[2] / "sample_data" / "redmine" / "contacts_xls.csv"
    output = tmp_path / "starter.yaml"
    starter = write_starter(source, object_name="contacts", output=output)
    assert starter.info.kind == "redmine_export"
    assert starter.info.where == {"is_company": "false"}
    step = load_pipeline(output, env=ENV).step
    assert step.where == {"is_company": "false"}
    companies = write_starter(source, object_name="companies", output=output)
    assert companies.info.where == {"is_company": "true"}
    assert companies.suggestion.mapping["name"] == "first_name"
    assert companies.suggestion.mapping["domain"] == "website"


def test_rows_without_names_are_offered_names_from_email_and_defaults_commented(
    tmp_path: Path,
) -> None:
    text = _text("mailchimp_audience.csv", tmp_path)
    prose = _unwrapped(text)
    assert "30 of 46 rows have no first or last name (lines 3, 4, 6, 7, 9 and 25 more)" in prose
    assert "12 would get both names from their email address" in prose
    assert "18 a first name only" in prose
    assert "# names_from_email: true" in [line.strip() for line in text.splitlines()]
    assert '#   lastName: {column: "Last Name", default: "(unknown)"}' in text
    step = load_pipeline(tmp_path / "starter.yaml", env=ENV).steps[-1]
    assert step.normalize.names_from_email is False  # offered, not chosen


def test_a_file_whose_names_no_email_can_give_gets_defaults_for_both(tmp_path: Path) -> None:
    text = _text("google_contacts.csv", tmp_path)
    assert "names_from_email" not in text  # its nameless rows have role addresses
    assert '#   firstName: {column: "Given Name", default: "(unknown)"}' in text
    assert '#   lastName: {column: "Family Name", default: "(unknown)"}' in text


def test_cli_prints_the_companies_step_before_the_contacts(tmp_path: Path) -> None:
    done = CliRunner().invoke(
        cli,
        [
            "init",
            str(EXPORTS / "salesforce_accounts_contacts_report.csv"),
            "-o",
            str(tmp_path / "a.yaml"),
        ],
    )
    lines = done.output.splitlines()
    first = lines.index("companies step: 8 companies named in 'Account Name', each loaded once")
    second = lines.index("contacts step, linked to their company by companyId:")
    assert first < lines.index("  domain               <- Website, then Email") < second
    assert "not mapped: Account Owner" in lines  # the companies step reads the other columns


@pytest.mark.parametrize(
    ("header", "domain"),
    [
        ("Website", ["Website", "Email"]),
        ("Company Website", ["Company Website", "Email"]),
        ("Domain", ["Domain", "Email"]),
        ("Company Domain,Website", ["Company Domain", "Website", "Email"]),
    ],
    ids=["website", "company-website", "domain", "domain-and-website"],
)
def test_a_plain_contacts_files_website_or_domain_keys_its_companies(
    tmp_path: Path, header: str, domain: list[str]
) -> None:
    """A file of no known product: its website or domain column is the company's, so the
    companies step is keyed by it before the contact's email (gmail.com gives no company)."""
    extra = header.count(",") + 1
    source = tmp_path / "people.csv"
    source.write_text(
        f"First Name,Last Name,Email,Company,{header}\n"
        + f"Ann,Lee,ann@gmail.com,Acme,{','.join(['acme.com'] * extra)}\n"
        + f"Bo,Kim,bo@globex.com,Globex,{','.join(['globex.com'] * extra)}\n"
    )
    starter = write_starter(source, object_name="contacts", output=tmp_path / "starter.yaml")
    steps = load_pipeline(tmp_path / "starter.yaml", env=ENV).steps
    companies, contacts = steps
    assert companies.mapping["domain"].columns == domain
    lookup = contacts.mapping["companyId"].lookup
    assert lookup is not None
    keys = [(key.kind, key.column) for key in lookup.by]
    assert keys == [
        *(("domain", column) for column in domain[:-1]),
        ("email_domain", "Email"),
        ("name", "Company"),
    ]
    assert not starter.suggestion.missing_required


@pytest.mark.parametrize(
    ("name", "content"),
    [("empty.csv", ""), ("blank.csv", "\n\n  \n"), ("empty.json", "[]"), ("scalars.json", "[1,2]")],
)
def test_init_refuses_a_file_with_no_columns_and_writes_nothing(
    tmp_path: Path, name: str, content: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A pipeline mapping nothing could not even be loaded by run: init says why instead
    (the console entry point in this process: its message and exit code)."""
    source = tmp_path / name
    source.write_text(content)
    output = tmp_path / "starter.yaml"
    with pytest.raises(SystemExit) as exited:
        main(["init", str(source), "-o", str(output)])
    said = capsys.readouterr().err
    assert exited.value.code == 2, said
    assert "has no columns to map" in said
    assert "Traceback" not in said and "unexpected error" not in said
    assert not output.exists()


def test_a_json_file_names_its_rows_by_record_not_line(tmp_path: Path) -> None:
    prose = _unwrapped(_text("hubspot_api_contacts.json", tmp_path))
    assert "1 of 5 rows has no first or last name (record 4)" in prose


def test_an_export_of_people_and_organizations_keeps_each_to_its_step(tmp_path: Path) -> None:
    """Zendesk Sell flags its organizations (is_organization): they are no contacts."""
    output = tmp_path / "starter.yaml"
    people = write_starter(
        EXPORTS / "zendesk_sell_contacts.csv", object_name="contacts", output=output
    )
    assert people.info.where == {"is_organization": "false"}
    step = load_pipeline(output, env=ENV).step
    assert step.where == {"is_organization": "false"}
    assert people.info.rows == 22  # of 27: the 5 organizations are the companies'
    companies = write_starter(
        EXPORTS / "zendesk_sell_contacts.csv", object_name="companies", output=output
    )
    assert companies.info.where == {"is_organization": "true"}
    assert companies.suggestion.mapping["name"] == "name"
