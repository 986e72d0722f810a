"""Company domains: the registrable domain ("acme.co.uk") from a URL, an address or a host.

Rally matches companies on `domain`, so "https://www.Acme.com/about", "info@acme.com" and
"sub.acme.com" must all become "acme.com". Where the registrable part ends needs the Public
Suffix List: tldextract's bundled snapshot, never fetched (no network, no cache directory).
The host is read as tldextract reads it, then UTS-46 mapped label by label (lower case,
full-width forms folded, every Unicode full stop a dot) and given in Unicode ("bücher.de"),
the form people read; the punycode spelling ("xn--bcher-kva.de") maps to the same value.
A label that is not valid IDNA 2008 stays as written: in a subdomain it does not matter, as
the registrable part is still found; as the registrable label itself it means no domain.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import TYPE_CHECKING

import idna
import polars as pl

from crmsync.transform.normalizers.names import trimmed

if TYPE_CHECKING:
    import tldextract

_CACHE_SIZE = 1 << 16
LABEL_SEPARATORS = "[.\u3002\uff0e\uff61]"  # the full stops UTS-46 and tldextract split on
_SEPARATOR = re.compile(LABEL_SEPARATORS)


@cache
def suffix_extractor() -> tldextract.TLDExtract:
    """The one extractor: bundled suffix list only, no HTTP, no cache files."""
    import tldextract  # imported when a domain is first read: 85 ms a contacts run never needs

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


def host_of(expr: pl.Expr) -> pl.Expr:
    """The host part of a URL, an address or a bare host, lower-cased: vectorized, and cut
    where tldextract cuts (its `lenient_netloc`), so the two read the same host."""
    return (
        trimmed(expr.cast(pl.String))
        .str.to_lowercase()
        .str.replace(r"^(?:[a-z0-9+.\-]+:)?//", "")  # scheme, or a bare "//"
        .str.replace(r"[/?#].*$", "")  # path, query, fragment
        .str.replace(r"^.*@", "")  # userinfo, or the mailbox of an address
        .str.replace(r":.*$", "")  # port
        .str.strip_chars()
        .str.strip_chars_end(".\u3002\uff0e\uff61")  # trailing root label
    )


# A lower-case ASCII host label: letters, digits and inner hyphens, at most 63 characters.
# Unless hyphens stand third and fourth ("ab--c", which IDNA 2008 refuses), such a label is
# its own UTS-46 mapping and valid as it is: most labels, where idna took 14 µs each.
_ASCII_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_RESERVED_HYPHENS = slice(2, 4)


@lru_cache(maxsize=_CACHE_SIZE)
def host_label(label: str) -> str | None:
    """One label UTS-46 mapped and in Unicode, or None when it is not a valid IDNA 2008
    host label (hostname rules: letters, digits, hyphens; no spaces, no underscores)."""
    if _ASCII_LABEL.fullmatch(label) and label[_RESERVED_HYPHENS] != "--":
        return label
    if not label or any(char.isspace() for char in label):
        return None
    try:
        mapped = idna.decode(idna.encode(label, uts46=True, std3_rules=True))
    except (idna.IDNAError, UnicodeError):
        return None
    return mapped if "." not in mapped else None  # e.g. "⒈" would map to two labels


@lru_cache(maxsize=_CACHE_SIZE)
def _registrable(host: str) -> str | None:
    labels = _SEPARATOR.split(host)
    mapped = [host_label(label) for label in labels]
    readable = [
        label if found is None else found for label, found in zip(labels, mapped, strict=True)
    ]
    parts = suffix_extractor()(".".join(readable))
    if not parts.suffix or not parts.domain:
        return None  # a bare suffix, an IP address, or a name with no public suffix
    registrable = len(labels) - parts.suffix.count(".") - 2
    if mapped[registrable] is None or readable[registrable] != parts.domain:
        return None  # the registrable label itself is no valid name: no domain
    return f"{parts.domain}.{parts.suffix}"


def registrable_domain(series: pl.Series) -> pl.Series:
    """Per value: its registrable domain, or null when none can be found in it."""
    hosts = pl.DataFrame({"value": series.cast(pl.String)}).select(host_of(pl.col("value")))
    host = hosts.to_series()
    unique = host.drop_nulls().unique()
    found = pl.Series([_registrable(value) for value in unique.to_list()], dtype=pl.String)
    return host.replace_strict(unique, found, default=None, return_dtype=pl.String).alias(
        series.name
    )
