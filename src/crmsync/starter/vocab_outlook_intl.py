"""Outlook's contacts export in the languages its UI is installed in.

Outlook writes its CSV headers in the UI's language ("Telefon geschäftlich", "Adresse de
messagerie"), so a German or French export is the same file as the English one under other
names. Each language is a table from the English header to its spellings there; the English
entries' targets, reasons and fallbacks are reused, so a localized export maps, and falls back
(the second email where the first is an Exchange address), exactly as the English one does.
German and French are the labels of current Outlook versions (with the older spellings beside
them); Spanish, Italian and Dutch follow the same Outlook's translations.
"""

from __future__ import annotations

from crmsync.starter.vocab import K, Known, Product
from crmsync.starter.vocab_people import OUTLOOK

# English header (as the OUTLOOK entries spell it) -> its spellings in one language
Translation = dict[str, tuple[str, ...]]

GERMAN: Translation = {
    "Title": ("Anrede",),
    "First Name": ("Vorname",),
    "Middle Name": ("Weitere Vornamen",),
    "Last Name": ("Nachname",),
    "Suffix": ("Suffix",),
    "Company": ("Firma",),
    "Department": ("Abteilung",),
    "Job Title": ("Position",),
    "Business Street": ("Straße geschäftlich",),
    "Business City": ("Ort geschäftlich",),
    "Business State": ("Bundesland/Kanton geschäftlich", "Region geschäftlich"),
    "Business Postal Code": ("Postleitzahl geschäftlich",),
    "Business Country/Region": ("Land/Region geschäftlich",),
    "Business Street *": ("Straße geschäftlich *",),
    "Business Phone": ("Telefon geschäftlich",),
    "Business Phone 2": ("Telefon geschäftlich 2",),
    "Primary Phone": ("Haupttelefon",),
    "Company Main Phone": ("Telefon Firma",),
    "Home Phone": ("Telefon privat",),
    "Mobile Phone": ("Mobiltelefon",),
    "* Fax": ("Fax *",),
    "* Phone*": ("*telefon*",),
    "Home *": ("* privat*",),
    "Other *": ("Weitere *",),
    "E-mail Address": ("E-Mail-Adresse",),
    "E-mail 2 Address": ("E-Mail 2: Adresse",),
    "E-mail Type": ("E-Mail-Typ",),
    "E-mail * Type": ("E-Mail *: Typ",),
    "E-mail Display Name": ("E-Mail: Angezeigter Name",),
    "E-mail * Display Name": ("E-Mail *: Angezeigter Name",),
    "Categories": ("Kategorien",),
    "Notes": ("Notizen",),
    "Web Page": ("Webseite",),
    "Initials": ("Initialen",),
    "Birthday": ("Geburtstag",),
    "Anniversary": ("Jahrestag",),
    "Gender": ("Geschlecht",),
    "Priority": ("Priorität",),
    "Sensitivity": ("Vertraulichkeit",),
    "Private": ("Privat",),
}

FRENCH: Translation = {
    "Title": ("Titre",),
    "First Name": ("Prénom",),
    "Middle Name": ("Deuxième prénom",),
    "Last Name": ("Nom",),
    "Suffix": ("Suffixe",),
    "Company": ("Société",),
    "Department": ("Service",),
    "Job Title": ("Titre/Fonction", "Fonction"),
    "Business Street": ("Rue (bureau)",),
    "Business City": ("Ville (bureau)",),
    "Business State": ("Dép/Région (bureau)",),
    "Business Postal Code": ("Code postal (bureau)",),
    "Business Country/Region": ("Pays/Région (bureau)",),
    "Business Street *": ("Rue (bureau) *",),
    "Business Phone": ("Téléphone (bureau)", "Tél. bureau"),
    "Business Phone 2": ("Téléphone 2 (bureau)", "Tél. bureau 2"),
    "Primary Phone": ("Téléphone principal", "Tél. principal"),
    "Company Main Phone": ("Téléphone société", "Tél. société"),
    "Home Phone": ("Téléphone (domicile)", "Tél. domicile"),
    "Mobile Phone": ("Tél. mobile", "Téléphone mobile"),
    "* Fax": ("Télécopie*",),
    "* Phone*": ("Tél*",),
    "Home *": ("*(domicile)*",),
    "Other *": ("*(autre)*",),
    "E-mail Address": ("Adresse de messagerie",),
    "E-mail 2 Address": ("Adresse de messagerie 2",),
    "E-mail Type": ("Type de messagerie",),
    "E-mail * Type": ("Type de messagerie *",),
    "E-mail Display Name": ("Nom complet de l'adresse de messagerie",),
    "E-mail * Display Name": ("Nom complet de l'adresse de messagerie *",),
    "Categories": ("Catégories",),
    "Notes": ("Notes",),
    "Web Page": ("Page Web",),
    "Initials": ("Initiales",),
    "Birthday": ("Anniversaire",),
    "Gender": ("Sexe",),
    "Priority": ("Priorité",),
    "Sensitivity": ("Critère de diffusion",),
    "Private": ("Privé",),
}

SPANISH: Translation = {
    "Title": ("Tratamiento",),
    "First Name": ("Nombre",),
    "Middle Name": ("Segundo nombre",),
    "Last Name": ("Apellidos",),
    "Suffix": ("Sufijo",),
    "Company": ("Organización", "Compañía"),
    "Department": ("Departamento",),
    "Job Title": ("Puesto", "Cargo"),
    "Business Street": ("Calle del trabajo",),
    "Business City": ("Ciudad de trabajo",),
    "Business State": ("Provincia o estado de trabajo",),
    "Business Postal Code": ("Código postal del trabajo",),
    "Business Country/Region": ("País o región del trabajo",),
    "Business Phone": ("Teléfono del trabajo",),
    "Business Phone 2": ("Teléfono del trabajo 2",),
    "Primary Phone": ("Teléfono principal",),
    "Home Phone": ("Particular", "Teléfono particular"),
    "Mobile Phone": ("Teléfono móvil",),
    "E-mail Address": ("Dirección de correo electrónico",),
    "E-mail 2 Address": ("Dirección de correo electrónico 2",),
    "E-mail Type": ("Tipo de correo electrónico",),
    "E-mail Display Name": ("Nombre para mostrar del correo electrónico",),
    "Categories": ("Categorías",),
    "Notes": ("Notas",),
    "Web Page": ("Página web",),
    "Birthday": ("Cumpleaños",),
}

ITALIAN: Translation = {
    "Title": ("Titolo",),
    "First Name": ("Nome",),
    "Middle Name": ("Secondo nome",),
    "Last Name": ("Cognome",),
    "Suffix": ("Suffisso",),
    "Company": ("Società",),
    "Department": ("Reparto",),
    "Job Title": ("Posizione",),
    "Business Street": ("Via (uff.)",),
    "Business City": ("Città (uff.)",),
    "Business State": ("Provincia (uff.)",),
    "Business Postal Code": ("CAP (uff.)",),
    "Business Country/Region": ("Paese/area geografica (uff.)", "Paese (uff.)"),
    "Business Phone": ("Ufficio", "Telefono (uff.)"),
    "Business Phone 2": ("Ufficio 2",),
    "Primary Phone": ("Telefono principale",),
    "Home Phone": ("Abitazione",),
    "Mobile Phone": ("Cellulare",),
    "E-mail Address": ("Indirizzo posta elettronica",),
    "E-mail 2 Address": ("Indirizzo posta elettronica 2",),
    "E-mail Type": ("Tipo posta elettronica",),
    "E-mail Display Name": ("Nome visualizzato posta elettronica",),
    "Categories": ("Categorie",),
    "Notes": ("Note",),
    "Web Page": ("Pagina Web",),
    "Birthday": ("Compleanno",),
}

DUTCH: Translation = {
    "Title": ("Titel",),
    "First Name": ("Voornaam",),
    "Middle Name": ("Middelste naam",),
    "Last Name": ("Achternaam",),
    "Suffix": ("Achtervoegsel",),
    "Company": ("Bedrijf",),
    "Department": ("Afdeling",),
    "Job Title": ("Functie",),
    "Business Street": ("Werkadres, straat",),
    "Business City": ("Werkadres, plaats",),
    "Business State": ("Werkadres, provincie",),
    "Business Postal Code": ("Werkadres, postcode",),
    "Business Country/Region": ("Werkadres, land/regio",),
    "Business Phone": ("Telefoon op werk",),
    "Business Phone 2": ("Telefoon op werk 2",),
    "Primary Phone": ("Hoofdtelefoon",),
    "Home Phone": ("Telefoon thuis",),
    "Mobile Phone": ("Mobiele telefoon",),
    "E-mail Address": ("E-mailadres",),
    "E-mail 2 Address": ("E-mailadres 2",),
    "E-mail Type": ("E-mailtype",),
    "E-mail Display Name": ("Weergavenaam e-mail",),
    "Categories": ("Categorieën",),
    "Notes": ("Notities",),
    "Web Page": ("Webpagina",),
    "Birthday": ("Verjaardag",),
}


def _translated(entries: tuple[Known, ...], names: Translation) -> tuple[Known, ...]:
    """The English entries, in their order, under the language's names."""
    return tuple(
        K(local, known.target, known.why, fallback=known.fallback)
        for known in entries
        for local in names.get(known.header, ())
    )


def localized_outlook(language: str, names: Translation) -> Product:
    """Outlook's product under ``names``: recognised by its own spellings of the English
    signature, mapped by the English entries."""
    signature = tuple(local for header in OUTLOOK.signature for local in names.get(header, ()))
    extra = ("Business Phone", "E-mail Address", "E-mail 2 Address", "Business City")
    signature += tuple(local for header in extra for local in names.get(header, ()))
    return Product(
        key=f"{OUTLOOK.key}-{language[:2].lower()}",
        label=f"{OUTLOOK.label} ({language} headers)",
        owner=OUTLOOK.owner,
        holds=OUTLOOK.holds,
        signature=signature,
        min_signature=OUTLOOK.min_signature,
        entries={name: _translated(entries, names) for name, entries in OUTLOOK.entries.items()},
        no_names=OUTLOOK.no_names,
        lends=False,
    )


LOCALIZED_OUTLOOK = tuple(
    localized_outlook(language, names)
    for language, names in (
        ("German", GERMAN),
        ("French", FRENCH),
        ("Spanish", SPANISH),
        ("Italian", ITALIAN),
        ("Dutch", DUTCH),
    )
)
