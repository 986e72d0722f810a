"""The column names any export may use, tried after the recognised product's own.

The value checks (honorifics, scales, region codes, phone-like values) guard the ambiguous ones
("Title", "Region", "Score", "SMS"). Names in the languages exports are written in (German,
French, Spanish, Italian, Dutch, Russian) and the headers of exports no product entry knows
(Dynamics 365's "Address 1: City", Shopify's "Default Address City", Keap's "Phone 1") are
here too.
"""

from __future__ import annotations

from crmsync.starter.vocab import (
    COMPANY,
    COMPANY_DOMAIN_WHY,
    COMPANY_DOMAINS,
    COMPANY_SITE_WHY,
    COMPANY_SITES,
    COMPANY_WHY,
    OWNER,
    OWNER_WHY,
    SOURCE_ID,
    K,
    Known,
    usual_entries,
)

# fmt: off
GENERIC: dict[str, tuple[Known, ...]] = {
    "contacts": usual_entries(
        {
            "firstName": (
                "First Name", "Given Name", "First", "fname", "Forename", "Vorname", "Prénom",
                "Prenom", "Nombre", "Nome", "Voornaam", "Имя",
            ),
            "lastName": (
                "Last Name", "Family Name", "Surname", "Last", "lname", "Nachname", "Nom",
                "Apellido", "Apellidos", "Cognome", "Achternaam", "Фамилия",
            ),
            "fullName": (
                "Full Name", "Name", "Contact Name", "Display Name", "Contact", "FN", "ФИО",
            ),
            "email": (
                "Email", "E-mail Address", "Email Address", "Primary Email", "Work Email",
                "Emails", "Email 1", "Courriel", "Correo", "Correo electrónico",
                "E-Mail-Adresse", "Adresse e-mail", "Электронная почта", "Эл. почта", "Почта",
            ),
            "phone": (
                "Phone", "Business Phone", "Phone Number", "Work Phone", "Telephone", "Phone 1",
                "Office Phone", "Phone - work", "Telefon", "Téléphone", "Teléfono", "Telefono",
                "Telefoon", "Телефон", "Рабочий телефон",
            ),
            "mobile": (
                "Mobile Phone", "Mobile", "Mobile Phone Number", "Cell", "Cell Phone",
                "Phone - mobile", "Mobil", "Handy", "Portable", "Móvil", "Movil", "Celular",
                "Cellulare", "Mobiel", "SMS", "Мобильный телефон", "Мобильный",
            ),
            "title": (
                "Job Title", "Title", "Position", "Role", "Fonction", "Titre de poste", "Funktion",
                "Cargo", "Должность",
            ),
            "department": ("Department", "Abteilung", "Departamento", "Отдел"),
            "linkedInUrl": ("LinkedIn", "LinkedIn URL", "LinkedIn Profile"),
            "twitterHandle": ("Twitter", "Twitter Username", "Twitter Handle"),
            "address": (
                "Address", "Street", "Street Address", "Address Line 1", "Street 1",
                "Address 1: Street 1", "Street Address 1", "Address Line1",
                "Default Address Address1", "Mailing Street", "Home Address 1", "Home Street",
                "Straße", "Strasse", "Adresse", "Dirección", "Direccion", "Indirizzo", "Adres",
                "Адрес", "Улица",
            ),
            "city": (
                "City", "Town", "City/Town", "Address 1: City", "Address City",
                "Default Address City", "Mailing City", "Home City", "Ort", "Stadt", "Ville",
                "Ciudad", "Città", "Plaats", "Город",
            ),
            "state": (
                "State", "State/Province", "Province", "State/Region", "Region",
                "Address 1: State/Province", "Address State", "Default Address Province Code",
                "Default Address Province", "Mailing State/Province", "Home State", "Bundesland",
                "Provincia", "Регион", "Область",
            ),
            "country": (
                "Country", "Country/Region", "Address 1: Country/Region", "Address Country",
                "Default Address Country Code", "Default Address Country", "Mailing Country",
                "Home Country", "Land", "Pays", "País", "Pais", "Paese", "Страна",
            ),
            "postalCode": (
                "Postal Code", "ZIP", "Zip Code", "Postcode", "ZIP/Postal Code",
                "Address 1: ZIP/Postal Code", "Address Zip", "Address Postal Code",
                "Default Address Zip", "Mailing Zip/Postal Code", "Home Zip", "PLZ",
                "Postleitzahl", "Code postal", "Código postal", "Codigo postal", "CAP", "Индекс",
                "Почтовый индекс",
            ),
            "leadSource": ("Lead Source", "Original Source", "Source", "Source name", "Quelle"),
            "leadScore": ("Lead Score", "Score"),
            "lifecycleStage": ("Lifecycle Stage", "Stage", "Status", "Contact Status"),
            "tags": ("Tags", "Labels", "Categories", "Теги", "Метки"),
            "notes": (
                "Notes", "Note", "Background", "Description", "Comments", "Notizen", "Notas",
                "Remarques", "Заметки", "Примечание", "Комментарий",
            ),
        },
        *(
            K(header, COMPANY, COMPANY_WHY)
            for header in (
                "Company", "Company Name", "Account Name", "Organization", "Organization Name",
                "Accounts", "Default Address Company", "Company (metadata)", "Firma",
                "Unternehmen", "Société", "Societe", "Empresa", "Azienda", "Bedrijf",
                "Company / Account", "Associated Company", "Компания", "Организация",
            )
        ),
        # a second address or number, read where the first is empty
        *(
            K(header, "email", "another email, where the first is empty", fallback=True)
            for header in (
                "Personal Email", "Other Email", "Email 2", "Home Email", "Secondary Email",
            )
        ),
        *(
            K(header, "phone", "another phone, where the first is empty", fallback=True)
            for header in ("Home Phone", "Other Phone", "Phone 2", "Default Address Phone")
        ),
        *(K(header, None, COMPANY_SITE_WHY) for header in COMPANY_SITES),
        *(K(header, None, COMPANY_DOMAIN_WHY) for header in COMPANY_DOMAINS),
        K("Owner", OWNER, OWNER_WHY),
        K("ID", SOURCE_ID, "the source system's id"),
    ),
    "companies": usual_entries(
        {
            "name": (
                "Company Name", "Name", "Company", "Account Name", "Organization",
                "Organization Name", "Firma", "Unternehmen", "Société", "Societe", "Empresa",
            ),
            "domain": (*COMPANY_DOMAINS, "Email Domain"),
            "website": (*COMPANY_SITES, "URL"),
            "industry": ("Industry", "Sector"),
            "description": ("Description", "About", "Background"),
            "employeeCount": (
                "Employees", "Number of Employees", "Employee Count", "Headcount", "Mitarbeiter",
                "Employés", "Empleados",
            ),
            "annualRevenue": ("Annual Revenue", "Revenue", "Umsatz", "Chiffre d'affaires"),
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
    "activities": usual_entries(
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
# fmt: on
