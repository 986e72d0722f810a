"""Seeded generators of awkward inputs for the oracle tests: the same inputs on every run.

Each generator mixes the shapes people send with the corners the libraries have rules for,
so the fast paths meet every rule they claim to replay.
"""

from __future__ import annotations

import random
import unicodedata

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
    "Name <{}>", "<{}>", '"{}"', "{}.", ".{}", "{}>",
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
