"""The three-way merge of one record crmsync updates: what it last wrote (base), what Rally
holds now (theirs), what the source says now (ours), field by field.

    ours == base                      untouched: a person's edit stays
    ours changed, theirs == base      ours is written                       "source changed"
    ours changed, theirs changed      a conflict: on_conflict decides       "conflict kept" /
                                                                            "conflict overwritten"
    ours == theirs                    nothing to write (they agree)
    ours empty, theirs not            kept (blank: keep) or cleared (blank: clear)
    update: if_empty                  written only where Rally's field is empty "filled blank"
    update: never                     only ever written when the record is created

A field Rally's API does not return cannot show a person's edit: its `theirs` is what crmsync
last wrote; when crmsync never wrote it, it is no reason to write the record, but a record
written anyway carries the source's value there. The record sent is Rally's record with only
the written fields changed, so fields the pipeline does not map are never touched, whatever
the update semantics of the API.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from crmsync.load.reconcile import normalize

Why = Literal["new", "source changed", "filled blank", "conflict kept", "conflict overwritten"]
NEW: Why = "new"


@dataclass(frozen=True)
class FieldPolicy:
    """How updates treat one field (creation always writes what the source says)."""

    update: Literal["always", "if_empty", "never"] = "always"
    blank: Literal["keep", "clear"] = "keep"
    on_conflict: Literal["crm", "source"] = "crm"
    on_update: bool = True  # False for a default or constant meant for new records only


@dataclass(frozen=True)
class Change:
    """One field a write changes (or, for a kept conflict, would have)."""

    field: str
    before: Any  # Rally's value (None for a new record)
    after: Any  # the value written (Rally's, kept, for a kept conflict)
    why: Why
    base: Any = None  # what crmsync last wrote, for a conflict's report
    source: Any = None  # the source's value, for a conflict's report


@dataclass(frozen=True)
class Merged:
    """The outcome of merging one record."""

    changes: tuple[Change, ...]
    record: dict[str, Any]  # the full record to send, when anything is written
    written: dict[str, Any]  # what crmsync has now written per field: next time's base
    base: dict[str, Any] | None = None  # what crmsync had written before (None: nothing)

    @property
    def writes(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.why != "conflict kept")

    @property
    def conflicts(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.why.startswith("conflict"))


def empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def same(a: Any, b: Any, name: str) -> bool:
    """Equal as Rally stores them (case of keys, number types, time formats, a list of texts
    sent as one text of comma-separated items); all empties are one."""
    if empty(a) or empty(b):
        return empty(a) and empty(b)
    return bool(normalize(_items(a, b), name) == normalize(_items(b, a), name))


def _items(value: Any, other: Any) -> Any:
    """`value`, as the list of texts `other` is when `value` is its comma-separated text: a
    contact's tags are sent as "vip, smb", and a Rally may answer ["vip", "smb"] (undo took
    every tagged contact for one a person had edited)."""
    texts = isinstance(other, list) and all(isinstance(item, str) for item in other)
    if isinstance(value, str) and texts:
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def merge(
    ours: Mapping[str, Any],
    base: Mapping[str, Any] | None,
    theirs: Mapping[str, Any],
    *,
    writable: Collection[str],
    readable: Collection[str],
    policies: Mapping[str, FieldPolicy] = {},
    defaulted: Collection[str] = (),
) -> Merged:
    """Merge one record. `ours` holds the mapped fields (None where the source is empty);
    `base` what crmsync last wrote (None: it never wrote this record); `theirs` Rally's record;
    `writable` the fields an update may carry; `readable` those Rally's answers show;
    `defaulted` the fields whose value came from a default or constant on this row."""
    known = dict(base or {})
    changes: list[Change] = []
    written = dict(known)
    record = {name: theirs.get(name) for name in writable if name in theirs}
    for name in writable:  # what Rally does not show: as crmsync last wrote it
        if name not in readable and name in known:
            record[name] = known[name]
    blind: list[Change] = []  # fields Rally cannot show and crmsync never wrote
    for name, value in ours.items():
        policy = policies.get(name, FieldPolicy())
        if name not in readable and name not in known:
            if not (
                empty(value) or policy.update == "never" or _create_only(name, policy, defaulted)
            ):
                blind.append(Change(name, None, value, "source changed"))
            continue
        was = known.get(name)
        now = theirs.get(name) if name in readable else was
        change = _field(name, value, was, now, policy, name in defaulted, base is None)
        if change is None:
            if same(value, now, name):
                written[name] = value  # they agree: as good as written by crmsync
            continue
        changes.append(change)
        if change.why != "conflict kept":
            record[name] = change.after
            written[name] = change.after
    # What Rally holds in a field it cannot show is unknown: never a reason to write, but a
    # record that is written carries the source's value there (left out, it would be wiped).
    if blind and any(c.why != "conflict kept" for c in changes):
        changes += blind
        record.update({c.field: c.after for c in blind})
        written.update({c.field: c.after for c in blind})
    return Merged(tuple(changes), record, written, None if base is None else dict(base))


def _create_only(name: str, policy: FieldPolicy, defaulted: Collection[str]) -> bool:
    return name in defaulted and not policy.on_update


def _field(
    name: str,
    ours: Any,
    base: Any,
    theirs: Any,
    policy: FieldPolicy,
    defaulted: bool,
    never_written: bool,
) -> Change | None:
    """The change one field gets, if any."""
    if policy.update == "never" or (defaulted and not policy.on_update):
        return None
    if empty(ours) and (policy.blank == "keep" or empty(theirs)):
        return None
    if same(ours, theirs, name):
        return None
    if not never_written and same(ours, base, name):
        return None  # the source did not change it: whatever Rally holds stays
    if policy.update == "if_empty":
        return Change(name, theirs, ours, "filled blank", base) if empty(theirs) else None
    if never_written and empty(theirs):
        return Change(name, theirs, ours, "filled blank", base)
    if same(theirs, base, name):
        return Change(name, theirs, ours, "source changed", base)
    if policy.on_conflict == "source":
        return Change(name, theirs, ours, "conflict overwritten", base, ours)
    return Change(name, theirs, theirs, "conflict kept", base, ours)


def written_fields(ours: Mapping[str, Any]) -> dict[str, Any]:
    """The fields a record written whole sets: those with a value."""
    return {name: value for name, value in ours.items() if not empty(value)}


def created(ours: Mapping[str, Any]) -> Merged:
    """A record written whole: every field it carries is new."""
    values = written_fields(ours)
    changes = tuple(Change(name, None, value, NEW) for name, value in values.items())
    return Merged(changes, dict(values), dict(values))
