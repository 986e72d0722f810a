"""Looking at a column's values before suggesting it: a header says what a column is meant to
hold, its values say what it holds.

An Outlook ``Title`` holds "Mr." and "Dr.", not job titles; Mailchimp's ``MEMBER_RATING`` is
1 to 5, not Rally's 0-100 lead score; Mailchimp's ``REGION`` holds "14" and "tg", not states;
Google's groups are ``* myContacts ::: Friends``, which would arrive as one odd tag. ``veto``
says why a column must not fill a field; the counters feed the comments of the starter file.
"""

from __future__ import annotations

import re
from collections import Counter

import polars as pl

from crmsync.schema import RallyObject
from crmsync.starter.vocab_localized import GERMAN_STAGES
from crmsync.transform.mapping import GOOGLE_PRIMARY
from crmsync.transform.normalizers.tags import JSON_ARRAY, QUOTED_TAGS
from crmsync.transform.placeholders import NO_VALUE_WORDS
from crmsync.transform.spec import Kind, spec_by_wire

HONORIFICS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "dr",
        "prof",
        "sir",
        "madam",
        "mme",
        "mlle",
        "m",
        "herr",
        "frau",
        "sr",
        "sra",
        "srta",
        "dott",
        "ing",
    ]
)
HONORIFIC_SHARE = 0.5
PLACEHOLDERS = NO_VALUE_WORDS  # read as empty by crmsync run, so counted as empty here
GOOGLE_SEPARATOR = " ::: "
GOOGLE_SYSTEM_GROUP = "myContacts"
REGION_CODE_SHARE = 0.2
RATING_MAX = 5
SCORE_MAX = 100
EXAMPLES = 3
LIFECYCLE_STAGES = frozenset(
    {
        "subscriber",
        "lead",
        "marketing qualified lead",
        "sales qualified lead",
        "mql",
        "sql",
        "prospect",
        "opportunity",
        "customer",
        "evangelist",
        "churned",
        "former customer",
        "other",
    }
    | PLACEHOLDERS
    | GERMAN_STAGES.keys()  # translated by a values: map (stage_values)
)
STAGE_SHARE = 0.6

_EMAIL = re.compile(r"^[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+$")
_MANY_EMAILS = re.compile(r"@[^@]*[;,]|@.* ::: ")
_INTEGER = re.compile(r"^\s*[+-]?\d+(?:\.0+)?\s*$")
_REGION_CODE = re.compile(r"^(?:\d+|[a-z]{1,3})$")

_JSON_ARRAY = re.compile(JSON_ARRAY)
_QUOTED_TAGS = re.compile(QUOTED_TAGS)  # "VIP","Customer": read without the quotes


def filled(series: pl.Series | None) -> list[str]:
    """The column's values with content, stripped (an absent column has none)."""
    if series is None:
        return []
    values = series.cast(pl.String).drop_nulls().str.strip_chars()
    return values.filter(values.str.len_bytes() > 0).to_list()


def _honorific(value: str) -> bool:
    return value.casefold().rstrip(".").strip() in HONORIFICS


MIN_PHONE_DIGITS = 5  # fewer is no phone number (an SMS opt-in's "yes", an extension)
JSON_OBJECTS = "holds JSON objects: each of their members is a column of its own (name.member)"


def json_objects(values: list[str]) -> bool:
    """Whether a column's values are JSON objects (a JSON record's nested object, as text)."""
    return bool(values) and all(v.startswith("{") and v.endswith("}") for v in values)


def veto(target: str, values: list[str]) -> str | None:
    """Why these values must not fill ``target``, or None when nothing speaks against it."""
    if not values:
        return None
    if target in ("phone", "mobile"):
        dialled = [v for v in values if sum(c.isdigit() for c in v) >= MIN_PHONE_DIGITS]
        if len(dialled) * 2 < len(values):
            return f"holds values that are not phone numbers ({examples(Counter(values))})"
    if target == "linkedInUrl":
        sites = [v for v in values if "linkedin." not in v.casefold()]
        if len(sites) * 2 > len(values):
            return f"holds web addresses that are not LinkedIn profiles ({sites[0]})"
    if target == "title":
        found = Counter(v for v in values if _honorific(v))
        if sum(found.values()) >= HONORIFIC_SHARE * len(values):
            return f"holds honorifics ({examples(found)}), not job titles"
    if target == "leadScore":
        if not all(_INTEGER.match(v) for v in values):
            return "holds values that are not whole numbers, not a 0-100 score"
        numbers = [float(v) for v in values]
        if max(numbers) <= RATING_MAX:
            return f"a {int(min(numbers))}-{int(max(numbers))} scale, not a 0-100 score"
        if max(numbers) > SCORE_MAX or min(numbers) < 0:
            return "holds values outside 0-100"
    if target == "state":
        codes = [v for v in values if _REGION_CODE.match(v)]
        if len(codes) >= REGION_CODE_SHARE * len(values):
            return f"holds region codes ({examples(Counter(codes))}), not states"
    if target == "lifecycleStage":
        stages = [value for value in values if value.casefold() in LIFECYCLE_STAGES]
        if len(stages) < STAGE_SHARE * len(values):
            others = Counter(value for value in values if value.casefold() not in LIFECYCLE_STAGES)
            return f"holds statuses ({examples(others)}), not lifecycle stages"
    if target == "tags":
        if any(GOOGLE_SEPARATOR in v or v.startswith(GOOGLE_PRIMARY) for v in values):
            return (
                'holds Google groups ("* myContacts ::: Friends"): " ::: " is not a tag '
                "separator and * myContacts is a system group"
            )
        groups = [v for v in values if GOOGLE_SYSTEM_GROUP in re.split(r"\s*;\s*", v)]
        if groups:  # Google's "Outlook CSV" writes its groups as Outlook's categories
            return (
                f'holds Google groups ({groups[0]}): "{GOOGLE_SYSTEM_GROUP}" is a system '
                "group every contact is in, so the cell is not sent as tags"
            )
        # a JSON array of strings (["a","b"], how a JSON export holds a list) is read as
        # its items; quotes anywhere else would become part of a tag
        quoted = [
            v for v in values if '"' in v and not _JSON_ARRAY.match(v) and not _QUOTED_TAGS.match(v)
        ]
        if quoted:
            return f"holds quoted tags ({quoted[0]}): the quotes would become part of each tag"
    return None


def examples(found: Counter[str]) -> str:
    """'Mr. 12, Ms. 8, Dr. 3': the commonest values with their counts."""
    return ", ".join(f"{value} {count}" for value, count in found.most_common(EXAMPLES))


def placeholder_count(values: list[str]) -> tuple[int, Counter[str]]:
    """Cells that say "no value" in words (n/a, null, -): crmsync run reads them as empty."""
    found = Counter(v for v in values if v.casefold() in PLACEHOLDERS)
    return sum(found.values()), found


def email_problems(values: list[str]) -> tuple[int, int, str | None]:
    """(cells holding several addresses, other cells that are no address, an example of those)."""
    several = [v for v in values if _MANY_EMAILS.search(v)]
    other = [
        v
        for v in values
        if not _EMAIL.match(v) and not _MANY_EMAILS.search(v) and v.casefold() not in PLACEHOLDERS
    ]
    return len(several), len(other), (other[0] if other else None)


def multi_value_count(values: list[str]) -> int:
    """Cells holding several values Google's way (``a ::: b``)."""
    return sum(1 for v in values if GOOGLE_SEPARATOR in v)


def unique_ids(values: list[str], rows: int) -> bool:
    """An id column fit for ``source_id``: on most rows, never twice."""
    return bool(values) and len(set(values)) == len(values) and len(values) * 2 >= rows


MOBILE_LABELS = ("mobile", "cell", "mobil", "handy", "iphone")  # a phone label's words for one


def labels_seen(labels: list[str]) -> Counter[str]:
    """A phone slot's labels, without Google's primary mark, and how often each is seen."""
    return Counter(label.removeprefix(GOOGLE_PRIMARY).strip() for label in labels)


NUMBER_KINDS = frozenset({Kind.INTEGER, Kind.DECIMAL})
# A comma before decimals, unmistakably: dots grouping thousands before it (1.234,56), one or
# two digits after it (12,5), four or more (1,2345), or a zero before it (0,750). "1,200" is
# no evidence: it is as much twelve hundred with a thousands comma.
_DECIMAL_COMMA = re.compile(r"^-?\d{1,3}(?:\.\d{3})+,\d+$|^-?\d+,\d{1,2}$|^-?\d+,\d{4,}$|^-?0,\d+$")
# A point before decimals: one, two or four or more digits after it (45.00, 0.5), or commas
# grouping thousands before it (1,234.5), or commas grouping more than once (45,000,000).
_DECIMAL_POINT = re.compile(
    r"^-?\d+\.(?:\d{1,2}|\d{4,})$|^-?\d{1,3}(?:,\d{3})+\.\d+$|^-?\d{1,3}(?:,\d{3}){2,}$"
)
_NOT_NUMERAL = re.compile(r"[^\d.,-]+")  # currency signs and codes, spaces, units
_DATE_PARTS = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-]\d{2,4}")


def formats(values_of: dict[str, list[str]], obj: RallyObject) -> list[tuple[str, str]]:
    """The normalize settings the values mapped to `obj`'s fields call for, with why: (key,
    reason). Numbers (by the field's kind) written 1.234,50 or 12,5 and none 1,234.50 or 45.00
    (an ambiguous 1,200 counts for neither): decimal_comma; times whose first part exceeds 12
    and none whose second does: day_first."""
    kinds = {wire: spec.kind for wire, spec in spec_by_wire(obj.create).items()}
    numbers = [v for field, vs in values_of.items() if kinds.get(field) in NUMBER_KINDS for v in vs]
    dates = [v for field, vs in values_of.items() if kinds.get(field) is Kind.DATETIME for v in vs]
    found = []
    bare = [(v, _NOT_NUMERAL.sub("", v)) for v in numbers]
    commas = [v for v, number in bare if _DECIMAL_COMMA.match(number)]
    points = [v for v, number in bare if _DECIMAL_POINT.match(number)]
    if commas and not points:
        found.append(("decimal_comma", f"numbers are written {commas[0]}: a comma before decimals"))
    parts = [m.groups() for m in map(_DATE_PARTS.match, dates) if m]
    if any(int(a) > 12 for a, _ in parts) and not any(int(b) > 12 for _, b in parts):
        found.append(("day_first", f"dates are written day first ({dates[0]})"))
    return found
