"""Keys records are found by: an email, a registrable domain, a company name, a source id.

The same normalization is applied where a key is stored (the id map, filled from acknowledged
records and from Rally's list) and where it is looked up (a reference column), so
"WWW.Acme.com/about" finds the company loaded as acme.com, and "Nordwind Logistik" the company
"Nordwind Logistik GmbH". A name given as a Notion relation (``Acme (https://www.notion.so/...)``)
is compared by the page's title (`normalizers.relations`), so a contact's relation cell finds
the company its companies step named by that title.
"""

from __future__ import annotations

from typing import Literal

import polars as pl

from crmsync.transform.normalizers import is_free_mail, normalize_email, registrable_domain
from crmsync.transform.normalizers.company_names import first_name_of, no_company_to_null
from crmsync.transform.normalizers.names import blank_as_null
from crmsync.transform.normalizers.relations import relation_title

KeyKind = Literal["domain", "email", "email_domain", "name", "source_id"]

# Legal forms dropped from the end of a company name before comparing.
LEGAL_FORMS = (
    "inc",
    "incorporated",
    "corp",
    "corporation",
    "co",
    "company",
    "ltd",
    "limited",
    "llc",
    "llp",
    "lp",
    "plc",
    "gmbh",
    "ag",
    "kg",
    "ug",
    "sa",
    "sas",
    "sarl",
    "sl",
    "srl",
    "spa",
    "bv",
    "nv",
    "oy",
    "ab",
    "as",
    "aps",
    "sp z oo",
    "pty",
    "pte",
    "kk",
    "se",
)
_LEGAL_FORM_TAIL = (
    r"(?:[\s,&]+(?:"
    + "|".join(
        r"\s*".join(r"\.?".join(part) + r"\.?" for part in form.split()) for form in LEGAL_FORMS
    )
    + r"))+\s*$"
)


def name_key(expr: pl.Expr) -> pl.Expr:
    """A company name compared by its letters and digits, a leading "The" and the legal form
    dropped: "Globex, Inc." = "globex", "The Globex Company" = "globex" and "Wisła Software
    Sp. z o.o." = "wisłasoftware"; a cell of Notion relations is its first page's title, a
    cell of several names ("A;B") its first, and "Self-employed" no company."""
    named = first_name_of(no_company_to_null(relation_title(expr)))
    lowered = named.str.to_lowercase().str.strip_chars()
    lowered = lowered.str.replace(r"^the\s+(\S)", "$1")
    key = lowered.str.replace(_LEGAL_FORM_TAIL, "").str.replace_all(r"[^\p{L}\p{N}]+", "")
    return blank_as_null(key)


def normalize_key(values: pl.Series, kind: str) -> pl.Series:
    """The id-map form of one kind of key; null where the value holds no usable key. An email's
    domain is a company's only when it is no free-mail provider's."""
    text = values.cast(pl.String).str.strip_chars()
    frame = pl.DataFrame({"v": text})
    if kind == "email":
        return frame.select(normalize_email(pl.col("v"))).to_series()
    if kind == "name":
        return frame.select(name_key(pl.col("v"))).to_series()
    if kind == "source_id":
        return frame.select(pl.when(pl.col("v") != "").then(pl.col("v"))).to_series()
    domain = registrable_domain(text)
    if kind == "email_domain":
        mailbox = text.str.contains("@").fill_null(False)
        free = pl.DataFrame({"d": domain}).select(is_free_mail(pl.col("d"))).to_series()
        return (
            pl.DataFrame({"d": domain, "ok": mailbox & ~free.fill_null(False)})
            .select(pl.when(pl.col("ok")).then(pl.col("d")))
            .to_series()
        )
    return domain
