"""Counts in words, so a message reads "1 row failed" and "2 rows failed", never "1 rows"."""

from __future__ import annotations

# Nouns whose plural is not the singular with an "s".
_IRREGULAR = {
    "company": "companies",
    "activity": "activities",
    "batch": "batches",
    "retry": "retries",
}


def plural(noun: str) -> str:
    """The plural of one of the nouns crmsync counts."""
    return _IRREGULAR.get(noun, noun + "s")


def counted(count: int, noun: str) -> str:
    """'1 row', '3 rows', '0 rows'."""
    return f"{count} {noun if count == 1 else plural(noun)}"
