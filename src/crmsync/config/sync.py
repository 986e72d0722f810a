"""The `sync:` section: how updates treat what people typed into the CRM."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from crmsync.config.base import Section


class SyncConfig(Section):
    """How updates treat what people typed into the CRM; a mapping may override per field."""

    on_conflict: Literal["crm", "source"] = Field(
        default="crm",
        description="A field both the source and a person changed since crmsync last wrote "
        "it: keep the person's edit (crm) or write the source's value (source). Every "
        "conflict is listed in conflicts.csv.",
    )
    blank: Literal["keep", "clear"] = Field(
        default="keep",
        description="An empty source value never blanks a value in Rally (keep) unless asked "
        "(clear).",
    )
    unreadable: Literal["keep", "rewrite"] = Field(
        default="keep",
        description="An update replaces the fields Rally never shows (a contact's address, "
        "notes, ...): keep skips such records; rewrite updates them all the same.",
    )
