"""The table of deliberate deviations is well formed; the oracle suites check its content."""

from __future__ import annotations

import crmsync.transform
from crmsync.transform.normalizers.deviations import DELIBERATE, deviation

LIBRARIES = {"email-validator", "phonenumbers", "tldextract"}


def test_entries_are_unique_named_and_explained() -> None:
    keys = [entry.key for entry in DELIBERATE]
    assert len(keys) == len(set(keys))
    for entry in DELIBERATE:
        assert entry.library in LIBRARIES
        assert entry.function in crmsync.transform.__all__
        assert entry.what.strip() and entry.why.strip()
        assert deviation(entry.key) is entry


def test_every_library_has_its_entries() -> None:
    assert {entry.library for entry in DELIBERATE} == LIBRARIES
