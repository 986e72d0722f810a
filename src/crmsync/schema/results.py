"""Answers of the write endpoints that are not records: bulk, upsert, errors."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from crmsync.schema.base import ResponseModel

MAX_BULK = 100


class BulkError(BaseModel):
    """One failed record of a bulk request; `index` is its position in the request array."""

    index: int
    error: str


class BulkResult(ResponseModel):
    """Answer of POST /{object}/bulk. `created_ids` lists the successes in request order."""

    created: int = 0
    updated: int = 0
    failed: int = 0
    created_ids: list[str] = Field(default_factory=list)
    errors: list[BulkError] = Field(default_factory=list)


class UpsertResult(BaseModel):
    """Answer of PUT /{object}/upsert."""

    action: Literal["created", "updated"]
    id: str


class ErrorBody(BaseModel):
    """Body of every error answer: `{"error": "..."}`."""

    error: str
