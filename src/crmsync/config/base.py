"""What every section of a pipeline file shares: frozen, no unknown keys, checked URLs."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, SecretStr, StringConstraints

from crmsync.api.http import public_url
from crmsync.errors import ConfigError

# A pipeline's or step's name: it heads summaries, names report folders and keys the state.
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class Section(BaseModel):
    """Every section is frozen and refuses keys it does not know."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def http_root(value: str) -> str:
    """An http(s) root URL, without a trailing slash."""
    value = value.strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError(f"must be an http(s) URL, got {public_url(value)!r}")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError as exc:
        raise ValueError(f"is no valid URL ({exc}): {public_url(value)!r}") from None
    if not parts.hostname:
        raise ValueError(f"names no host: {public_url(value)!r}")
    return value


def tenant_root(value: str) -> str:
    """A Rally tenant's root URL: also without /api/v1, which people paste from the docs."""
    return http_root(value.strip().rstrip("/").removesuffix("/api/v1"))


def secret_not_empty(value: SecretStr) -> SecretStr:
    if not value.get_secret_value().strip():
        raise ValueError("is empty")
    return value


MAX_FILE_BYTES = 10 * 1024 * 1024  # a pipeline file or a values file is a few kilobytes


def read_text_file(path: Path, *, what: str) -> str:
    """A small UTF-8 text file the user wrote; every problem is a ConfigError. A FIFO or a
    device is refused rather than waited on or read for ever."""
    try:
        if not path.is_file():
            if path.exists():
                raise ConfigError(f"the {what} is not a regular file", file=str(path))
            raise ConfigError(f"{what} not found", file=str(path))
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ConfigError(
                f"the {what} is larger than {MAX_FILE_BYTES // 2**20} MB", file=str(path)
            )
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {what}: {exc}", file=str(path)) from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Notepad's "Unicode": UTF-16 with a BOM
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"the {what} is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}): "
            "save it as UTF-8",
            file=str(path),
        ) from None


def nearest(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest of `choices`, or nothing."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""
