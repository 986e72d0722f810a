"""Company domains: the registrable domain ("acme.co.uk") from a URL, an address or a host.

Rally matches companies on `domain`, so "https://www.Acme.com/about", "info@acme.com" and
"sub.acme.com" must all become "acme.com". Where the registrable part ends needs the Public
Suffix List: tldextract's bundled snapshot, never fetched (no network, no cache directory).
The host is read as tldextract reads it, then UTS-46 mapped label by label (lower case,
full-width forms folded, every Unicode full stop a dot) and given in Unicode ("bücher.de"),
the form people read; the punycode spelling ("xn--bcher-kva.de") maps to the same value.
A label that is not valid IDNA 2008 stays as written: in a subdomain it does not matter, as
the registrable part is still found; as the registrable label itself it means no domain.

Most hosts are plain ASCII under a suffix without wildcard rules: those are matched against
the list's rules by polars, a host at a time in no Python (100,000 distinct companies: 1.9
to 0.8 s); tldextract reads the others, and is the oracle of the tests.
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
# Unless hyphens stand third and fourth ("ab--c", "a---b", which IDNA 2008 refuses), such a
# label is its own UTS-46 mapping and valid as it is: most labels, where idna took 14 µs each.
_LABEL_PATTERN = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_ASCII_LABEL = re.compile(_LABEL_PATTERN)
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
    """Per value: its registrable domain, or null when none can be found in it. Each distinct
    host once: by the suffix sets when it is plain ASCII (`_matched`), else by the library."""
    hosts = pl.DataFrame({"value": series.cast(pl.String)}).select(host_of(pl.col("value")))
    host = hosts.to_series()
    unique = host.drop_nulls().unique()
    matched = _matched(unique)
    found = matched["found"].clone()
    asked = matched["asked"].arg_true()
    if asked.len():
        answers = [_registrable(value) for value in unique.gather(asked).to_list()]
        found.scatter(asked, pl.Series(answers, dtype=pl.String))
    return host.replace_strict(unique, found, default=None, return_dtype=pl.String).alias(
        series.name
    )


# A host of lower-case ASCII labels, each one a valid host label as it is (`_ASCII_LABEL`),
# none with hyphens third and fourth (whatever the second character): read as the library
# reads it without asking it.
_PLAIN_HOST = rf"^{_LABEL_PATTERN}(?:\.{_LABEL_PATTERN})+$"
_RESERVED_LABEL = r"(?:^|\.)[a-z0-9-]{2}--"


@cache
def _suffix_rules() -> tuple[list[str], list[str], int]:
    """(the public suffixes the extractor knows, the suffixes under which a wildcard rule
    makes any one label a suffix too, the most labels a rule has)."""
    rules = suffix_extractor().tlds
    suffixes = sorted(rule for rule in rules if not rule.startswith(("*", "!")))
    wildcards = sorted(rule[2:] for rule in rules if rule.startswith("*."))
    return suffixes, wildcards, max(rule.count(".") + 1 for rule in rules)


def _matched(hosts: pl.Series) -> pl.DataFrame:
    """Per host: `found` (its registrable domain by the suffix sets) and `asked` (the library
    must decide: not a plain ASCII host, or a wildcard rule may apply, with its exceptions).

    The library walks a trie of the rules from the last label on, as long as labels match,
    and the deepest rule that ends on the way is the suffix. Without wildcards, that is the
    longest run of last labels that is a rule: each rule's shorter runs are in the trie.
    Built a step at a time, each step's columns read by the next: an expression used twice
    in one step is computed twice."""
    suffixes, wildcards, depth = _suffix_rules()
    host, labels, count = pl.col("host"), pl.col("labels"), pl.col("count")
    split = host.str.split(".")
    sizes = range(1, depth + 1)
    tails = [
        pl.when(count >= size).then(labels.list.slice(-size, size).list.join(".")).alias(f"t{size}")
        for size in sizes
    ]
    suffix_labels: pl.Expr = pl.lit(0)
    for size in sizes:
        rule = pl.col(f"t{size}").is_in(suffixes)
        suffix_labels = pl.when(rule).then(size).otherwise(suffix_labels)
    wildcard = pl.any_horizontal(pl.col(f"t{size}").is_in(wildcards) for size in sizes)
    plain = host.str.contains(_PLAIN_HOST) & ~host.str.contains(_RESERVED_LABEL)
    found = pl.col("suffix_labels")
    registrable = labels.list.slice(-(found + 1)).list.join(".")
    has_domain = (found > 0) & (count > found)
    asked = ~plain | pl.col("wildcard").fill_null(False)
    return (
        pl.DataFrame({"host": hosts})
        .with_columns(split.alias("labels"))
        .with_columns(labels.list.len().alias("count"))
        .with_columns(tails)
        .with_columns(suffix_labels.alias("suffix_labels"), wildcard.alias("wildcard"))
        .with_columns(asked.fill_null(True).alias("asked"))
        .select(pl.when(~pl.col("asked") & has_domain).then(registrable).alias("found"), "asked")
    )
