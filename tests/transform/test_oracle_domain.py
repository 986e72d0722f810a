"""tldextract as the oracle of `registrable_domain`.

Its own test cases and doctests (tests/data/oracles/tldextract.json) and 3,000 seeded URLs,
addresses and hosts go through `registrable_domain`; the answer must be the library's
`top_domain_under_public_suffix`, from the extractor crmsync configures, up to the
deliberate deviations of `DELIBERATE`, each defined here from the libraries alone (tldextract
reads the host, idna maps the labels).
"""

from __future__ import annotations

import re

import idna
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.transform.oracle_inputs import domain_inputs
from tests.transform.oracles import Tally, library_keys, same_version, vectors
from tldextract.remote import lenient_netloc

from crmsync.transform.normalizers.domain import host_label, registrable_domain, suffix_extractor
from crmsync.transform.normalizers.names import EDGES

VECTORS = vectors("tldextract")
INPUTS = [vector["input"] for vector in VECTORS]
GENERATED = domain_inputs()
_STOPS = re.compile("[.\u3002\uff0e\uff61]")


def library_domain(value: str) -> str | None:
    """The library's registrable domain, as crmsync's extractor sees it (bundled list,
    private suffixes not counted)."""
    return suffix_extractor()(value).top_domain_under_public_suffix or None


def _mapped(label: str) -> str | None:
    """A label UTS-46 mapped and in Unicode, by idna; None if it is no valid host label."""
    if not label or any(char.isspace() for char in label):
        return None
    try:
        text = idna.decode(idna.encode(label, uts46=True, std3_rules=True))
    except (idna.IDNAError, UnicodeError):
        return None
    return None if "." in text else text


def presented(value: str) -> tuple[str | None, bool]:
    """(the library's answer for the host it reads in the trimmed value, each label mapped;
    whether the registrable label itself was invalid)."""
    host = lenient_netloc(value.strip(EDGES)).lower()
    labels = _STOPS.split(host) if host else []
    readable = [_mapped(label) or label for label in labels]
    parts = suffix_extractor()(".".join(readable))
    if not parts.suffix or not parts.domain:
        return None, False
    if _mapped(labels[len(labels) - parts.suffix.count(".") - 2]) is None:
        return None, True
    return f"{parts.domain}.{parts.suffix}", False


def judge(tally: Tally, value: str, ours: str | None) -> None:
    """Sort one `registrable_domain` answer against the library's."""
    library = library_domain(value)
    expected, invalid = presented(value)
    if ours == library and not invalid:  # an invalid registrable label is never a domain
        tally.agreed()
        return
    if ours != expected:
        tally.disagreed(f"{value!r}: crmsync {ours!r}, library {library!r} ({expected!r})")
    elif invalid:
        tally.deliberate("domain-invalid-registrable-label")
    elif library_domain(value.strip(EDGES)) != library:
        tally.deliberate("domain-trimmed")
    else:
        tally.deliberate("domain-presentation")


def _tally(values: list[str]) -> Tally:
    tally = Tally()
    ours = registrable_domain(pl.Series(values, dtype=pl.String)).to_list()
    for value, answer in zip(values, ours, strict=True):
        judge(tally, value, answer)
    return tally


def test_vectors_are_the_library_suite() -> None:
    assert len(VECTORS) == 145
    assert len(set(INPUTS)) == 124


@pytest.mark.skipif(not same_version("tldextract"), reason="vectors from another version")
def test_recorded_extractions_still_hold() -> None:
    """Where a vector recorded the parts under crmsync's options, the extractor agrees."""
    checked = 0
    for vector in VECTORS:
        expected = vector["expected"]
        if vector["private"] or not {"domain", "suffix"} <= expected.keys():
            continue
        parts = suffix_extractor()(vector["input"])
        assert (parts.domain, parts.suffix) == (expected["domain"], expected["suffix"])
        checked += 1
    assert checked > 80


def test_vectors_agree_with_the_library() -> None:
    tally = _tally(INPUTS)
    tally.check()
    assert tally.used == library_keys("tldextract") - {"domain-trimmed"}


def test_generated_agree_with_the_library() -> None:
    """Every deviation is needed and none other: the table is exact for domains."""
    tally = _tally(GENERATED)
    tally.check()
    assert tally.used == library_keys("tldextract")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("xn--tub-1m9d15sfkkhsifsbqygyujjrw60.google.com", "google.com"),
        ("http://xn--&.so-net.com", "so-net.com"),
        ("http://xn--zckzap6140b352by.blog.so-net.xn--wcvs22d.hk", "so-net.教育.hk"),
        ("http://www.example.com\u3002/", "example.com"),
        ("angelinablog\u3002com.de", "com.de"),
        ("ＷＷＷ．ＡＣＭＥ．ＣＯＭ", "acme.com"),
        ("xn--ß\u200c꫶ᢥ.com", None),
    ],
    ids=["bad-subdomain-punycode", "bad-subdomain-char", "bad-subdomain-idn-suffix",
         "ideographic-root", "ideographic-stop", "fullwidth", "bad-registrable-label"],
)  # fmt: skip
def test_labels_are_handled_one_by_one(raw: str, expected: str | None) -> None:
    assert registrable_domain(pl.Series([raw])).to_list() == [expected]


_LABEL = st.text(alphabet="abcXYZ09-_üß\u3002.", min_size=0, max_size=8)
_HOSTISH = st.builds(
    lambda labels, scheme, tail: f"{scheme}{'.'.join(labels)}{tail}",
    st.lists(_LABEL | st.sampled_from(["xn--0", "xn--bcher-kva", "BÜCHER", "ｅｘ"]), max_size=4),
    st.sampled_from(["", "http://", "https://www.", "info@", " ", "//u:p@"]),
    st.sampled_from(["", ".com", ".co.uk", ".de/", ":8080", ".", ".xn--p1ai", "\uff0ecom"]),
)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.lists(_HOSTISH, min_size=1, max_size=12))
def test_library_is_the_oracle_on_generated_hosts(values: list[str]) -> None:
    _tally(values).check()
    once = registrable_domain(pl.Series(values, dtype=pl.String))
    assert registrable_domain(once).to_list() == once.to_list()


_ASCII_LABELS = st.text(alphabet="abz09-", min_size=0, max_size=66) | st.sampled_from(
    ["a" * 63, "a" * 64, "-a", "a-", "ab--c", "xn--bcher-kva", "xn--0", "a--b", "abc--", "1"]
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(_ASCII_LABELS)
def test_an_ascii_label_reads_as_idna_reads_it(label: str) -> None:
    """The shortcut for lower-case ASCII labels (no idna call) answers as idna does: the
    label itself, or no valid label (a hyphen at an end, hyphens third and fourth, over 63
    characters)."""
    host_label.cache_clear()
    assert host_label(label) == _mapped(label)


_RULES = sorted(suffix_extractor().tlds)
_PREFIX = st.lists(
    st.sampled_from(["www", "a", "mail", "city", "x-1", "b2b", "acme", "a---b", "ab--c", "a-"]),
    max_size=3,
)
_ON_RULES = st.builds(
    lambda prefix, rule, star: ".".join([*prefix, rule.lstrip("!").replace("*", star)]),
    _PREFIX,
    st.sampled_from(_RULES),
    st.sampled_from(["www", "city", "shop", "a"]),
)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(_ON_RULES, min_size=1, max_size=20))
def test_hosts_on_the_suffix_rules_read_as_the_library_reads_them(values: list[str]) -> None:
    """Hosts built on the list's own rules, wildcards and exceptions among them: the suffix
    sets decide the plain ASCII ones, and agree with the library on every one."""
    _tally(values).check()


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("shop.a.ck", "shop.a.ck"),  # *.ck: any label under ck is a suffix
        ("www.ck", "www.ck"),  # !www.ck: the exception is a domain
        ("a.city.kawasaki.jp", "city.kawasaki.jp"),  # !city.kawasaki.jp
        ("a.b.kawasaki.jp", "a.b.kawasaki.jp"),  # *.kawasaki.jp
        ("www.acme.co.uk", "acme.co.uk"),
        ("co.uk", None),  # a bare suffix
        ("acme.invalidtld", None),  # no public suffix
        ("10.0.0.1", None),  # an address
        ("a---b.com", None),  # hyphens third and fourth: no valid label, whatever the second
        ("x.ab--c.co.uk", None),
    ],
)
def test_rules_of_every_kind_read_as_the_library_reads_them(
    host: str, expected: str | None
) -> None:
    assert registrable_domain(pl.Series([host])).to_list() == [expected]
    assert presented(host)[0] == expected  # the library's answer, each label as idna reads it
