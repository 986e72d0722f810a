"""Google's numbered phones (``Phone 1 - Value`` with its ``Phone 1 - Type`` or, in today's
"Google CSV", ``Phone 1 - Label``): the label beside each number says which is the mobile.

A label varies from contact to contact (Phone 1 is the first number a person typed: a mobile
for one, a work number for the next), so the mapping chooses by label, row by row: the mobile
is the first number labelled a mobile, the phone the first labelled neither a mobile nor a fax
or pager (an unlabelled number is a phone), Phone 1 (Google's primary) first. Slots whose type
columns are empty throughout are read in order: the phone is the first number a row has.
"""

from __future__ import annotations

from collections import Counter

from crmsync.starter import values as v
from crmsync.starter.builder import Builder, Slot
from crmsync.starter.model import MappingValue

MAX_PHONE_SLOTS = 9
NOT_A_PHONE = ("fax", "pager")  # words of the labels of numbers no phone should be


def phone_slots(build: Builder) -> None:
    """Claim Google's phone slots: the mobile and the phone chosen by each row's labels."""
    slots: list[Slot] = []
    for n in range(1, MAX_PHONE_SLOTS + 1):
        value = build.column(f"Phone {n} - Value")
        types = build.column(f"Phone {n} - Type") or build.column(f"Phone {n} - Label")
        if value is None or types is None:
            break
        slots.append(Slot(value, types, v.labels_seen(build.table.values(types))))
    if not slots:
        return
    if not any(slot.seen for slot in slots):  # no labels at all: the numbers in order
        build.put("phone", slots[0].value, "the first phone")
        for later in slots[1:]:
            build.add_fallback("phone", later.value, "the next phone")
        return
    _by_label(build, slots)


def _by_label(build: Builder, slots: list[Slot]) -> None:
    """The mobile and the phone, each the first number of a row whose label says so."""
    values = [slot.value for slot in slots]
    labels = [slot.types for slot in slots]
    seen: Counter[str] = sum((slot.seen for slot in slots), start=Counter())
    said = v.examples(seen)
    columns = [*values, *labels]
    if any(label.casefold() in v.MOBILE_LABELS for label in seen):
        mobile: MappingValue = {"column": values, "label": labels, "labels": list(v.MOBILE_LABELS)}
        build.put_value("mobile", mobile, columns, f"the first number labelled a mobile ({said})")
    passed = sorted(
        {
            *v.MOBILE_LABELS,
            *(x.casefold() for x in seen if any(w in x.casefold() for w in NOT_A_PHONE)),
        }
    )
    phone: MappingValue = {"column": values, "label": labels, "labels_not": passed}
    why = "the first number labelled neither a mobile nor a fax or pager, row by row"
    build.put_value("phone", phone, columns, why)
