"""The Redmine CRM sample data, and the writers of every export format the readers take.

`python -m tests.redmine.samples` rewrites sample_data/redmine/ (contacts.json, contacts.xml,
contacts_old.xml, contacts.csv, contacts_xls.csv) from `sample_contacts()`; the tests use the
same writers on generated data (`many_contacts`). The JSON and XML go through the sandbox's own
renderer, so the files are what the sandbox (and, per REDMINE.md, Redmine) writes.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crmsync.extract.redmine.model import (
    Address,
    Contact,
    CustomField,
    Note,
    Project,
    UserRef,
)
from crmsync.sandbox.redmine.render import XmlShape, contact_json, contact_xml, contacts_xml

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DIR = ROOT / "sample_data" / "redmine"

ADMIN = UserRef(1, "Admin")
KIRILL = UserRef(4, "Kirill Bezrukov")
MARIA = UserRef(5, "Maria Santos")
TOM = UserRef(6, "Tom Becker")
SALES = Project(1, "Sales", "sales")
SUPPORT = Project(2, "Support", "support")
LICENSE, PURCHASE, INDUSTRIES, LEAD_SOURCE = 1, 3, 5, 6
EPOCH = datetime(2023, 3, 1, 8, 0, 0, tzinfo=UTC)

# The newer CSV export's captions (REDMINE.md), then the XLS-style (older) ones.
CSV_HEADERS = (
    "#", "Full name", "First name", "Last name", "Middle Name", "Job title", "Company", "Phone",
    "Email", "Address", "Street 1", "Street 2", "City", "State", "ZIP", "Country", "Tags",
    "Created", "Updated", "Assignee", "Author",
)  # fmt: skip
XLS_HEADERS = (
    "#", "Is company", "First Name", "Middle Name", "Last Name", "Job title", "Company", "Phone",
    "Email", "Address", "City", "ZIP", "State", "Country", "Skype", "Website", "Birthday", "Tags",
    "Responsible", "Background", "Created", "Updated",
)  # fmt: skip
CUSTOM_FIELD_NAMES = {LICENSE: "License", PURCHASE: "Purchase date", INDUSTRIES: "Industries",
                      LEAD_SOURCE: "Lead source"}  # fmt: skip


def stamp(days: float) -> str:
    return (EPOCH + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fields(
    license: str | None = None,
    purchase: str | None = None,
    industries: Sequence[str] = (),
    source: str | None = None,
) -> tuple[CustomField, ...]:
    return (
        CustomField(LICENSE, "License", license or ""),
        CustomField(PURCHASE, "Purchase date", purchase or ""),
        CustomField(INDUSTRIES, "Industries", tuple(industries), multiple=True),
        CustomField(LEAD_SOURCE, "Lead source", source or ""),
    )


def _note(nid: int, day: float, type_id: int | None, author: UserRef, content: str) -> Note:
    return Note(nid, content, type_id, author, stamp(day), stamp(day))


def company(
    cid: int,
    name: str,
    domain: str,
    *,
    city: str,
    country: tuple[str, str],
    street: str,
    postcode: str,
    phones: Sequence[str] = (),
    tags: Sequence[str] = (),
    industries: Sequence[str] = (),
    background: str | None = None,
    assigned: UserRef | None = KIRILL,
    notes: Sequence[Note] = (),
    region: str | None = None,
    avatar: int | None = None,
) -> Contact:
    return Contact(
        id=cid, is_company=True, avatar_id=avatar, first_name=name, last_name=None,
        middle_name=None, company="",
        website=f"https://www.{domain}", job_title="", background=background or "",
        author=ADMIN, assigned_to=assigned,
        address=Address(street, city, region, postcode, country[0], country[1]),
        phones=tuple(phones), emails=(f"info@{domain}",), tags=tuple(tags),
        custom_fields=_fields(industries=industries, source="Trade fair"),
        created_on=stamp(cid * 3), updated_on=stamp(cid * 3 + 40),
        projects=(SALES,), notes=tuple(notes),
    )  # fmt: skip


def person(
    pid: int,
    first: str,
    last: str,
    *,
    company: str = "",
    title: str = "",
    emails: Sequence[str] = (),
    phones: Sequence[str] = (),
    tags: Sequence[str] = (),
    middle: str = "",
    city: str | None = None,
    country: tuple[str, str] | None = None,
    street: str | None = None,
    postcode: str | None = None,
    region: str | None = None,
    assigned: UserRef | None = MARIA,
    background: str = "",
    license: str | None = None,
    purchase: str | None = None,
    industries: Sequence[str] = (),
    source: str | None = None,
    skype: str | None = None,
    birthday: str | None = None,
    notes: Sequence[Note] = (),
    projects: Sequence[Project] = (SALES,),
) -> Contact:
    address = None
    if city or street:
        code = country or ("", "")
        address = Address(street, city, region, postcode, code[0], code[1])
    return Contact(
        id=pid, is_company=False, first_name=first, last_name=last, middle_name=middle,
        company=company, job_title=title, background=background, skype_name=skype,
        birthday=birthday, author=KIRILL if pid % 2 else ADMIN, assigned_to=assigned,
        address=address, phones=tuple(phones), emails=tuple(emails), tags=tuple(tags),
        custom_fields=_fields(license, purchase, industries, source),
        created_on=stamp(pid * 3 + 0.37), updated_on=stamp(pid * 3 + 55.61),
        projects=tuple(projects), notes=tuple(notes),
    )  # fmt: skip


DE, ES, FR, GB, US, PL, NL = (("Germany", "DE"), ("Spain", "ES"), ("France", "FR"),
                              ("United Kingdom", "GB"), ("United States", "US"),
                              ("Poland", "PL"), ("Netherlands", "NL"))  # fmt: skip


def sample_contacts() -> list[Contact]:
    """~40 contacts: 8 companies, 31 people, with the awkward cases the readers must survive."""
    return [
        person(1, "Sarah", "Chen", company="Nordwind Logistik GmbH", title="Head of Procurement",
               emails=["sarah.chen@nordwind-logistik.de", "s.chen@gmail.com"],
               phones=["+49 40 3861 2200", "+49 171 555 0101"], tags=["vip", "referral"],
               city="Hamburg", country=DE, street="Am Sandtorkai 50", postcode="20457",
               license="ENT-2231", purchase="2024-02-12", industries=["Logistics", "Retail"],
               source="Referral", background="Met at LogiMAT 2024.\nPrefers email over calls.",
               notes=[_note(1, 400, 1, MARIA, "Intro call: needs 40 seats by Q3."),
                      _note(2, 410, 0, MARIA, "Sent pricing sheet and the DPA.")]),
        person(2, "José", "Müller", company="Nordwind Logistik GmbH", title="IT-Leiter",
               emails=["jose.mueller@nordwind-logistik.de"], phones=["+49 40 3861 2231"],
               tags=["technical"], city="Hamburg", country=DE, street="Am Sandtorkai 50",
               postcode="20457", industries=["Logistics"], skype="jose.mueller.nw",
               notes=[_note(3, 420, 2, TOM, "On-site demo in Hamburg; asked about SSO.")]),
        company(3, "Iberia Textiles S.L.", "iberiatextiles.es", city="Barcelona", country=ES,
                street="Calle Valencia, 87-89", postcode="08029", phones=["+34 933 22 43 23"],
                tags=["customer"], industries=["Textiles"], avatar=39,
                background="Family business since 1962; three factories in Catalonia."),
        person(4, "Zoë", "Łukasiewicz", company="Wisła Software Sp. z o.o.", title="CTO",
               emails=["zoe@wisla.pl", "zoe.lukasiewicz@outlook.com", "zl@wisla.dev"],
               phones=["+48 22 555 01 77", "+48 601 555 010", "+48 22 555 01 78"],
               tags=["vip", "technical"], city="Kraków", country=PL, street="ul. Wielicka 28",
               postcode="30-552", region="Małopolskie", license="ENT-2304", purchase="2024-05-30",
               industries=["Software", "Consulting", "Education"], source="Webinar",
               birthday="1986-11-02",
               notes=[_note(4, 430, None, KIRILL, "Wants a sandbox tenant before signing."),
                      _note(5, 431, 1, KIRILL, "Follow-up call: legal review done."),
                      _note(6, 445, 2, MARIA, "Kick-off meeting, Kraków office.")]),
        person(5, "Priya", "Raman", company="Iberia Textiles S.L.", title="Operations Manager",
               emails=["priya.raman@iberiatextiles.es"], phones=["+34 933 22 43 40"],
               tags=["customer"], city="Barcelona", country=ES, street="Calle Valencia, 87-89",
               postcode="08029", source="Website"),
        person(6, "Tom", "O'Brien", company="Harbour & Co", title="Partner",
               emails=["tom@harbourandco.co.uk"], phones=["+44 20 7946 0958"],
               tags=["prospect", "cold call"], city="London", country=GB,
               street="14 Fenchurch Street", postcode="EC3M 3BY", assigned=TOM,
               notes=[_note(7, 460, 1, TOM, "Cold call; call back in spring.")]),
        company(7, "Nordwind Logistik GmbH", "nordwind-logistik.de", city="Hamburg", country=DE,
                street="Am Sandtorkai 50", postcode="20457",
                phones=["+49 40 3861 2200", "+49 40 3861 2299"], tags=["customer", "vip"],
                industries=["Logistics"],
                notes=[_note(8, 470, None, KIRILL, "Framework contract signed, 3 years.")]),
        person(8, "Amélie", "Dubois", company="Lumière Studio SARL", title="Directrice artistique",
               emails=["amelie@lumiere-studio.fr"], phones=["+33 1 42 68 53 00"],
               tags=["prospect"], city="Paris", country=FR, street="12 rue de Rivoli",
               postcode="75004", source="Instagram",
               background="Asked for French-language onboarding."),
        person(9, "Marcus", "Johnson", company="Brightline Analytics Inc.", title="VP Sales",
               emails=["marcus.johnson@brightline.io", "mjohnson@brightline.io"],
               phones=["+1 415 555 0132", "+1 415 555 0199"], tags=["vip"],
               city="San Francisco", country=US, street="500 Howard St", postcode="94105",
               region="CA", license="PRO-0042", purchase="2023-12-01", industries=["Analytics"],
               notes=[_note(9, 480, 0, MARIA, "Email: renewal quote accepted.")]),
        person(10, "Lena", "Vogel", company="Freelance", title="Consultant",
               emails=["lena.vogel@posteo.de"], phones=["+49 30 901820"], tags=["partner"],
               city="Berlin", country=DE, street="Torstraße 109", postcode="10119",
               background="Independent; not tied to any company record."),
        person(11, "Hiroshi", "Tanaka", company="Brightline Analytics Inc.", title="Data Engineer",
               emails=["hiroshi.tanaka@brightline.io"], tags=["technical"], city="San Francisco",
               country=US, street="500 Howard St", postcode="94105", region="CA"),
        company(12, "Brightline Analytics Inc.", "brightline.io", city="San Francisco",
                country=US, street="500 Howard St", postcode="94105", region="CA",
                phones=["+1 415 555 0100"], tags=["customer"], industries=["Analytics", "SaaS"],
                assigned=MARIA),
        person(13, "Sophie", "van der Berg", company="Tulip Trading B.V.", title="Buyer",
               emails=["sophie@tuliptrading.nl"], phones=["+31 20 555 4411"], tags=["prospect"],
               city="Amsterdam", country=NL, street="Herengracht 182", postcode="1016 BR",
               notes=[_note(10, 500, 2, TOM, "Met at the Amsterdam expo.")]),
        person(14, "Chloé", "Martin", company="Lumière Studio SARL", title="Chargée de projet",
               phones=["+33 1 42 68 53 07"], tags=["prospect"], city="Paris", country=FR,
               street="12 rue de Rivoli", postcode="75004",
               background="No email on file: reachable by phone only."),
        person(15, "Daniel", "García", company="Iberia Textiles S.L.", title="CFO",
               emails=["daniel.garcia@iberiatextiles.es"], phones=["+34 933 22 43 41"],
               tags=["customer", "finance"], city="Barcelona", country=ES,
               street="Calle Valencia, 87-89", postcode="08029", license="STD-1177",
               notes=[_note(11, 510, 0, KIRILL, "Invoice address changed."),
                      _note(12, 511, None, KIRILL, "Prefers quarterly billing.")]),
        person(16, "Emma", "Wilson", company="Harbour & Co", title="Office Manager",
               emails=["emma.wilson@harbourandco.co.uk"], phones=["+44 20 7946 0900"],
               tags=["prospect"], city="London", country=GB, street="14 Fenchurch Street",
               postcode="EC3M 3BY", assigned=TOM),
        person(17, "Mateusz", "Nowak", company="Wisła Software Sp. z o.o.", title="Developer",
               emails=["mateusz.nowak@wisla.pl"], phones=["+48 22 555 01 80"],
               tags=["technical"], city="Kraków", country=PL, street="ul. Wielicka 28",
               postcode="30-552", region="Małopolskie", industries=["Software"]),
        company(18, "Harbour & Co", "harbourandco.co.uk", city="London", country=GB,
                street="14 Fenchurch Street", postcode="EC3M 3BY", phones=["+44 20 7946 0000"],
                tags=["prospect"], industries=["Legal"], assigned=TOM,
                notes=[_note(13, 530, 1, TOM, "Switchboard: ask for Tom O'Brien.")]),
        person(19, "Olivia", "Brown", company="Brightline Analytics Inc.", title="Account Manager",
               emails=["olivia.brown@brightline.io"], phones=["+1 415 555 0150"],
               tags=["customer"], city="San Francisco", country=US, region="CA",
               street="500 Howard St", postcode="94105", source="Partner"),
        person(20, "Jörg", "Schäfer", company="Nordwind Logistik GmbH", title="Lagerleiter",
               emails=["joerg.schaefer@nordwind-logistik.de"],
               phones=["+49 40 3861 2240", "+49 160 555 0199"], tags=["customer"],
               city="Hamburg", country=DE, street="Am Sandtorkai 50", postcode="20457"),
        person(21, "Isabel", "Ferreira", company="Tulip Trading B.V.", title="Logistics Lead",
               emails=["isabel@tuliptrading.nl"], tags=["prospect"], city="Rotterdam",
               country=NL, street="Wilhelminakade 91", postcode="3072 AP",
               notes=[_note(14, 540, None, MARIA, "Relocated to the Rotterdam office.")]),
        person(22, "Ahmed", "Hassan", company="Iberia Textiles S.L.", title="Quality Manager",
               emails=["ahmed.hassan@iberiatextiles.es"], phones=["+34 933 22 43 55"],
               tags=["customer"], city="Barcelona", country=ES,
               street="Calle Valencia, 87-89", postcode="08029"),
        person(23, "Noah", "Schmidt", company="Nordwind Logistik", title="Driver Coordinator",
               emails=["noah.schmidt@nordwind-logistik.de"], tags=["customer"],
               background='Company written without "GmbH": matches no company exactly.'),
        person(24, "Ana", "Kowalska", middle="Maria", company="Wisła Software Sp. z o.o.",
               title="Office Manager", emails=["ana.kowalska@wisla.pl"],
               phones=["+48 22 555 01 90"], tags=["technical", "finance"], city="Kraków",
               country=PL, street="ul. Wielicka 28", postcode="30-552", region="Małopolskie"),
        company(25, "Lumière Studio SARL", "lumiere-studio.fr", city="Paris", country=FR,
                street="12 rue de Rivoli", postcode="75004", phones=["+33 1 42 68 53 00"],
                tags=["prospect"], industries=["Design", "Media"], assigned=MARIA,
                notes=[_note(15, 560, 2, MARIA, "Studio visit; portfolio review."),
                       _note(16, 561, 0, MARIA, "Sent the proposal (FR).")]),
        person(26, "William", "Taylor", company="Acme Widgets Ltd", title="Purchasing Agent",
               emails=["w.taylor@acmewidgets.example"], phones=["+44 161 555 0147"],
               tags=["cold call"], city="Manchester", country=GB, street="1 Piccadilly",
               postcode="M1 1RG", assigned=None,
               background="Company not in the CRM yet (no company record)."),
        person(27, "Fatima", "Zahra", company="Tulip Trading B.V.", title="Finance",
               emails=["fatima.zahra@tuliptrading.nl", "fz@tuliptrading.nl"], tags=["finance"],
               city="Amsterdam", country=NL, street="Herengracht 182", postcode="1016 BR",
               projects=(SALES, SUPPORT)),
        person(28, "Lucas", "Petit", company="Lumière Studio SARL", title="Photographe",
               emails=["lucas@lumiere-studio.fr"], tags=["prospect"], city="Lyon", country=FR,
               street="3 place Bellecour", postcode="69002", assigned=None),
        person(29, "Grace", "Lee", company="Brightline Analytics Inc.", title="Support Engineer",
               emails=["grace.lee@brightline.io"], phones=["+1 415 555 0170"],
               tags=["technical", "support"], city="Seattle", country=US, region="WA",
               street="1201 2nd Ave", postcode="98101", projects=(SUPPORT,),
               notes=[_note(17, 590, 1, TOM, "Ticket escalation call."),
                      _note(18, 591, None, TOM, "Root cause: expired SSO certificate."),
                      _note(19, 592, 0, TOM, "Closed with a postmortem email.")]),
        person(30, "Mehmet", "Yılmaz", company="Harbour & Co", title="Paralegal",
               tags=["prospect"], assigned=TOM,
               background="No email and no phone: reached through Tom O'Brien."),
        company(31, "Wisła Software Sp. z o.o.", "wisla.pl", city="Kraków", country=PL,
                street="ul. Wielicka 28", postcode="30-552", region="Małopolskie",
                phones=["+48 22 555 01 00"], tags=["customer", "vip"],
                industries=["Software"],
                notes=[_note(20, 600, None, KIRILL, "Reference customer for Poland.")]),
        person(32, "Ingrid", "Larsen", company="Tulip Trading B.V.", title="CEO",
               emails=["ingrid.larsen@tuliptrading.nl"], phones=["+31 20 555 4400"],
               tags=["vip"], city="Amsterdam", country=NL, street="Herengracht 182",
               postcode="1016 BR", license="ENT-2400", purchase="2025-01-15",
               industries=["Trading", "Logistics"]),
        person(33, "Carlos", "Ruiz", company="Iberia Textiles S.L.", title="Sales Rep",
               emails=["carlos.ruiz@iberiatextiles.es"], phones=["+34 600 555 123"],
               tags=["customer"], city="Madrid", country=ES, street="Gran Vía 28",
               postcode="28013", assigned=KIRILL),
        replace(
            person(34, "Ethan", "Clark", company="Brightline Analytics Inc.", title="Intern",
                   emails=["ethan.clark@brightline.io"], tags=["technical"], assigned=None),
            address=Address(),  # an address record with nothing in it
        ),
        person(35, "Mia", "Hoffmann", company="Nordwind Logistik GmbH", title="Einkäuferin",
               emails=["mia.hoffmann@nordwind-logistik.de"], phones=["+49 40 3861 2250"],
               tags=["customer"], city="Bremen", country=DE, street="Hafenstraße 7",
               postcode="28217", source="Referral"),
        company(36, "Tulip Trading B.V.", "tuliptrading.nl", city="Amsterdam", country=NL,
                street="Herengracht 182", postcode="1016 BR", phones=["+31 20 555 4400"],
                tags=["prospect"], industries=["Trading"], assigned=MARIA),
        person(37, "Oliver", "Smith", company="Harbour & Co", title="Associate",
               emails=["oliver.smith@harbourandco.co.uk"], tags=["prospect"], city="London",
               country=GB, street="14 Fenchurch Street", postcode="EC3M 3BY", assigned=TOM),
        person(38, "Léa", "Moreau", company="Lumière Studio SARL", title="Stagiaire",
               emails=["lea.moreau@lumiere-studio.fr"], tags=["prospect"], city="Paris",
               country=FR, street="12 rue de Rivoli", postcode="75004"),
        person(39, "Raj", "Patel", company="Kestrel Robotics", title="Founder",
               emails=["raj@kestrel-robotics.example"], phones=["+44 1223 555 010"],
               tags=["prospect", "referral"], city="Cambridge", country=GB,
               street="Station Road 20", postcode="CB1 2JD", source="Referral",
               notes=[_note(21, 640, 2, KIRILL, "Coffee at the Cambridge meetup.")]),
        company(40, "Kestrel Robotics", "kestrel-robotics.example", city="Cambridge",
                country=GB, street="Station Road 20", postcode="CB1 2JD",
                phones=["+44 1223 555 000"], tags=["prospect"], industries=["Robotics"],
                assigned=ADMIN),
    ]  # fmt: skip


def many_contacts(count: int) -> list[Contact]:
    """`count` plain contacts (every 10th a company), ids 1..count, for paging tests."""
    return [
        Contact(
            id=n, is_company=n % 10 == 0, first_name=f"First{n:04d}", last_name=f"Last{n:04d}",
            company="" if n % 10 == 0 else f"Company{n // 10 * 10 + 10:04d}",
            emails=(f"person{n}@example.com",), phones=(f"+1 555 {n:04d}",),
            tags=("even",) if n % 2 == 0 else ("odd",), custom_fields=_fields(license=f"L{n}"),
            created_on=stamp(n / 24), updated_on=stamp(n / 24 + 1), projects=(SALES,),
            notes=tuple(_note(n * 10 + k, n, k % 3, ADMIN, f"note {k} of {n}")
                        for k in range(n % 3)),
        )
        for n in range(1, count + 1)
    ]  # fmt: skip


# -- writers -------------------------------------------------------------------------------------


def json_export(contacts: Sequence[Contact]) -> str:
    """The list shape with projects and notes inside each contact (the sandbox's seed shape)."""
    body = {
        "contacts": [
            contact_json(c, show=True, notes=c.notes or (), project_identifiers=True)
            for c in contacts
        ],
        "total_count": len(contacts),
        "offset": 0,
        "limit": len(contacts),
    }
    return json.dumps(body, ensure_ascii=False, indent=2) + "\n"


def xml_export(contacts: Sequence[Contact], shape: XmlShape = "current") -> bytes:
    items = [contact_xml(c, show=True, notes=c.notes or (), shape=shape) for c in contacts]
    meta = {"total_count": len(contacts), "offset": 0, "limit": len(contacts)}
    return contacts_xml(items, meta=meta)


def _csv_time(text: str | None) -> str:
    """Redmine prints times `YYYY-MM-DD HH:MM` (ISO setting): the seconds are lost."""
    return text.replace("T", " ")[:16] if text else ""


def _custom_cells(c: Contact) -> list[str]:
    by_id = {field.id: field for field in c.custom_fields}
    cells = []
    for field_id in CUSTOM_FIELD_NAMES:
        value = by_id[field_id].value if field_id in by_id else ""
        cells.append(", ".join(value) if isinstance(value, tuple) else value or "")
    return cells


def csv_export(contacts: Sequence[Contact]) -> str:
    """The newer CSV export: English captions, `,`, Phone and Email cells comma-separated."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*CSV_HEADERS, *CUSTOM_FIELD_NAMES.values()])
    for c in contacts:
        a = c.address
        writer.writerow([
            c.id, c.name, c.first_name, c.last_name, c.middle_name, c.job_title, c.company,
            ", ".join(c.phones), ", ".join(c.emails), a.full_text() if a else "",
            a.street if a else "", "", a.city if a else "", a.region if a else "",
            a.postcode if a else "", a.country if a else "", ", ".join(c.tags),
            _csv_time(c.created_on), _csv_time(c.updated_on),
            c.assigned_to.name if c.assigned_to else "", c.author.name if c.author else "",
            *_custom_cells(c),
        ])  # fmt: skip
    return out.getvalue()


def xls_csv_export(contacts: Sequence[Contact]) -> str:
    """The XLS-style (older) export: `Is company` 1/0, Skype, Website, `;` separated."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([*XLS_HEADERS, *CUSTOM_FIELD_NAMES.values()])
    for c in contacts:
        a = c.address
        writer.writerow([
            c.id, 1 if c.is_company else 0, c.first_name, c.middle_name, c.last_name,
            c.job_title, c.company, ", ".join(c.phones), ", ".join(c.emails),
            a.street if a else "", a.city if a else "", a.postcode if a else "",
            a.region if a else "", a.country if a else "", c.skype_name or "", c.website or "",
            c.birthday or "", ", ".join(c.tags),
            c.assigned_to.name if c.assigned_to else "", c.background or "",
            _csv_time(c.created_on), _csv_time(c.updated_on), *_custom_cells(c),
        ])  # fmt: skip
    return out.getvalue()


def write_all(contacts: Sequence[Contact], directory: Path) -> dict[str, Path]:
    """Every format into `directory`; the English CSV in ISO-8859-1 as Redmine writes it
    (a character Latin-1 lacks, like Ł, becomes "?"), the XLS-style CSV in UTF-8 with a BOM."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": directory / "contacts.json",
        "xml": directory / "contacts.xml",
        "old_xml": directory / "contacts_old.xml",
        "csv": directory / "contacts.csv",
        "xls_csv": directory / "contacts_xls.csv",
    }
    paths["json"].write_text(json_export(contacts), encoding="utf-8")
    paths["xml"].write_bytes(xml_export(contacts))
    paths["old_xml"].write_bytes(xml_export(contacts, "older"))
    paths["csv"].write_bytes(csv_export(contacts).encode("iso-8859-1", errors="replace"))
    paths["xls_csv"].write_bytes(xls_csv_export(contacts).encode("utf-8-sig"))
    return paths


if __name__ == "__main__":
    for path in write_all(sample_contacts(), SAMPLE_DIR).values():
        print(path.relative_to(ROOT))
