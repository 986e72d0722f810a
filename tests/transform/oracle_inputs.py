"""Seeded generators of awkward inputs for the oracle tests: the same inputs on every run.

Each generator mixes the shapes people send with the corners the libraries have rules for,
so the fast paths meet every rule they claim to replay.
"""

from __future__ import annotations

import random
import unicodedata

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

EMAIL_SEED = 17_2025
EMAIL_COUNT = 5_000

_ASCII_LOCAL = "abcxyzABCXYZ0129.!#$%&'*+/=?^_`{|}~-"
_UNICODE_LOCAL = "éüßñøçłřžñÉÜŞİıΣσςΩ用户データпочтаاختبار\u0301\u0308\u0327ǅﬁ＠ｍ"
_DOTS = [".", ".", ".", "\u3002", "\uff0e", "\uff61", "..", ""]
_LABELS = [
    "example", "acme", "mail", "Sub", "EXAMPLE", "a", "xn--bcher-kva", "bücher", "BÜCHER",
    "xn--hxajbheg2az3al", "παράδειγμα", "xn--0", "xn--4dbc", "1", "yy--0", "a--b", "ab-c",
    "-lead", "trail-", "x", "exa_mple", "ｅｘａｍｐｌｅ", "例子", "xn--fiqq24b10vi0d",
    "ﬁ", "e\u0301x", "ß", "\u200d", "ascii63" + "z" * 56, "long64" + "y" * 58, "中文",
    "xn--tub-1m9d15sfkkhsifsbqygyujjrw60", "مثال", "i̇", "ǆ",
]  # fmt: skip
_TLDS = [
    "com", "org", "de", "co.uk", "tld", "c", "invalid", "local", "localhost", "onion", "test",
    "arpa", "TEST", "Com", "xn--p1ai", "рф", "ＣＯＭ", "123", "c0m", "x-y", "xn--jxalpdlp",
]  # fmt: skip
_GOOD_LABELS = ["example", "acme", "mail", "Sub", "bücher", "xn--bcher-kva", "例子", "ab-c", "x1"]
_GOOD_TLDS = ["com", "org", "de", "co.uk", "Com", "рф", "xn--p1ai", "tld"]
_WRAPPERS = [
    *["{}"] * 10, " {}", "{} ", "\t{}", "{}\n", "mailto:{}", "MAILTO: {}",
    "Name <{}>", "<{}>", '"{}"', "{}.", ".{}", "{}>", "\u200b{}", "{}\ufeff", "\x01{}\u2060",
]  # fmt: skip


def _local(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.45:
        text = "".join(rng.choice(_ASCII_LOCAL) for _ in range(rng.randint(0, 12)))
        return text.strip(".") if rng.random() < 0.7 else text
    if roll < 0.75:
        alphabet = _ASCII_LOCAL[:12] + _UNICODE_LOCAL
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 10)))
    if roll < 0.85:
        inner = "".join(rng.choice(_ASCII_LOCAL + ' @"\\') for _ in range(rng.randint(0, 8)))
        return f'"{inner}"'
    word = rng.choice(["john", "Jane.Doe", "info", "POSTMASTER", "x", "o'brien", "a+tag"])
    return unicodedata.normalize(rng.choice(["NFC", "NFD", "NFKC"]), word)


def _domain(rng: random.Random) -> str:
    odd = rng.random() < 0.5  # else labels and separators people really use
    labels = [rng.choice(_LABELS if odd else _GOOD_LABELS) for _ in range(rng.randint(1, 3))]
    parts = [*labels, rng.choice(_TLDS if odd else _GOOD_TLDS)]
    text = parts[0]
    for part in parts[1:]:
        text += rng.choice(_DOTS) if odd else "."
        text += part
    if rng.random() < 0.1:
        text = unicodedata.normalize("NFD", text)
    return text


def email_inputs(count: int = EMAIL_COUNT, seed: int = EMAIL_SEED) -> list[str]:
    """`count` addresses: plain, Unicode, quoted, IDN, special-use, odd dots, whitespace,
    display names, "mailto:" prefixes, look-alike at-signs; a few duplicates in other case."""
    rng = random.Random(seed)
    out: list[str] = []
    for _ in range(count):
        if out and rng.random() < 0.05:
            out.append(rng.choice(out).upper())
            continue
        at = rng.choice(["@"] * 12 + ["", "@@", "＠", "﹫"])
        address = _local(rng) + at + _domain(rng)
        out.append(rng.choice(_WRAPPERS).format(address))
    return out


PHONE_SEED = 9_0_43
PHONE_MUTATIONS = 20_000
FOREIGN_SHARE = 0.25  # of inputs also (written forms) or instead (mutations) read abroad
# Regions whose rules differ most: NANP with and without one area code, "0011" (AU), "0[0-3]x"
# (SG), "010" (JP), "00"/"99x" (FI), national prefixes with carrier codes (BR, CO), and none.
FOREIGN_REGIONS = ("US", "BS", "AG", "GB", "DE", "AU", "SG", "JP", "FI", "BR", "CO", "CN", None)
_SEPARATORS = [" ", "-", ".", "", " - ", "  "]


def example_numbers() -> list[tuple[str, phonenumbers.PhoneNumber]]:
    """Every distinct example number in phonenumbers' metadata, with its region ("001" for
    the non-geographic ones): all regions, all number types."""
    found: dict[tuple[str, str], phonenumbers.PhoneNumber] = {}
    types = sorted(v for v in vars(PhoneNumberType).values() if isinstance(v, int))
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in types:
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                found.setdefault((region, _e164(number)), number)
    for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        number = phonenumbers.example_number_for_non_geo_entity(code)
        if number is not None:
            found.setdefault(("001", _e164(number)), number)
    return [(region, number) for (region, _), number in found.items()]


def _e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def written_forms(number: phonenumbers.PhoneNumber, rng: random.Random) -> list[str]:
    """One number the ways people write it: E.164, international, national, RFC 3966,
    dialled from abroad (US 011, AU 0011, DE 00, JP 010), bare digits, other separators,
    "(0)" and a kept national prefix after the country code, an extension, spaces."""
    e164 = _e164(number)
    international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    code = str(number.country_code)
    nsn = phonenumbers.national_significant_number(number)
    sep = rng.choice(_SEPARATORS)
    forms = [
        e164,
        international,
        national,
        phonenumbers.format_number(number, PhoneNumberFormat.RFC3966),
        *(phonenumbers.format_out_of_country_calling_number(number, r) for r in ("US", "AU")),
        *(phonenumbers.format_out_of_country_calling_number(number, r) for r in ("DE", "JP")),
        "".join(ch for ch in national if ch.isdigit()),
        national.replace(" ", sep),
        f"+{code} (0){nsn}",
        f"+{code} 0{nsn}",
        f"{international} x{rng.randint(1, 9999)}",
        f"  {international.replace(' ', sep)} ",
        f"00{code}{sep}{nsn}",
    ]
    return list(dict.fromkeys(forms))


def _mutate(text: str, rng: random.Random) -> str:
    digits = [i for i, ch in enumerate(text) if ch.isdigit()]
    roll = rng.randrange(8)
    if roll == 0 and digits:  # drop a digit
        i = rng.choice(digits)
        return text[:i] + text[i + 1 :]
    if roll == 1:  # an extra digit somewhere
        i = rng.randint(0, len(text))
        return text[:i] + rng.choice("0123456789") + text[i:]
    if roll == 2 and digits:  # a different digit
        i = rng.choice(digits)
        return text[:i] + rng.choice("0123456789") + text[i + 1 :]
    if roll == 3:  # a prefix someone might dial
        return rng.choice(["0", "00", "011", "0011", "010", "1", "+", "+0", "+1 "]) + text
    if roll == 4:  # the first few characters lost
        return text[rng.randint(1, 4) :]
    if roll == 5:  # trailing digits lost or doubled
        return text[: -rng.randint(1, 3)] if rng.random() < 0.5 else text + text[-3:]
    if roll == 6:  # separators changed
        sep = rng.choice([*_SEPARATORS, "(", ")", "/"])
        return text.replace(" ", sep).replace("-", sep)
    return rng.choice(["x", " ext. ", "#"]).join([text, str(rng.randint(0, 99))])


def phone_inputs(
    mutations: int = PHONE_MUTATIONS, seed: int = PHONE_SEED
) -> list[tuple[str, str | None]]:
    """(value, default region) pairs: every example number written every way, read in its
    own region (and a quarter of them in one of FOREIGN_REGIONS too); then `mutations`
    seeded mutations of those, some read in a foreign region."""
    rng = random.Random(seed)
    pairs: list[tuple[str, str | None]] = []
    for region, number in example_numbers():
        own = None if region == "001" else region
        for form in written_forms(number, rng):
            pairs.append((form, own))
            if rng.random() < FOREIGN_SHARE:
                pairs.append((form, rng.choice(FOREIGN_REGIONS)))
    written = list(pairs)
    for _ in range(mutations):
        text, region = rng.choice(written)
        if rng.random() < FOREIGN_SHARE:
            region = rng.choice(FOREIGN_REGIONS)
        pairs.append((_mutate(text, rng), region))
    return list(dict.fromkeys(pairs))


DOMAIN_SEED = 5_4_0
DOMAIN_COUNT = 3_000
_HOST_LABELS = [
    "www", "WWW", "mail", "shop", "a", "sub-domain", "acme", "Acme", "example", "bücher",
    "BÜCHER", "xn--bcher-kva", "XN--BCHER-KVA", "gießen46ers", "xn--gieen46ers-73a", "食狮",
    "παράδειγμα", "ｅｘａｍｐｌｅ", "ﬁrm", "xn--0", "xn--tub-1m9d15sfkkhsifsbqygyujjrw60",
    "xn--zckzap6140b352by", "xn--&", "exa_mple", "-lead", "trail-", "ab--cd", "1", "123",
    "so-net", "мой", "\u200dzw", "e\u0301", "", "x" * 64,
]  # fmt: skip
_SUFFIXES = [
    "com", "COM", "co.uk", "de", "org", "xn--p1ai", "рф", "教育.hk", "xn--wcvs22d.hk", "ck",
    "www.ck", "blogspot.com", "github.io", "bizarre", "ｃｏｍ", "co.za", "za", "jp", "公司.cn",
]  # fmt: skip
_URL_WRAPPERS = [
    "{}", "{}", "{}", "http://{}", "https://{}/about", "HTTPS://{}:8443/x?y#z", "//{}",
    "ftp://user:pw@{}:21", "info@{}", "mailto:Sales@{}?subject=hi", "{}.", "{}\u3002", " {} ",
    "\thttp://{}", "http://{}:abc/", "a+-.://{}", "{}/path", "http://{}#frag",
]  # fmt: skip


def domain_inputs(count: int = DOMAIN_COUNT, seed: int = DOMAIN_SEED) -> list[str]:
    """`count` URLs, addresses and hosts: IDN and Punycode labels valid and not, Unicode full
    stops, case, schemes, userinfo, ports, paths, whitespace, IP addresses, bare suffixes."""
    rng = random.Random(seed)
    out: list[str] = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.05:
            host = ".".join(str(rng.randint(0, 300)) for _ in range(rng.choice([3, 4, 5])))
        elif roll < 0.1:
            host = rng.choice(_SUFFIXES)
        else:
            labels = [rng.choice(_HOST_LABELS) for _ in range(rng.randint(1, 3))]
            host = labels[0]
            for label in [*labels[1:], rng.choice(_SUFFIXES)]:
                host += rng.choice([".", ".", ".", ".", "\u3002", "\uff0e", "\uff61"]) + label
        out.append(rng.choice(_URL_WRAPPERS).format(host))
    return out
