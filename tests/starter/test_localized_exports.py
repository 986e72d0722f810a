"""`crmsync init` on exports written in the UI's language, and on the shapes a tester's first
try of new real-world exports found unmapped or mis-guessed: each a few rows as the product
writes them."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from crmsync.cli import cli
from crmsync.config import load_pipeline
from crmsync.schema import OBJECTS
from crmsync.starter import Starter, write_starter
from crmsync.starter.values import formats

ENV = {"RALLY_BASE_URL": "http://127.0.0.1:1", "RALLY_API_KEY": "k"}


def _init(tmp_path: Path, name: str, text: str, *, encoding: str = "utf-8") -> Starter:
    source = tmp_path / name
    source.write_bytes(text.encode(encoding))
    output = tmp_path / "starter.yaml"
    starter = write_starter(source, object_name="contacts", output=output)
    load_pipeline(output, env=ENV)  # what init writes loads
    return starter


FRENCH_OUTLOOK = (
    '"Titre","Prénom","Nom","Société","Service","Titre/Fonction","Rue (bureau)",'
    '"Ville (bureau)","Code postal (bureau)","Pays/Région (bureau)","Téléphone (bureau)",'
    '"Tél. mobile","Adresse de messagerie","Type de messagerie","Adresse de messagerie 2",'
    '"Notes","Page Web"\r\n'
    '"M.","François","Lefèvre","Ateliers Lumière SARL","Ventes","Directeur commercial",'
    '"12 rue de la Paix","Paris","75002","France","01 42 68 53 00","06 12 34 56 78",'
    '"f.lefevre@ateliers-lumiere.fr","SMTP","","","www.ateliers-lumiere.fr"\r\n'
    '"Mme","Hélène","Dupré","Boulangerie Dupré","","Gérante","","Lyon","69002","France",'
    '"+33 4 78 00 00 00","","helene@boulangerie-dupre.fr","SMTP","","Le lundi.",""\r\n'
)


def test_a_french_outlook_export_in_utf16_maps_as_the_english_one(tmp_path: Path) -> None:
    """Outlook writes its headers in its UI's language: "Adresse de messagerie" is its email,
    and the second address is read where the first is empty, as in English."""
    starter = _init(tmp_path, "contacts.csv", "\ufeff" + FRENCH_OUTLOOK, encoding="utf-16-le")
    suggestion = starter.suggestion
    assert suggestion.product is not None and suggestion.product.key == "outlook-fr"
    mapping = suggestion.mapping
    assert mapping["email"] == ["Adresse de messagerie", "Adresse de messagerie 2"]
    assert (mapping["phone"], mapping["mobile"]) == ("Téléphone (bureau)", "Tél. mobile")
    assert (mapping["title"], mapping["department"]) == ("Titre/Fonction", "Service")
    assert (mapping["address"], mapping["city"]) == ("Rue (bureau)", "Ville (bureau)")
    assert mapping["country"] == "Pays/Région (bureau)"
    assert not suggestion.missing_required
    assert suggestion.companies is not None
    assert suggestion.companies.mapping["website"] == "Page Web"
    assert "honorific" in {left.column: left.why for left in suggestion.left}["Titre"]


def test_a_german_hubspot_list_maps_phone_company_and_translates_its_stages(
    tmp_path: Path,
) -> None:
    text = (
        "Record ID;Vorname;Nachname;E-Mail;Telefonnummer;Unternehmensname;Lifecycle-Phase;"
        "Erstellungsdatum\n"
        "9001;Lukas;Hoffmann;lukas@baumwerk.de;+49 30 555 0101;Baumwerk GmbH;Lead;05.03.2024\n"
        "9002;Mia;Schulz;mia@t-online.de;0170 5550102;;Abonnent;06.03.2024\n"
        "9003;Björn;Weiß;bjoern@baumwerk.de;;Baumwerk GmbH;Kunde;07.03.2024\n"
    )
    suggestion = _init(tmp_path, "liste.csv", text, encoding="cp1252").suggestion
    assert suggestion.product is not None and suggestion.product.key == "hubspot-contacts-de"
    assert suggestion.mapping["phone"] == "Telefonnummer"
    assert suggestion.companies is not None and suggestion.companies.company == "Unternehmensname"
    stage = next(item for item in suggestion.fields if item.field == "lifecycleStage")
    assert stage.value == {
        "column": "Lifecycle-Phase",
        "values": {"Abonnent": "Subscriber", "Kunde": "Customer"},
    }


REDMINE_DE = (
    "#;Name;Vorname;Nachname;Position;Firma;Telefon;E-Mail;Straße 1;Stadt;PLZ;Land;Tags;"
    "Angelegt;Zugewiesen an;Autor\n"
    "201;Günther Maier;Günther;Maier;Einkauf;Maier Bau GmbH;+49 711 555010;g@maier-bau.de;"
    "Königstraße 1;Stuttgart;70173;Deutschland;vip;05.03.2024;Maria;Admin\n"
    "202;Maier Bau GmbH;Maier Bau GmbH;;;;+49 711 555000;info@maier-bau.de;Königstraße 1;"
    "Stuttgart;70173;Deutschland;kunde;01.02.2024;Maria;Admin\n"
)


def test_a_german_redmine_export_never_makes_a_person_of_a_company_row(tmp_path: Path) -> None:
    """Redmine keeps a company as a contact with only a first name: its full name must not
    give it a last name ("Maier Bau GmbH GmbH"); the row fails, and init says why."""
    suggestion = _init(tmp_path, "kontakte.csv", REDMINE_DE, encoding="latin-1").suggestion
    assert suggestion.product is not None and suggestion.product.key == "redmine-de"
    assert "fullName" not in suggestion.mapping
    left = {item.column: item.why for item in suggestion.left}
    assert 'make the other up from, e.g. "Maier Bau GmbH"' in left["Name"]
    assert suggestion.mapping["address"] == "Straße 1"
    assert any("Redmine keeps companies as contacts" in hint for hint in suggestion.hints)


def test_a_localized_company_flag_keeps_companies_out_of_the_contacts(tmp_path: Path) -> None:
    text = "Vorname;Nachname;E-Mail;Ist Firma\nAnna;Berg;a@x.de;nein\nBerg AG;;info@x.de;ja\n"
    starter = _init(tmp_path, "kontakte.csv", text)
    assert starter.info.where == {"Ist Firma": "nein"}
    assert starter.info.rows == 1


def test_a_salesforce_lead_export_leaves_name_out_where_it_would_make_up_a_first_name(
    tmp_path: Path,
) -> None:
    text = (
        '"Id","IsDeleted","LastName","FirstName","Name","Company","Email","OwnerId"\n'
        '"00Q1","false","Liu","Grace","Grace Liu","Bluewater","grace@bluewater.com","005A"\n'
        '"00Q2","false","Kowalski Plumbing","","Kowalski Plumbing","Kowalski Plumbing",'
        '"info@kowalski.com","005A"\n'
    )
    suggestion = _init(tmp_path, "Lead.csv", text).suggestion
    assert "fullName" not in suggestion.mapping


def test_a_full_name_that_only_names_rows_without_names_is_kept(tmp_path: Path) -> None:
    text = "First Name,Last Name,Name,Email\nAnn,Lee,Ann Lee,a@x.com\n,,Bo Kim,b@y.com\n"
    suggestion = _init(tmp_path, "people.csv", text).suggestion
    assert suggestion.mapping["fullName"] == "Name"


def test_outlook_com_phones_fall_back_and_its_web_page_is_the_companys(tmp_path: Path) -> None:
    text = (
        "First Name,Last Name,E-mail Address,Home Phone,Business Phone,Mobile Phone,"
        "Primary Phone,Company,Business Street,Business City,Business Postal Code,"
        "Business Country/Region,Web Page\n"
        "Priya,Raman,priya@tidewater.com,,+1 206 555 0134,,,Tidewater,400 Pine St,Seattle,"
        "98101,United States,tidewater.com\n"
        "Liam,OConnor,liam@granitepeak.ie,,,,+353 1 555 0101,Granite Peak,,Dublin,,Ireland,\n"
        "Chen,Wei,chen@larkspur.com,(416) 555-0190,,,,Larkspur,,,,,\n"
    )
    suggestion = _init(tmp_path, "outlook.csv", text).suggestion
    assert suggestion.mapping["phone"] == ["Business Phone", "Primary Phone", "Home Phone"]
    assert suggestion.companies is not None
    assert suggestion.companies.mapping["website"] == "Web Page"


def test_googles_outlook_csv_maps_its_country_and_keeps_its_groups_out_of_tags(
    tmp_path: Path,
) -> None:
    text = (
        "First Name,Last Name,E-mail Address,Mobile Phone,Business Street,Business City,"
        "Business Postal Code,Business Country,Categories\n"
        "Maya,Haddad,maya@larkspur.com,+1 416-555-0123,1 Yonge St,Toronto,M5E 1E5,Canada,"
        "myContacts;Customers\n"
        "Dan,Okafor,dan@copperleaf.com,,,,,,myContacts\n"
    )
    suggestion = _init(tmp_path, "contacts.csv", text).suggestion
    assert suggestion.mapping["country"] == "Business Country"
    assert "tags" not in suggestion.mapping
    assert "system group" in {left.column: left.why for left in suggestion.left}["Categories"]


def test_a_salesforce_leads_reports_company_account_makes_the_companies_step(
    tmp_path: Path,
) -> None:
    text = (
        '"Lead Owner","First Name","Last Name","Company / Account","Email"\n'
        '"Dana","Grace","Liu","Bluewater Marine","grace@bluewatermarine.com"\n'
        '"Dana","Marco","Rossi","Trattoria Rossi","marco@trattoriarossi.it"\n'
    )
    suggestion = _init(tmp_path, "report.csv", text).suggestion
    assert suggestion.companies is not None
    assert suggestion.companies.company == "Company / Account"


@pytest.mark.parametrize(
    ("employees", "revenue", "decimal_comma"),
    [
        (["1,200", "85"], ["$45,000,000.00", "2500000"], False),
        (["1,200"], ["USD 18M"], False),  # "1,200" alone is no evidence either way
        (["12"], ["1.234,56"], True),
        (["12"], ["12,5"], True),
        (["12"], ["0,75"], True),
        (["12"], ["12,5", "45.00"], False),  # a dot before two final digits speaks against
        (["12"], ["12,5", "1,234.5"], False),
        (["12"], ["12,5", "45,000,000"], False),
    ],
    ids=[
        "thousands-beside-dollars",
        "thousands-alone",
        "dots-then-comma",
        "one-decimal",
        "zero-comma",
        "against-two-decimals",
        "against-grouped-point",
        "against-two-groups",
    ],
)
def test_decimal_comma_is_guessed_only_from_unambiguous_numbers(
    employees: list[str], revenue: list[str], decimal_comma: bool
) -> None:
    found = dict(
        formats({"employeeCount": employees, "annualRevenue": revenue}, OBJECTS["companies"])
    )
    assert ("decimal_comma" in found) is decimal_comma


MAILCHIMP_HEADER = (
    "Email Address,First Name,Last Name,MEMBER_RATING,OPTIN_TIME,CONFIRM_TIME,LEID,EUID,CC"
)


@pytest.mark.parametrize(
    ("columns", "cells", "said", "tag"),
    [
        ("UNSUB_TIME,UNSUB_REASON", "2024-02-14 08:00:00,NORMAL", "unsubscribed", "unsubscribed"),
        ("CLEAN_TIME,CLEAN_CAMPAIGN_TITLE", "2023-05-01 08:00:00,May", "bounced", "bounced"),
    ],
    ids=["unsubscribed", "cleaned"],
)
def test_a_mailchimp_export_of_people_who_left_says_so_and_offers_a_tag(
    tmp_path: Path, columns: str, cells: str, said: str, tag: str
) -> None:
    source = tmp_path / "members_export.csv"
    source.write_text(
        f"{MAILCHIMP_HEADER},{columns}\n"
        f"paul@bayview.com,Paul,Hendricks,2,2022-01-10,2022-01-10,1,a,US,{cells}\n"
    )
    output = tmp_path / "starter.yaml"
    done = CliRunner().invoke(cli, ["init", str(source), "-o", str(output)])
    assert done.exit_code == 0, done.output
    note = next(line for line in done.output.splitlines() if said in line)
    assert note.startswith("note: The people in this file")
    assert "Rally's create request has no unsubscribe field" in note
    constant = f"tags: {{constant: mailchimp-{tag}}}"
    assert f"  {constant}" in done.output
    assert f"#   {constant}" in output.read_text(encoding="utf-8")


def test_a_short_russian_export_maps_its_names_and_phone(tmp_path: Path) -> None:
    """A Redmine query exports only the columns chosen: Russian names are known on their own,
    not only beside Redmine's other columns."""
    text = (
        "Имя,Фамилия,Email,Телефон,Компания\nИван,Петров,ivan@example.ru,+7 495 123-45-67,Ромашка\n"
    )
    mapping = _init(tmp_path, "people.csv", text).suggestion.mapping
    assert (mapping["firstName"], mapping["lastName"], mapping["phone"]) == (
        "Имя",
        "Фамилия",
        "Телефон",
    )


def test_hubspot_associated_company_alone_names_the_company(tmp_path: Path) -> None:
    text = "First Name,Last Name,Email,Associated Company\nAda,King,ada@kingco.io,King Co\n"
    companies = _init(tmp_path, "contacts.csv", text).suggestion.companies
    assert companies is not None and companies.company == "Associated Company"


def test_init_says_a_company_cell_names_several(tmp_path: Path) -> None:
    text = (
        "First Name,Last Name,Email,Associated Company\n"
        "Ada,King,ada@kingco.io,King Co;Queen Co\n"
        "Bob,Byte,bob@x.io,Byte Ltd\n"
    )
    starter = _init(tmp_path, "contacts.csv", text)
    prose = " ".join(line.strip().lstrip("# ") for line in starter.text.splitlines() if "#" in line)
    assert "1 cell with several names, split at ';': the first is used" in prose
