"""Company domains: the registrable domain ("acme.co.uk") from a URL, an address or a host.

Rally matches companies on `domain`, so "https://www.Acme.com/about", "info@acme.com" and
"sub.acme.com" must all become "acme.com". Where the registrable part ends needs the Public
Suffix List: tldextract's bundled snapshot, never fetched (no network, no cache directory).
Internationalized names are kept in Unicode ("bücher.de"), the form people read; the
punycode spelling ("xn--bcher-kva.de") maps to the same value.
"""

from __future__ import annotations

from functools import cache, lru_cache

import idna
import polars as pl
import tldextract

_CACHE_SIZE = 1 << 16


@cache
def suffix_extractor() -> tldextract.TLDExtract:
    """The one extractor: bundled suffix list only, no HTTP, no cache files."""
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


def host_of(expr: pl.Expr) -> pl.Expr:
    """The host part of a URL, an address or a bare host: vectorized string surgery."""
    return (
        expr.cast(pl.String)
        .str.strip_chars()
        .str.to_lowercase()
        .str.replace(r"^[a-z][a-z0-9+.\-]*://", "")  # scheme
        .str.replace(r"^//", "")
        .str.replace(r"[/?#\\].*$", "")  # path, query, fragment
        .str.replace(r"^.*@", "")  # userinfo, or the mailbox of an address
        .str.replace(r":[0-9]*$", "")  # port
        .str.strip_chars(". ")  # trailing dot of a fully qualified name
    )


@lru_cache(maxsize=_CACHE_SIZE)
def _registrable(host: str) -> str | None:
    if not host or any(char.isspace() for char in host):
        return None
    try:
        unicode_host = idna.decode(idna.encode(host, uts46=True))
    except (idna.IDNAError, UnicodeError):
        return None
    parts = suffix_extractor()(unicode_host)
    if not parts.suffix or not parts.domain:
        return None  # a bare suffix, an IP address, or a name with no public suffix
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
