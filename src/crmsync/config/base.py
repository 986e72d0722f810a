"""What every section of a pipeline file shares: frozen, no unknown keys, checked URLs."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, SecretStr

from crmsync.api.http import public_url


class Section(BaseModel):
    """Every section is frozen and refuses keys it does not know."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def http_root(value: str) -> str:
    """An http(s) root URL, without a trailing slash."""
    value = value.strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError(f"must be an http(s) URL, got {public_url(value)!r}")
    return value


def tenant_root(value: str) -> str:
    """A Rally tenant's root URL: also without /api/v1, which people paste from the docs."""
    return http_root(value.strip().rstrip("/").removesuffix("/api/v1"))


def secret_not_empty(value: SecretStr) -> SecretStr:
    if not value.get_secret_value().strip():
        raise ValueError("is empty")
    return value
