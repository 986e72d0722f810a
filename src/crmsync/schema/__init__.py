"""The one definition of Rally's request and response models, shared by client and sandbox."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, get_args

from crmsync.schema.activities import ActivityCreate, ActivityResponse
from crmsync.schema.base import RequestModel, ResponseModel
from crmsync.schema.companies import CompanyCreate, CompanyResponse
from crmsync.schema.contacts import ContactCreate, ContactResponse
from crmsync.schema.results import MAX_BULK, BulkError, BulkResult, ErrorBody, UpsertResult


@dataclass(frozen=True, eq=False)  # one instance per object, compared by identity
class RallyObject:
    """What differs between Rally's object endpoints."""

    name: str  # path segment: contacts, companies, activities
    create: type[RequestModel]
    response: type[ResponseModel]
    match_key: str | None  # wire name of the upsert key, None when there is no upsert
    # Mapping targets that are not Rally fields but fill some: a full name is split into first
    # and last name by the normalizer, where those are empty.
    split_fields: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def has_upsert(self) -> bool:
        return self.match_key is not None

    @cached_property
    def wire_fields(self) -> dict[str, bool]:
        """Wire name -> required, for the create model: what a mapping may fill."""
        return {
            (info.alias or name): info.is_required()
            for name, info in self.create.model_fields.items()
        }

    @cached_property
    def always_held(self) -> tuple[str, ...]:
        """The fields a write must carry (required to create) that Rally documents as never
        null when read: a record read without one is no record Rally documents, and an
        update built on it would wipe the field."""
        required = {wire for wire, needed in self.wire_fields.items() if needed}
        return tuple(
            wire
            for name, info in self.response.model_fields.items()
            if (wire := info.alias or name) in required
            and info.is_required()
            and not _nullable(info.annotation)
        )

    @cached_property
    def response_fields(self) -> list[str]:
        """The wire names of every field a response documents."""
        return [info.alias or name for name, info in self.response.model_fields.items()]


def _nullable(annotation: Any) -> bool:
    return type(None) in get_args(annotation)


OBJECTS: dict[str, RallyObject] = {
    "contacts": RallyObject(
        "contacts",
        ContactCreate,
        ContactResponse,
        "email",
        split_fields={"fullName": ("firstName", "lastName")},
    ),
    "companies": RallyObject("companies", CompanyCreate, CompanyResponse, "domain"),
    "activities": RallyObject("activities", ActivityCreate, ActivityResponse, None),
}

__all__ = [
    "MAX_BULK",
    "OBJECTS",
    "ActivityCreate",
    "ActivityResponse",
    "BulkError",
    "BulkResult",
    "CompanyCreate",
    "CompanyResponse",
    "ContactCreate",
    "ContactResponse",
    "ErrorBody",
    "RallyObject",
    "UpsertResult",
]
