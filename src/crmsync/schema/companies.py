"""Rally companies: the create request (also each item of a bulk and an upsert) and the response."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field, field_validator

from crmsync.schema.base import RequestModel, ResponseModel
from crmsync.schema.fields import Guid, RequiredText, Timestamp


class CompanyCreate(RequestModel):
    """Body of POST /companies, PUT /companies/upsert and each item of POST /companies/bulk."""

    name: RequiredText = Field(description="Company name")
    domain: str | None = Field(default=None, description="Website domain, the upsert match key")
    industry: str | None = None
    description: str | None = None
    employee_count: Annotated[int, Field(ge=0)] | None = None
    annual_revenue: Annotated[Decimal, Field(ge=0)] | None = None
    phone: str | None = None
    website: str | None = None
    linked_in_url: str | None = None
    address: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    postal_code: str | None = None
    tags: list[str] | None = Field(default=None, description="Tags, a list (not a string)")
    notes: str | None = None
    owner_id: Guid | None = None


class CompanyResponse(ResponseModel):
    """A company as every GET, POST and PUT returns it."""

    id: str
    tenant_id: str
    name: str
    domain: str | None = None
    industry: str | None = None
    description: str | None = None
    employee_count: int | None = None
    annual_revenue: float | None = None
    phone: str | None = None
    website: str | None = None
    linked_in_url: str | None = None
    address: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    postal_code: str | None = None
    tags: list[str] = Field(default_factory=list, description="Never null: [] when empty")
    notes: str | None = None
    owner_id: str | None = None
    created_at: Timestamp

    @field_validator("tags", mode="before")
    @classmethod
    def _no_null_tags(cls, value: object) -> object:
        return [] if value is None else value

    updated_at: Timestamp
