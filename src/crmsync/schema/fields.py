"""Field types shared by the Rally models, each carrying a marker the frame validator reads.

The markers let `crmsync.transform.validate` derive vectorized checks from these same
annotations, so the rules exist once: here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from pydantic import AfterValidator, PlainSerializer, StringConstraints

GUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

MAX_SIMPLE_EMAIL_LENGTH = 254  # the library's limit, in UTF-8 bytes
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def letters_except(words: Iterable[str], low: int, high: int) -> str:
    """A pattern for runs of `low` to `high` ASCII letters, in any case, that are not one of
    `words` (lower case). No flags and no lookaround, so Python's `re` and polars read it
    alike: it walks the words' letters and, at each step, allows any other letter instead."""
    words = frozenset(words)

    def rest(prefix: str) -> str:
        depth = len(prefix)
        nexts = sorted({w[depth] for w in words if len(w) > depth and w.startswith(prefix)})
        options = [f"[{c}{c.upper()}]{rest(prefix + c)}" for c in nexts if depth < high]
        others = "".join(c + c.upper() for c in _LETTERS if c not in nexts)
        if depth < high and others:
            options.append(f"[{others}][A-Za-z]{{{max(0, low - depth - 1)},{high - depth - 1}}}")
        if not options:
            return ""
        optional = prefix not in words and low <= depth
        return f"(?:{'|'.join(options)}){'?' if optional else ''}"

    return rest("")


# Blocks whose letters, digits, punctuation and symbols people write in a local part: Latin,
# Greek, Cyrillic, Vietnamese, kana and CJK ideographs.
_INTL_BLOCKS = (
    (0x00A0, 0x024F),
    (0x0370, 0x04FF),
    (0x1E00, 0x1EFF),
    (0x3040, 0x30FF),
    (0x4E00, 0x9FFF),
)
_SAFE_CATEGORIES = frozenset("LNPS")  # check_unsafe_chars' safe classes; M only not first


def _decided_by_itself(char: str) -> bool:
    """A character email-validator accepts anywhere in a local part and leaves as it is:
    letter, number, punctuation or symbol (not a mark, which may not come first), its own NFC
    form, combining with nothing, and its own lower case (so the stored form keeps it)."""
    return (
        unicodedata.category(char)[0] in _SAFE_CATEGORIES
        and unicodedata.combining(char) == 0
        and unicodedata.normalize("NFC", char) == char
        and char.lower() == char
    )


def _ranges(chars: Iterable[str]) -> str:
    """A character-class body for `chars`, as runs "a-z" of consecutive code points."""
    points = sorted(ord(c) for c in chars)
    runs: list[tuple[int, int]] = []
    for point in points:
        if runs and runs[-1][1] == point - 1:
            runs[-1] = (runs[-1][0], point)
        else:
            runs.append((point, point))
    return "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in runs)


INTL_LOCAL_CHARS = "".join(
    c for low, high in _INTL_BLOCKS for c in map(chr, range(low, high + 1)) if _decided_by_itself(c)
)
# The characters of an unquoted local part the library keeps as they are (a class body):
# ASCII's atext, and the international ones above.
LOCAL_PART_CHARS = rf"A-Za-z0-9!#$%&'*+/=?^_`{{|}}~\-{_ranges(INTL_LOCAL_CHARS)}"
_ATOM = rf"[{LOCAL_PART_CHARS}]+"

# The common shape of an address, decided without email-validator (78 µs a call). Only a
# cleared value skips the library, so the pattern may be narrower than the library but never
# wider: a value it matches is one the library accepts unchanged but for ASCII case. The local
# part is ASCII atoms or, for an internationalized address, the characters above (Python's
# own Unicode tables pick them, as they do for the library). Labels have no "--" (the library
# refuses reserved "ab--" labels, and "xn--" ones need IDNA checks and are shown in Unicode)
# and at most 63 characters (hyphen-free ones up to 32 are the common case this clears); the
# top-level domain is none of the special-use names the library refuses (taken from it, so
# they stay in step). `$` is the end of the text for polars; Python's `re` would also match
# before a final newline, so Python code must use `fullmatch`.
SIMPLE_EMAIL_PATTERN = (
    rf"^{_ATOM}(\.{_ATOM})*"
    r"@([A-Za-z0-9](?:-?[A-Za-z0-9]){0,31}\.)+"
    + letters_except(SPECIAL_USE_DOMAIN_NAMES, 2, 63)
    + "$"
)
_SIMPLE_EMAIL = re.compile(SIMPLE_EMAIL_PATTERN)


@dataclass(frozen=True)
class EmailSyntax:
    """Marker: the value must be a syntactically valid email address."""


@dataclass(frozen=True)
class NonBlank:
    """Marker: a required string that may not be empty or only spaces."""


def is_simple_email(value: str) -> bool:
    """True for the common shape email-validator is certain to accept (the pattern above)."""
    # The pattern first: what it matches encodes (a lone surrogate would not).
    return (
        _SIMPLE_EMAIL.fullmatch(value) is not None
        and len(value.encode("utf-8")) <= MAX_SIMPLE_EMAIL_LENGTH
    )


def email_error(value: str) -> str | None:
    """Why `value` is not a valid address, or None when it is: email-validator's verdict and
    words, with its default options and no DNS lookups. The common shape skips the call."""
    if is_simple_email(value):
        return None
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        return str(exc)
    return None


def _check_email(value: str) -> str:
    error = email_error(value)
    if error is not None:
        raise ValueError(f"invalid email address: {error}")
    return value


def _check_non_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def format_timestamp(value: datetime) -> str:
    """ISO-8601 UTC with milliseconds and a Z, the way Rally writes times. The year has four
    digits always: strftime writes the year 1 as "1", which no ISO reader takes back."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    rest = value.strftime("-%m-%dT%H:%M:%S.")
    return f"{value.year:04d}{rest}{value.microsecond // 1000:03d}Z"


def parse_timestamp(value: Any) -> datetime | None:
    """A time Rally wrote (ISO-8601; without an offset, UTC), or None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


Guid = Annotated[str, StringConstraints(pattern=GUID_PATTERN)]
Email = Annotated[str, EmailSyntax(), AfterValidator(_check_email)]
RequiredText = Annotated[str, NonBlank(), AfterValidator(_check_non_blank)]
Timestamp = Annotated[datetime, PlainSerializer(format_timestamp, return_type=str)]
