"""One Redmine CRM contact, whatever shape it came in: the model the readers and the sandbox share.

The API's JSON and XML, current and older versions, all parse into these dataclasses
(``crmsync.extract.redmine.parse``); the readers flatten them into frames, and the sandbox
renders them back into the wire shapes. Text values are kept as written (``""`` stays ``""``):
only the frame turns blanks into nulls.
"""

from __future__ import annotations

from dataclasses import dataclass

# Note.type_id: Redmine CRM's note kinds (null is a plain note).
NOTE_EMAIL = 0
NOTE_CALL = 1
NOTE_MEETING = 2


@dataclass(frozen=True)
class UserRef:
    """A Redmine user as the API names one: `{"id": 4, "name": "Kirill Bezrukov"}`."""

    id: int | None
    name: str | None


@dataclass(frozen=True)
class CustomField:
    """A custom field value; `multiple` fields carry a tuple."""

    id: int | None
    name: str
    value: str | tuple[str, ...] | None
    multiple: bool = False

    def is_blank(self) -> bool:
        if isinstance(self.value, tuple):
            return not any(part.strip() for part in self.value)
        return not (self.value or "").strip()


@dataclass(frozen=True)
class Address:
    """The contact's address; `street` is street1 only, as the API emits it."""

    street: str | None = None
    city: str | None = None
    region: str | None = None
    postcode: str | None = None
    country: str | None = None
    country_code: str | None = None
    full_address: str | None = None

    def is_blank(self) -> bool:
        parts = (self.street, self.city, self.region, self.postcode, self.country_code)
        return not any((part or "").strip() for part in parts)

    def full_text(self) -> str:
        """`full_address` as given, else the parts joined the way the plugin prints them."""
        if self.full_address:
            return self.full_address
        parts = (self.street, self.city, self.postcode, self.region, self.country)
        return ", ".join(part for part in parts if part and part.strip())


@dataclass(frozen=True)
class Project:
    """A project the contact belongs to; `identifier` is the slug (`?project_id=` takes both)."""

    id: int
    name: str | None = None
    identifier: str | None = None


@dataclass(frozen=True)
class Note:
    """A note on a contact (`include=notes`)."""

    id: int | None
    content: str | None
    type_id: int | None
    author: UserRef | None
    created_on: str | None
    updated_on: str | None


@dataclass(frozen=True)
class Contact:
    """A contact; a company is `is_company` with its name in `first_name`.

    `notes` is None when the source did not include them (a list answer), `()` when it did and
    there were none.
    """

    id: int
    is_company: bool
    first_name: str | None = None
    last_name: str | None = None
    middle_name: str | None = None
    company: str | None = None
    website: str | None = None
    skype_name: str | None = None
    birthday: str | None = None
    job_title: str | None = None
    background: str | None = None
    avatar_id: int | None = None
    author: UserRef | None = None
    assigned_to: UserRef | None = None
    address: Address | None = None
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    custom_fields: tuple[CustomField, ...] = ()
    created_on: str | None = None
    updated_on: str | None = None
    projects: tuple[Project, ...] = ()
    notes: tuple[Note, ...] | None = None

    @property
    def name(self) -> str:
        """The display name: a company's first_name, a person's first, middle and last names."""
        if self.is_company:
            return (self.first_name or "").strip()
        parts = (self.first_name, self.middle_name, self.last_name)
        return " ".join(part.strip() for part in parts if part and part.strip())
