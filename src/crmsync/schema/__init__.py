"""The one definition of Rally's request and response models, shared by client and sandbox."""

from __future__ import annotations

from dataclasses import dataclass

from crmsync.schema.activities import ActivityCreate, ActivityResponse
from crmsync.schema.base import RequestModel, ResponseModel
from crmsync.schema.companies import CompanyCreate, CompanyResponse
from crmsync.schema.contacts import ContactCreate, ContactResponse
from crmsync.schema.results import MAX_BULK, BulkError, BulkResult, ErrorBody, UpsertResult


@dataclass(frozen=True)
class RallyObject:
    """What differs between Rally's object endpoints."""

    name: str  # path segment: contacts, companies, activities
    create: type[RequestModel]
    response: type[ResponseModel]
    match_key: str | None  # wire name of the upsert key, None when there is no upsert

    @property
    def has_upsert(self) -> bool:
        return self.match_key is not None


OBJECTS: dict[str, RallyObject] = {
    "contacts": RallyObject("contacts", ContactCreate, ContactResponse, "email"),
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
