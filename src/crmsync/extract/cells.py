"""What a header cell looks like: a name for people, or a value a data row would hold.

Shared by the header finder (`preamble`) and the second-header test (`subheader`), so a row is
judged a header by the same measure wherever it is met.
"""

from __future__ import annotations

import re

MAX_NAME_CHARS = 60

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
URL = re.compile(r"(?i)^(?:https?://|www\.)")
NUMBER_OR_DATE = re.compile(r"^[\d\s.,:;/+\-()%$€£]+$")
LETTER = re.compile(r"[^\W\d_]")


def name_like(cell: str) -> bool:
    """A short text with a letter in it: what a column's name is."""
    return len(cell) <= MAX_NAME_CHARS and LETTER.search(cell) is not None


def data_like(cell: str) -> bool:
    """An email, a URL, a number or a date: a value, never a column's name."""
    if EMAIL.search(cell) or URL.match(cell):
        return True
    return NUMBER_OR_DATE.match(cell) is not None and any(ch.isdigit() for ch in cell)
