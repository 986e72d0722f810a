"""Registrable domains from URLs, addresses and hosts; never a network call."""

from __future__ import annotations

import socket

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync.transform.normalizers import domain as domain_module
from crmsync.transform.normalizers.domain import registrable_domain

CASES = [
    ("https://www.Acme.com/about", "acme.com"),
    ("acme.co.uk", "acme.co.uk"),
    ("WWW.EXAMPLE.COM.", "example.com"),
    ("http://acme.com:8080", "acme.com"),
    ("bücher.de", "bücher.de"),
    ("xn--bcher-kva.de", "bücher.de"),
    ("info@acme.com", "acme.com"),
    ("sub.acme.com", "acme.com"),
    ("shop.sub.acme.co.uk/path?q=1#top", "acme.co.uk"),
    ("mailto:Sales@Acme.com?subject=hi", "acme.com"),
    ("//cdn.acme.com", "acme.com"),
    ("https://user:pw@acme.com/", "acme.com"),
    ("gmail.com", "gmail.com"),
    ("localhost", None),
    ("127.0.0.1", None),
    ("co.uk", None),
    ("not a domain", None),
    ("exa_mple.com", None),
    ("", None),
    (None, None),
]


@pytest.mark.parametrize(("raw", "expected"), CASES, ids=[str(raw) for raw, _ in CASES])
def test_registrable_domain(raw: str | None, expected: str | None) -> None:
    assert registrable_domain(pl.Series([raw], dtype=pl.String)).to_list() == [expected]


def test_registrable_domain_keeps_length_order_and_name() -> None:
    series = pl.Series("domain", ["a.acme.com", None, "b.acme.com", "x.org"])
    result = registrable_domain(series)
    assert result.name == "domain"
    assert result.to_list() == ["acme.com", None, "acme.com", "x.org"]


def test_no_network_access_is_attempted(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh extractor, a new host: any socket use would raise."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    domain_module.suffix_extractor.cache_clear()
    domain_module._registrable.cache_clear()
    result = registrable_domain(pl.Series(["www.network-test-host.example.co.jp"])).to_list()
    assert result == ["example.co.jp"]
    extractor = domain_module.suffix_extractor()
    assert extractor.suffix_list_urls == ()
    assert extractor._cache.enabled is False


_LABEL = st.text(alphabet="abcxyz0-ü", min_size=1, max_size=8)
_HOSTISH = st.builds(
    lambda labels, scheme, tail: f"{scheme}{'.'.join(labels)}{tail}",
    st.lists(_LABEL, min_size=1, max_size=4),
    st.sampled_from(["", "http://", "https://www.", "info@"]),
    st.sampled_from(["", ".com", ".co.uk", ".de/", ":8080", "."]),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_HOSTISH, min_size=1, max_size=10))
def test_registrable_domain_is_idempotent(values: list[str]) -> None:
    once = registrable_domain(pl.Series(values))
    assert registrable_domain(once).to_list() == once.to_list()
