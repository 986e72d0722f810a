"""Rally activities: notes, tasks, calls and meetings (no upsert: activities have no key)."""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import Field, model_validator

from crmsync.schema.base import RequestModel, ResponseModel
from crmsync.schema.fields import Guid, RequiredText, Timestamp

ActivityType = Literal["note", "task", "call", "meeting"]
ActivityStatus = Literal["pending", "completed"]
Priority = Literal["low", "normal", "high", "urgent"]
CallDirection = Literal["inbound", "outbound"]

DEFAULT_STATUS: Final = "pending"
# Fields that only one activity type may carry: call fields on calls, meeting fields on meetings.
TYPE_ONLY_FIELDS: dict[str, tuple[str, ...]] = {
    "call": ("callDirection", "callOutcome", "callDurationSeconds"),
    "meeting": ("durationMinutes", "location", "meetingUrl"),
}


class ActivityCreate(RequestModel):
    """Body of POST /activities and each item of POST /activities/bulk."""

    activity_type: ActivityType = Field(description='"note", "task", "call" or "meeting"')
    subject: RequiredText
    body: str | None = None
    contact_id: Guid | None = None
    company_id: Guid | None = None
    deal_id: Guid | None = None
    scheduled_at: Timestamp | None = None
    due_date: Timestamp | None = None
    priority: Priority | None = None
    status: ActivityStatus = DEFAULT_STATUS
    call_direction: CallDirection | None = None
    call_outcome: str | None = None
    call_duration_seconds: Annotated[int, Field(ge=0)] | None = None
    duration_minutes: Annotated[int, Field(ge=0)] | None = None
    location: str | None = None
    meeting_url: str | None = None
    owner_id: Guid | None = None

    @model_validator(mode="after")
    def _type_specific_fields(self) -> ActivityCreate:
        for kind, aliases in TYPE_ONLY_FIELDS.items():
            if self.activity_type == kind:
                continue
            for alias in aliases:
                name = _FIELD_BY_ALIAS[alias]
                if getattr(self, name) is not None:
                    raise ValueError(f"{alias} is only allowed on {kind} activities")
        return self


_FIELD_BY_ALIAS = {info.alias or name: name for name, info in ActivityCreate.model_fields.items()}


class ActivityResponse(ResponseModel):
    """An activity as every GET, POST and PUT returns it."""

    id: str
    tenant_id: str
    activity_type: str
    subject: str
    body: str | None = None
    contact_id: str | None = None
    company_id: str | None = None
    deal_id: str | None = None
    scheduled_at: Timestamp | None = None
    due_date: Timestamp | None = None
    priority: str | None = None
    status: str = DEFAULT_STATUS
    call_direction: str | None = None
    call_outcome: str | None = None
    call_duration_seconds: int | None = None
    duration_minutes: int | None = None
    location: str | None = None
    meeting_url: str | None = None
    owner_id: str | None = None
    completed_at: Timestamp | None = None
    created_at: Timestamp
    updated_at: Timestamp
