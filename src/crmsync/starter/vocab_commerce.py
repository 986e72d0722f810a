"""Export shapes of shops, payments, events and e-mail marketing tools: Shopify, Stripe,
Eventbrite, ActiveCampaign, Brevo and Constant Contact, with their headers as each one
writes them.

What these exports share: columns of money and counts (``Total Spent``, ``Total Spend``,
``Total Paid``, ``Payment Count``) that look like numbers a score could take, order and
ticket ids of ten or more digits that look like phone numbers, and a consent or
subscription flag per row (``Accepts Email Marketing``, ``EMAIL_BLACKLISTED``, ``Email
permission status``) that Rally has no field for. Each is named here and left alone, with its
reason, so no general name or value check ever maps it.
"""

from __future__ import annotations

from crmsync.starter.vocab import COMPANY, COMPANY_WHY, SOURCE_ID, K, Product

MONEY = "what the customer spent or was charged; Rally contacts have no such field"
CONSENT = "{product}'s marketing consent ({values}); Rally contacts have no consent field"
NOT_A_STAGE = "{product}'s {what}, not a lifecycle stage"

SHOPIFY = Product(
    key="shopify",
    label="a Shopify customers export",
    owner="Shopify",
    holds="contacts",
    signature=(
        "Customer ID",
        "Accepts Email Marketing",
        "Default Address Company",
        "Default Address Address1",
        "Default Address Province Code",
        "Default Address Country Code",
        "Accepts SMS Marketing",
        "Total Spent",
        "Total Orders",
        "Tax Exempt",
    ),
    min_signature=3,
    no_names="Shopify keeps customers who checked out with only an email or a phone",
    entries={
        "contacts": (
            # written as '7012345678901: an apostrophe keeps Excel from rounding it
            K("Customer ID", SOURCE_ID, "Shopify's customer id"),
            K("First Name", "firstName", "Shopify's first name"),
            K("Last Name", "lastName", "Shopify's last name"),
            K("Email", "email", "Shopify's email"),
            K("Phone", "phone", "Shopify's phone (the customer's own)"),
            K(
                "Default Address Phone",
                "phone",
                "the phone of Shopify's default address",
                fallback=True,
            ),
            K("Default Address Address1", "address", "Shopify's default address: street"),
            K("Default Address Address2", None, "the street's second line (suite, apartment)"),
            K("Default Address City", "city", "Shopify's default address: city"),
            K("Default Address Province Code", "state", "Shopify's default address: province"),
            K("Default Address Country Code", "country", "Shopify's default address: country"),
            K("Default Address Zip", "postalCode", "Shopify's default address: zip"),
            K("Default Address Company", COMPANY, COMPANY_WHY),
            K("Note", "notes", "Shopify's note on the customer"),
            K("Tags", "tags", "Shopify's customer tags (separated by commas)"),
            K("Accepts Email Marketing", None, CONSENT.format(product="Shopify", values="yes/no")),
            K("Accepts SMS Marketing", None, CONSENT.format(product="Shopify", values="yes/no")),
            K("Total Spent", None, MONEY),
            K("Total Orders", None, "how many orders the customer placed"),
            K("Tax Exempt", None, "Shopify's tax setting"),
        )
    },
)

STRIPE = Product(
    key="stripe",
    label="a Stripe customers export",
    owner="Stripe",
    holds="contacts",
    signature=(
        "Created (UTC)",
        "Card ID",
        "Delinquent",
        "Account Balance",
        "Total Spend",
        "Payment Count",
        "Refunded Volume",
        "Dispute Losses",
        "Business Vat ID",
    ),
    min_signature=3,
    no_names="Stripe needs only an email, and its Name is whatever the checkout asked for",
    entries={
        "contacts": (
            K("id", SOURCE_ID, "Stripe's customer id (cus_...)"),
            K("Name", "fullName", "Stripe's name (first and last name together)"),
            K("Email", "email", "Stripe's email"),
            K("Phone", "phone", "Stripe's phone"),
            K("Description", "notes", "Stripe's description of the customer"),
            K("Address Line1", "address", "Stripe's billing address: line 1"),
            K("Address Line2", None, "the address's second line"),
            K("Address City", "city", "Stripe's billing address: city"),
            K("Address State", "state", "Stripe's billing address: state"),
            K("Address Country", "country", "Stripe's billing address: country"),
            K("Address Zip", "postalCode", "Stripe's billing address: zip"),
            K("Shipping *", None, "the shipping address; the billing one is mapped"),
            K("Status", None, NOT_A_STAGE.format(product="Stripe", what="subscription status")),
            K("Plan", None, "the customer's Stripe subscription plan"),
            K("Delinquent", None, "true when Stripe failed to collect an invoice"),
            K("Total Spend", None, MONEY),
            K("Payment Count", None, "how many payments Stripe took"),
            K("Refunded Volume", None, MONEY),
            K("Dispute Losses", None, MONEY),
            K("Account Balance", None, MONEY),
            K("Currency", None, "the customer's currency"),
            K("Card *", None, "the customer's card, never a CRM's business"),
            K("Created (UTC)", None, "when the customer was created in Stripe"),
            K("Business Vat ID", None, "the customer's VAT number"),
        )
    },
)

EVENTBRITE = Product(
    key="eventbrite",
    label="an Eventbrite attendee report",
    owner="Eventbrite",
    holds="contacts",
    signature=(
        "Order #",
        "Attendee #",
        "Ticket Type",
        "Attendee Status",
        "Order Type",
        "Total Paid",
        "Eventbrite Fees",
        "Eventbrite Payment Processing",
    ),
    min_signature=3,
    no_names='Eventbrite writes "Info Requested" for the names of guests the order did not ask',
    entries={
        "contacts": (
            K("First Name", "firstName", "the attendee's first name"),
            K("Last Name", "lastName", "the attendee's last name"),
            K("Email", "email", "the attendee's email (the buyer's, on guests' tickets)"),
            K("Cell Phone", "mobile", "the attendee's cell phone"),
            K("Work Phone", "phone", "the attendee's work phone"),
            K("Home Phone", "phone", "the attendee's home phone", fallback=True),
            K("Job Title", "title", "the attendee's job title"),
            K("Company", COMPANY, COMPANY_WHY),
            # ten- and thirteen-digit ids: they read like phone numbers
            K("Order #", None, "Eventbrite's order number, not a phone"),
            K("Attendee #", None, "Eventbrite's ticket number, not a phone"),
            K("Order Date", None, "when the ticket was bought"),
            K("Quantity", None, "tickets in the order"),
            K("Ticket Type", None, "the ticket bought"),
            K("Group", None, "Eventbrite's group registration"),
            K("Order Type", None, "how the order was paid"),
            K("Total Paid", None, MONEY),
            K("Eventbrite Fees", None, MONEY),
            K("Eventbrite Payment Processing", None, MONEY),
            K("Currency", None, "the order's currency"),
            K(
                "Attendee Status",
                None,
                NOT_A_STAGE.format(
                    product="Eventbrite",
                    what="ticket status (Attending, Not "
                    "Attending for a refunded ticket, Checked In)",
                ),
            ),
            K("Home Address 2", None, "the street's second line"),
            K("Work *", None, "the work address; the home one is mapped"),
        )
    },
)

ACTIVECAMPAIGN = Product(
    key="activecampaign",
    label="an ActiveCampaign contacts export",
    owner="ActiveCampaign",
    holds="contacts",
    signature=("Contact ID", "Account", "Date Created", "Date Updated", "IP Address", "Tags"),
    min_signature=4,
    no_names="ActiveCampaign needs only an email",
    entries={
        "contacts": (
            K("Contact ID", SOURCE_ID, "ActiveCampaign's contact id"),
            K("Account", COMPANY, COMPANY_WHY),  # ActiveCampaign's word for the company
            K("Lead Score", "leadScore", "ActiveCampaign's lead score"),
            K(
                "Status",
                None,
                NOT_A_STAGE.format(
                    product="ActiveCampaign",
                    what="subscription status (Active, Unsubscribed, Bounced)",
                ),
            ),
            K("IP Address", None, "where the contact signed up from"),
            K("Date Created", None, "when the contact was created in ActiveCampaign"),
            K("Date Updated", None, "ActiveCampaign's last change"),
            K("Birthday", None, "Rally contacts have no birthday"),
        )
    },
)

BREVO = Product(
    key="brevo",
    label="a Brevo (Sendinblue) contacts export",
    owner="Brevo",
    holds="contacts",
    signature=(
        "FIRSTNAME",
        "LASTNAME",
        "LANDLINE_NUMBER",
        "EMAIL_BLACKLISTED",
        "SMS_BLACKLISTED",
        "ADDED_TIME",
        "MODIFIED_TIME",
        "LIST_IDS",
    ),
    min_signature=3,
    no_names="Brevo needs only an email or a phone",
    entries={
        "contacts": (
            K("CONTACT ID", SOURCE_ID, "Brevo's contact id"),
            K("EMAIL", "email", "Brevo's EMAIL attribute"),
            K("FIRSTNAME", "firstName", "Brevo's FIRSTNAME attribute"),
            K("LASTNAME", "lastName", "Brevo's LASTNAME attribute"),
            K("SMS", "mobile", "Brevo's SMS attribute (a mobile, with its country code)"),
            K("WHATSAPP", "mobile", "Brevo's WhatsApp number", fallback=True),
            K("LANDLINE_NUMBER", "phone", "Brevo's landline number"),
            K("COMPANY", COMPANY, COMPANY_WHY),
            K("JOB_TITLE", "title", "Brevo's JOB_TITLE attribute"),
            K(
                "EMAIL_BLACKLISTED",
                None,
                "Yes for contacts who unsubscribed from Brevo's emails (or bounced); Rally "
                "contacts have no unsubscribe field",
            ),
            K("SMS_BLACKLISTED", None, "Yes for contacts who unsubscribed from Brevo's texts"),
            K("ADDED_TIME", None, "when the contact was added to Brevo"),
            K("MODIFIED_TIME", None, "Brevo's last change"),
            K("LIST_IDS", None, "the ids of Brevo's lists the contact is on, not tags"),
            K("EXT_ID", None, "the id of the contact in the system that fed Brevo"),
        )
    },
)

CC_HOME = "Constant Contact's home address: {part} (the only address its export holds)"
CONSTANT_CONTACT = Product(
    key="constant-contact",
    label="a Constant Contact contacts export",
    owner="Constant Contact",
    holds="contacts",
    signature=(
        "Email address",
        "Email status",
        "Email permission status",
        "Email update source",
        "Phone - work",
        "Phone - mobile",
        "Source name",
        "Email Lists",
        "Street address line 1 - Home",
    ),
    min_signature=3,
    no_names="Constant Contact needs only an email",
    entries={
        "contacts": (
            K("Email address", "email", "Constant Contact's email"),
            K("First name", "firstName", "Constant Contact's first name"),
            K("Last name", "lastName", "Constant Contact's last name"),
            K("Job title", "title", "Constant Contact's job title"),
            K("Phone - work", "phone", "Constant Contact's work phone"),
            K("Phone - home", "phone", "Constant Contact's home phone", fallback=True),
            K("Phone - other", "phone", "Constant Contact's other phone", fallback=True),
            K("Phone - mobile", "mobile", "Constant Contact's mobile phone"),
            K("Street address line 1 - Home", "address", CC_HOME.format(part="street")),
            K("City - Home", "city", CC_HOME.format(part="city")),
            K("State/Province - Home", "state", CC_HOME.format(part="state")),
            K("Zip/Postal code - Home", "postalCode", CC_HOME.format(part="zip")),
            K("Country - Home", "country", CC_HOME.format(part="country")),
            K("Street address line 2 - Home", None, "the street's second line"),
            K("Company", COMPANY, COMPANY_WHY),
            K("Source name", "leadSource", "how the contact came to Constant Contact"),
            K("Tags", "tags", "Constant Contact's tags"),
            K(
                "Email permission status",
                None,
                "Constant Contact's consent (Explicit, Implicit, Unsubscribed); Rally contacts "
                "have no unsubscribe field",
            ),
            K(
                "Email status",
                None,
                NOT_A_STAGE.format(
                    product="Constant Contact", what="mailing status (Active, Bounced)"
                ),
            ),
            K("Email update source", None, "who last changed the email's status"),
            K("Email Lists", None, "Constant Contact's lists the contact is on, not tags"),
            K("Created At", None, "when the contact was created in Constant Contact"),
            K("Updated At", None, "Constant Contact's last change"),
        )
    },
)

COMMERCE_PRODUCTS = (SHOPIFY, STRIPE, EVENTBRITE, ACTIVECAMPAIGN, BREVO, CONSTANT_CONTACT)
