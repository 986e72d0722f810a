"""Rally contacts: the create request (also each item of a bulk and an upsert) and the response."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from crmsync.schema.base import RequestModel, ResponseModel
from crmsync.schema.fields import Email, Guid, RequiredText, Timestamp

DEFAULT_LIFECYCLE_STAGE = "lead"


class ContactCreate(RequestModel):
    """Body of POST /contacts, PUT /contacts/upsert and each item of POST /contacts/bulk."""

    first_name: RequiredText = Field(description="Contact's first name")
    last_name: RequiredText = Field(description="Contact's last name")
    email: Email = Field(description="Email address, the upsert match key (case-insensitive)")
    phone: str | None = None
    mobile: str | None = None
    title: str | None = None
    department: str | None = None
    linked_in_url: str | None = None
    twitter_handle: str | None = None
    address: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    postal_code: str | None = None
    company_id: Guid | None = None
    lifecycle_stage: str = DEFAULT_LIFECYCLE_STAGE
    lead_source: str | None = None
    lead_score: Annotated[int, Field(ge=0, le=100)] | None = None
    tags: str | None = Field(default=None, description="Comma-separated tags")
    notes: str | None = None
    owner_id: Guid | None = None


class ContactResponse(ResponseModel):
    """A contact as every GET, POST and PUT returns it: the fields Rally documents for it.

    Rally documents no answer field for a contact's LinkedIn URL, Twitter handle, address,
    city, state, country, postal code or notes: they can be written, never read back.
    """

    id: str
    tenant_id: str
    first_name: str
    last_name: str
    full_name: str
    email: str
    phone: str | None = None
    mobile: str | None = None
    title: str | None = None
    department: str | None = None
    company_id: str | None = None
    lifecycle_stage: str = DEFAULT_LIFECYCLE_STAGE
    lead_source: str | None = None
    lead_score: int | None = None
    tags: str | None = None
    is_unsubscribed: bool = False
    last_contacted_at: Timestamp | None = None
    owner_id: str | None = None
    created_at: Timestamp
    updated_at: Timestamp
