"""Where crmsync's normalizers deliberately answer differently from the library they follow.

Everywhere else the normalizers agree with their library exactly: a fast path only saves
calls, it never decides differently. The oracle tests (tests/transform/test_oracle_*.py) run
the libraries' own test vectors and generated inputs through crmsync and explain every
difference by exactly one entry here; an entry no input needs fails them too, so this table
is the complete list.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Deviation:
    """One deliberate difference: which library, where, what crmsync does instead, and why."""

    key: str
    library: str
    function: str
    what: str
    why: str


DELIBERATE: tuple[Deviation, ...] = (
    Deviation(
        key="email-lower-case",
        library="email-validator",
        function="normalize_email",
        what="The stored address is lower-cased, local part included, on top of the library's "
        "normalized form (NFC local part, UTS-46 mapped domain in Unicode).",
        why="Rally matches email case-insensitively, so two spellings of one address must be "
        "one contact and one match key.",
    ),
    Deviation(
        key="email-trimmed",
        library="email-validator",
        function="normalize_email",
        what="Surrounding whitespace, invisible characters (zero-width space, byte-order "
        "mark, control characters) and a leading 'mailto:' are removed before the address "
        "is stored and checked; the library refuses them all.",
        why="They come from copy-paste and links, not from the address.",
    ),
    Deviation(
        key="email-display-name",
        library="email-validator",
        function="normalize_email",
        what="An address in a display name, 'Jane Doe <jane@acme.com>', is stored as the "
        "address alone when the library, asked to allow display names, accepts it; by "
        "default it refuses the whole value.",
        why="Mail programs copy addresses with the name in front; the address is what was meant.",
    ),
    Deviation(
        key="phone-national-prefix-inside-international",
        library="phonenumbers",
        function="normalize_phone",
        what="A number whose E.164 form the library would read differently a second time "
        "(a national prefix kept inside an international number, '+49 0 30 ...') is "
        "refused instead of stored.",
        why="Its result is not stable: normalizing twice must change nothing.",
    ),
    Deviation(
        key="phone-extension-kept",
        library="phonenumbers",
        function="normalize_phone",
        what="An extension the library parsed is kept after the E.164 number, "
        "'+14155550142 ext. 123'.",
        why="E.164 has no place for an extension and dropping it loses data.",
    ),
    Deviation(
        key="phone-international-without-plus",
        library="phonenumbers",
        function="normalize_phone",
        what="Digits alone (8 to 15, no '+', no letters) that the default region cannot read, "
        "or read without a default region, are the number they make with a '+' before them, "
        "when that is a valid number (an assigned range, not only a possible length): "
        "'33612345678' in a US file is +33612345678. The library refuses them.",
        why="Messaging and marketing tools export international numbers without their '+' "
        "(Brevo's SMS, WhatsApp numbers); refused, every foreign number of such a file is "
        "kept as written with a warning.",
    ),
    Deviation(
        key="domain-presentation",
        library="tldextract",
        function="registrable_domain",
        what="The host is UTS-46 mapped before the suffix lookup (lower case, full-width "
        "forms folded, every Unicode full stop a dot) and IDN labels are given in Unicode.",
        why="One company has one domain however it was typed; browsers map hosts the same way.",
    ),
    Deviation(
        key="domain-trimmed",
        library="tldextract",
        function="registrable_domain",
        what="Surrounding whitespace and invisible characters are removed before the URL is "
        "read; the library reads ' http://acme.com' as a host named ' http'.",
        why="Cells carry stray spaces from spreadsheets; the URL inside is what was meant.",
    ),
    Deviation(
        key="domain-invalid-registrable-label",
        library="tldextract",
        function="registrable_domain",
        what="No domain when the registrable label itself is not a valid IDNA 2008 host label "
        "(an invalid subdomain label is ignored, as the library ignores it).",
        why="No company can own such a name; loading it as a domain would match nothing.",
    ),
)


def deviation(key: str) -> Deviation:
    """The table entry named `key`."""
    for entry in DELIBERATE:
        if entry.key == key:
            return entry
    raise KeyError(key)
