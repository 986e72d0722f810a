"""Guessing ``normalize.default_region`` from the data: the region phone numbers written
without ``+country`` are read in.

Two kinds of evidence, in this order: a country column whose values mostly name one country
("United States", "USA", "US", "Deutschland" all count), then the ``+`` prefixes of the phone
numbers. A guess needs a majority of the values that name a country (or carry a prefix), and
says what it rests on, so the user can judge it; with no such majority there is no guess.
Country names come from phonenumbers' own tables (English and the main European languages),
so no list is kept here beyond a few everyday aliases.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import phonenumbers
from phonenumbers.geodata.locale import LOCALE_DATA

NAME_LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pt", "sv", "da", "nb", "fi", "pl", "cs")
ALIASES = {
    "usa": "US",
    "us": "US",
    "u s": "US",
    "u s a": "US",
    "united states of america": "US",
    "america": "US",
    "uk": "GB",
    "u k": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "czechia": "CZ",
    "holland": "NL",
    "the netherlands": "NL",
    "korea": "KR",
    "republic of korea": "KR",
    "russian federation": "RU",
    "turkiye": "TR",
    "uae": "AE",
    "viet nam": "VN",
    "gbr": "GB",
    "deu": "DE",
    "fra": "FR",
    "can": "CA",
    "aus": "AU",
    "ind": "IN",
    "esp": "ES",
    "ita": "IT",
    "nld": "NL",
    "che": "CH",
    "aut": "AT",
    "pol": "PL",
    "cze": "CZ",
    "swe": "SE",
    "irl": "IE",
    "bra": "BR",
    "mex": "MX",
    "jpn": "JP",
}
MIN_EVIDENCE = 2
MAJORITY = 0.5
MAX_EVIDENCE = 5000  # values looked at per column: a guess needs no more, parsing costs
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_PHONE_PREFIX = re.compile(r"^\s*(?:\+|00)\s*\d")


@dataclass(frozen=True)
class RegionGuess:
    """``region`` (ISO 3166 alpha-2) or None, and a sentence saying why."""

    region: str | None
    reason: str


def _fold(text: str) -> str:
    """ "Côte d'Ivoire" -> "cote d ivoire": accents, case and punctuation ignored."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NOT_ALNUM.sub(" ", plain.casefold()).strip()


def _locale_name(region: str, language: str) -> str | None:
    names = LOCALE_DATA.get(region, {})
    name = names.get(language)
    while name is not None and name.startswith("*"):  # "*aa": the same as language aa
        name = names.get(name[1:])
    return name


@cache
def country_names() -> dict[str, str]:
    """Folded country name, alias or ISO code -> ISO 3166 alpha-2 region."""
    table: dict[str, str] = {}
    for language in NAME_LANGUAGES:
        for region in LOCALE_DATA:
            name = _locale_name(region, language)
            if name:
                table.setdefault(_fold(name), region)
    for region in LOCALE_DATA:
        if len(region) == 2 and region.isalpha():
            table.setdefault(region.lower(), region)
    table.update(ALIASES)
    return table


def region_of_country(value: str) -> str | None:
    """The ISO region a country cell names ("United States", "usa", "DE"), or None."""
    return country_names().get(_fold(value))


def region_of_phone(value: str) -> str | None:
    """The region of a number written with its country code (+49 ..., 0049 ...), or None."""
    if not _PHONE_PREFIX.match(value):
        return None
    text = value.strip()
    text = "+" + text[2:] if text.startswith("00") else text
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    if number.country_code is None:
        return None
    region = phonenumbers.region_code_for_country_code(number.country_code)
    return None if region in (None, "ZZ", "001") else region


def _majority(regions: Iterable[str | None]) -> tuple[str | None, int, int]:
    """(the region most values give, how many give it, how many give one at all)."""
    counts = Counter(region for region in regions if region)
    total = sum(counts.values())
    if not counts:
        return None, 0, 0
    region, count = counts.most_common(1)[0]
    return region, count, total


def guess_region(countries: dict[str, list[str]], phones: dict[str, list[str]]) -> RegionGuess:
    """The region the data points at. ``countries``/``phones``: column -> its non-empty
    values (country columns first by preference); the first MAX_EVIDENCE of each are read."""
    first = (
        " first"
        if any(len(v) > MAX_EVIDENCE for v in (*countries.values(), *phones.values()))
        else ""
    )
    countries = {column: values[:MAX_EVIDENCE] for column, values in countries.items()}
    phones = {column: values[:MAX_EVIDENCE] for column, values in phones.items()}
    for column, values in countries.items():
        region, count, total = _majority(region_of_country(v) for v in values)
        if region and count >= MIN_EVIDENCE and count > MAJORITY * total:
            said = Counter(v.strip() for v in values if region_of_country(v) == region)
            spelled = " / ".join(f'"{text}"' for text, _ in said.most_common(3))
            return RegionGuess(
                region, f'{count} of the{first} {len(values)} values of "{column}" are {spelled}'
            )
    prefixed = [(column, v) for column, values in phones.items() for v in values]
    region, count, total = _majority(region_of_phone(v) for _, v in prefixed)
    if region and count >= MIN_EVIDENCE and count > MAJORITY * total:
        code = phonenumbers.country_code_for_region(region)
        return RegionGuess(
            region,
            f"{count} of the{first} {total} phone numbers written with a country code are +{code}",
        )
    if countries:
        column, values = next(iter(countries.items()))
        seen = Counter(r for r in (region_of_country(v) for v in values) if r)
        top = ", ".join(f"{region} {count}" for region, count in seen.most_common(3))
        return RegionGuess(None, f'no country has a majority in "{column}" ({top})')
    if total:
        return RegionGuess(None, "no country code has a majority among the phone numbers")
    return RegionGuess(None, "no country column and no phone numbers with a +country code")
