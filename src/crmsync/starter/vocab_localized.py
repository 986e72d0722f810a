"""Exports whose headers follow the user's UI language: HubSpot from a German portal, Redmine
CRM with German or Russian captions.

A localized Redmine export is read as a plain CSV file (the ``redmine_export`` reader knows the
English captions only), so these entries name its columns as the file writes them; its cells of
several phones or emails (``a, b``) give their first, the second phone the mobile, as any CSV's.
Redmine keeps companies as contacts with only a first name, in every language. HubSpot writes
its lifecycle stages in the portal's language: ``stage_values`` translates them.
"""

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
from crmsync.starter.vocab_people import MIDDLE
from crmsync.starter.vocab_redmine import REDMINE

CREATED = "when the record was created"

# HubSpot's lifecycle stages as a German portal writes them -> as an English one does
GERMAN_STAGES = {
    "abonnent": "Subscriber",
    "marketingqualifizierter lead": "Marketing Qualified Lead",
    "vertriebsqualifizierter lead": "Sales Qualified Lead",
    "verkaufschance": "Opportunity",
    "kunde": "Customer",
    "andere": "Other",
    "sonstige": "Other",
}

HUBSPOT_DE = Product(
    key="hubspot-contacts-de",
    label="a HubSpot contacts export (German headers)",
    owner="HubSpot",
    holds="contacts",
    signature=(
        "Datensatz-ID",
        "Kontaktinhaber",
        "Lifecycle-Phase",
        "Lead-Status",
        "Telefonnummer",
        "Unternehmensname",
        "Zugeordnetes Unternehmen",
        "HubSpot-Score",
        "Erstellungsdatum",
    ),
    min_signature=3,
    no_names="HubSpot keeps contacts that left only an email (form fills, newsletter sign-ups)",
    lends=False,
    entries={
        "contacts": (
            K("Record ID", SOURCE_ID, "HubSpot's record id"),
            K("Datensatz-ID", SOURCE_ID, "HubSpot's record id"),
            K("Vorname", "firstName", "HubSpot's first name"),
            K("Nachname", "lastName", "HubSpot's last name"),
            K("E-Mail", "email", "HubSpot's email"),
            K("Telefonnummer", "phone", "HubSpot's phone number"),
            K("Mobiltelefonnummer", "mobile", "HubSpot's mobile phone number"),
            K("Jobtitel", "title", "HubSpot's job title"),
            K("Adresse", "address", "HubSpot's street address"),
            K("Stadt", "city", "HubSpot's city"),
            K("Bundesland/Region", "state", "HubSpot's state/region"),
            K("Postleitzahl", "postalCode", "HubSpot's postal code"),
            K("Land/Region", "country", "HubSpot's country/region"),
            K("Lifecycle-Phase", "lifecycleStage", "HubSpot's lifecycle stage"),
            K("Lead-Status", None, "HubSpot's sales status (Neu, Offen), not a lifecycle stage"),
            K("Ursprüngliche Quelle", "leadSource", "HubSpot's original source"),
            K("HubSpot-Score", "leadScore", "HubSpot's 0-100 score"),
            K("Kontaktinhaber", OWNER, OWNER_WHY),
            K("Unternehmensname", COMPANY, COMPANY_WHY),
            K("Zugeordnetes Unternehmen", COMPANY, COMPANY_WHY),
            K("Website-URL", None, COMPANY_SITE_WHY),
            K("Erstellungsdatum", None, "when the contact was created in HubSpot"),
            K("Datum der letzten Aktivität", None, "HubSpot's last activity"),
        )
    },
)


def _redmine(language: str, key: str, names: dict[str, tuple[str, ...]]) -> Product:
    """Redmine CRM's CSV captions in one language: English caption -> its spellings there."""

    def said(caption: str) -> tuple[str, ...]:
        return names.get(caption, ())

    contacts = [
        *(K(h, SOURCE_ID, "Redmine's contact id") for h in said("#")),
        *(K(h, "firstName", "Redmine's first name") for h in said("First name")),
        *(K(h, "lastName", "Redmine's last name") for h in said("Last name")),
        *(K(h, "fullName", "Redmine's full name") for h in said("Full name")),
        *(
            K(h, None, MIDDLE.format(first=said("First name")[0], middle=h))
            for h in said("Middle name")
        ),
        *(K(h, "email", "Redmine's emails (the first is used)") for h in said("Email")),
        *(K(h, "phone", "Redmine's phones (the first, then the mobile)") for h in said("Phone")),
        *(K(h, "title", "Redmine's job title") for h in said("Job title")),
        *(K(h, "address", "Redmine's street") for h in said("Street 1")),
        *(K(h, "address", "Redmine's address") for h in said("Address")),
        *(K(h, "city", "Redmine's city") for h in said("City")),
        *(K(h, "state", "Redmine's region (state)") for h in said("State")),
        *(K(h, "postalCode", "Redmine's postcode") for h in said("Zip")),
        *(K(h, "country", "Redmine's country") for h in said("Country")),
        *(K(h, "tags", "Redmine's tags") for h in said("Tags")),
        *(K(h, "notes", "Redmine's background") for h in said("Background")),
        *(K(h, COMPANY, COMPANY_WHY) for h in said("Company")),
        *(K(h, OWNER, OWNER_WHY) for h in said("Assignee")),
        *(K(h, None, "the street's next line") for h in said("Street 2")),
        *(K(h, None, "a web page; Rally contacts have no website field") for h in said("Website")),
        *(K(h, None, "who created the contact in Redmine") for h in said("Author")),
        *(K(h, None, CREATED) for h in said("Created")),
        *(K(h, None, "when the record was last changed") for h in said("Updated")),
        *(K(h, None, "Rally contacts have no birthday") for h in said("Birthday")),
    ]
    signature = tuple(
        h
        for caption in ("Full name", "Middle name", "Street 1", "Assignee", "Author", "Created")
        for h in said(caption)
    )
    return Product(
        key=f"{REDMINE.key}-{key}",
        label=f"{REDMINE.label} ({language} captions)",
        owner=REDMINE.owner,
        holds="contacts",
        signature=("#", *signature),
        min_signature=REDMINE.min_signature,
        entries={"contacts": tuple(contacts)},
        no_names=REDMINE.no_names,
        lends=False,
    )


REDMINE_DE = _redmine(
    "German",
    "de",
    {
        "#": ("#",),
        "Full name": ("Name", "Vollständiger Name"),
        "First name": ("Vorname",),
        "Last name": ("Nachname",),
        "Middle name": ("Zweiter Vorname", "Mittlerer Name"),
        "Job title": ("Position", "Berufsbezeichnung"),
        "Company": ("Firma", "Unternehmen"),
        "Phone": ("Telefon",),
        "Email": ("E-Mail",),
        "Street 1": ("Straße 1", "Strasse 1"),
        "Street 2": ("Straße 2", "Strasse 2"),
        "Address": ("Adresse",),
        "City": ("Stadt", "Ort"),
        "State": ("Bundesland", "Region"),
        "Zip": ("PLZ", "Postleitzahl"),
        "Country": ("Land",),
        "Tags": ("Tags", "Schlagwörter"),
        "Background": ("Hintergrund", "Beschreibung"),
        "Assignee": ("Zugewiesen an", "Verantwortlich"),
        "Author": ("Autor",),
        "Created": ("Angelegt", "Erstellt"),
        "Updated": ("Aktualisiert",),
        "Website": ("Webseite", "Website"),
        "Birthday": ("Geburtstag",),
    },
)

REDMINE_RU = _redmine(
    "Russian",
    "ru",
    {
        "#": ("#",),
        "Full name": ("Полное имя", "ФИО"),
        "First name": ("Имя",),
        "Last name": ("Фамилия",),
        "Middle name": ("Отчество",),
        "Job title": ("Должность",),
        "Company": ("Компания",),
        "Phone": ("Телефон",),
        "Email": ("Email", "E-mail", "Эл. почта"),
        "Street 1": ("Улица 1", "Улица"),
        "Street 2": ("Улица 2",),
        "Address": ("Адрес",),
        "City": ("Город",),
        "State": ("Регион", "Область"),
        "Zip": ("Индекс", "Почтовый индекс"),
        "Country": ("Страна",),
        "Tags": ("Теги", "Метки"),
        "Background": ("Информация", "Описание"),
        "Assignee": ("Назначена", "Ответственный"),
        "Author": ("Автор",),
        "Created": ("Создано", "Создан"),
        "Updated": ("Обновлено", "Обновлен"),
        "Website": ("Сайт", "Веб-сайт"),
        "Birthday": ("День рождения",),
    },
)

LOCALIZED_PRODUCTS = (HUBSPOT_DE, REDMINE_DE, REDMINE_RU)


def stage_values(values: list[str]) -> dict[str, str]:
    """HubSpot's German lifecycle stages among ``values``, translated to its English ones
    (what a ``values:`` translation of the column needs); empty when none is German."""
    return {
        value: GERMAN_STAGES[value.casefold()]
        for value in sorted(set(values))
        if value.casefold() in GERMAN_STAGES
    }
