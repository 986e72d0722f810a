"""The libraries as oracles: their answers, asked the way crmsync asks, and the bookkeeping
that sorts each crmsync answer into agreed, deliberate (an entry of `DELIBERATE`) or wrong."""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

from email_validator import EmailNotValidError, ValidatedEmail, validate_email

from crmsync.transform.normalizers.deviations import DELIBERATE
from crmsync.transform.normalizers.names import EDGES

ORACLES = Path(__file__).parent.parent / "data" / "oracles"
DISTRIBUTIONS = {
    "email_validator": "email-validator",
    "phonenumbers": "phonenumbers",
    "tldextract": "tldextract",
}


def vectors(library: str) -> list[dict[str, Any]]:
    """The vectors extracted from `library`'s own test suite (tests/data/oracles)."""
    data = json.loads((ORACLES / f"{library}.json").read_text(encoding="utf-8"))
    assert data["count"] == len(data["vectors"])
    return data["vectors"]


def same_version(library: str) -> bool:
    """Whether the installed library is the version the vectors were taken from: their
    recorded expectations only hold for that version (the inputs are useful for any)."""
    data = json.loads((ORACLES / f"{library}.json").read_text(encoding="utf-8"))
    return version(DISTRIBUTIONS[library]) == data["version"]


def representable(value: str) -> bool:
    """Polars strings are UTF-8: a lone surrogate cannot be a cell (nor come from a file)."""
    return not any(0xD800 <= ord(char) <= 0xDFFF for char in value)


@dataclass
class Tally:
    """Outcome counts of one oracle suite, and the deviations it needed."""

    counts: Counter[str] = field(default_factory=Counter)
    used: set[str] = field(default_factory=set)
    wrong: list[str] = field(default_factory=list)

    def agreed(self) -> None:
        self.counts["agreed"] += 1

    def deliberate(self, key: str) -> None:
        assert key in {entry.key for entry in DELIBERATE}, key
        self.counts[f"deliberate: {key}"] += 1
        self.used.add(key)

    def disagreed(self, detail: str) -> None:
        self.counts["undeliberate"] += 1
        self.wrong.append(detail)

    def check(self) -> None:
        assert not self.wrong, f"{len(self.wrong)} undeliberate disagreements:\n" + "\n".join(
            self.wrong[:20]
        )


def library_keys(library: str) -> set[str]:
    """The deviation keys that belong to `library`'s suite."""
    return {entry.key for entry in DELIBERATE if entry.library == library}


# email-validator, called as crmsync.schema.fields.email_error calls it


def library_email(value: str) -> tuple[str | None, ValidatedEmail | None]:
    """(error, None) or (None, the library's result), default options, no DNS."""
    try:
        return None, validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        return str(exc), None


def stored_email(result: ValidatedEmail) -> str:
    """What normalize_email must store for an address the library accepted: its normalized
    form with the local part lower-cased on top (the domain is already UTS-46 case-folded)."""
    return unicodedata.normalize("NFC", result.local_part.lower()) + "@" + result.domain


def _display_named(value: str) -> ValidatedEmail | None:
    """The library's reading of a "Name <address>" value when asked to allow that shape."""
    if "<" not in value:
        return None
    try:
        return validate_email(value, check_deliverability=False, allow_display_name=True)
    except EmailNotValidError:
        return None


def trimmed_email(value: str) -> str:
    """The address inside what normalize_email trims: whitespace and "mailto:" prefixes."""
    text = value.strip(EDGES)
    while text[:7].lower() == "mailto:":
        text = text[7:].strip(EDGES)
    return text


def judge_stored_email(tally: Tally, value: str, stored: str | None) -> None:
    """Sort normalize_email's answer for `value` against the library's normalized form."""
    error, result = library_email(value)
    if result is not None:
        if stored == result.normalized:
            tally.agreed()
        elif stored == stored_email(result):
            tally.deliberate("email-lower-case")
        else:
            tally.disagreed(f"{value!r}: stored {stored!r}, library {result.normalized!r}")
        return
    inner = trimmed_email(value)
    shown = _display_named(inner)
    if shown is not None:
        if stored == stored_email(shown):
            tally.deliberate("email-display-name")
        else:
            tally.disagreed(f"{value!r}: stored {stored!r}, displayed {shown.normalized!r}")
        return
    if inner != value:
        _, inner_result = library_email(inner)
        if inner_result is not None:
            if stored == stored_email(inner_result):
                tally.deliberate("email-trimmed")
            else:
                tally.disagreed(
                    f"{value!r}: stored {stored!r}, trimmed {inner_result.normalized!r}"
                )
            return
    if stored is None:
        if not value.strip(EDGES):  # no value at all: null, never an address to judge
            tally.agreed()
        elif not inner:  # only a "mailto:": blank once trimmed
            tally.deliberate("email-trimmed")
        else:
            tally.disagreed(f"{value!r}: stored null")
        return
    stored_error, _ = library_email(stored)
    if stored_error is None:
        tally.disagreed(f"{value!r} ({error}) is stored as {stored!r}, which the library accepts")
    else:
        tally.agreed()
