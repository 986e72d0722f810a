"""Google's numbered phones (``Phone 1 - Value`` with its ``Phone 1 - Type`` or, in today's
"Google CSV", ``Phone 1 - Label``): the type column of each slot says which is the mobile.

A mapping picks columns, not cells by their label, so a slot's type decides per column: a slot
typed Mobile on most rows is the mobile; every other slot is a phone, Phone 1 (Google's
primary) first and the later ones read where it is empty, so a row's only number is never left
behind. A slot whose type varies is said, with a template that keeps every number's type.
"""

from __future__ import annotations

from crmsync.starter import values as v
from crmsync.starter.builder import Builder, Slot
from crmsync.starter.model import Mapped

MAX_PHONE_SLOTS = 9
NEWLINE_ESCAPE = "\\n"  # a line break inside a double-quoted YAML string
PHONE_KINDS = ("phone", "mixed")


def phone_slots(build: Builder) -> None:
    """Claim Google's phone slots: the mobile by its type, the others as the phone in order."""
    slots: list[Slot] = []
    for n in range(1, MAX_PHONE_SLOTS + 1):
        value = build.column(f"Phone {n} - Value")
        types = build.column(f"Phone {n} - Type") or build.column(f"Phone {n} - Label")
        if value is None or types is None:
            break
        slots.append(Slot(value, types, *v.phone_kind(build.table.values(types))))
    mobile = next((slot for slot in slots if slot.kind == "mobile"), None)
    if mobile:
        build.put("mobile", mobile.value, f"its type column says {v.examples(mobile.seen)}")
    phones = [slot for slot in slots if slot.kind in PHONE_KINDS]
    if phones:
        first = phones[0]
        said = f"its type column says {v.examples(first.seen)}"
        build.put("phone", first.value, said if first.kind == "phone" else "the first phone")
        for later in phones[1:]:
            build.add_fallback("phone", later.value, f"the next phone ({v.examples(later.seen)})")
        mixed = next((slot for slot in phones if slot.kind == "mixed"), None)
        if mixed:
            build.typed_phones = (mixed, slots)
    for slot in slots:
        if slot.value not in build.used:
            why = f"another phone ({v.examples(slot.seen)}); Rally has one phone and one mobile"
            build.claim(slot.value, why)


def types_vary(build: Builder) -> None:
    """A phone slot mapped whatever its type: say so, and how to keep every type."""
    if build.typed_phones is None:
        return
    mixed, slots = build.typed_phones
    parts = [f"{{{slot.types}}}: {{{slot.value}}}" for slot in slots]
    notes = build.fields.get("notes")
    if notes and isinstance(notes.value, str):
        parts.insert(0, f"{{{notes.value}}}")
    template = NEWLINE_ESCAPE.join(parts)
    note = (
        f'"{mixed.types}" varies ({v.examples(mixed.seen)}): phone gets its number whatever '
        "its type (a mapping takes columns, not numbers by their label). To keep every number "
        f'with its type instead, in the notes:\n  notes: {{template: "{template}"}}'
    )
    phone = build.fields["phone"]
    build.fields["phone"] = Mapped(phone.field, phone.value, phone.why, (*phone.notes, note))
