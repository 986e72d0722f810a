"""The state of one suggestion while its columns are claimed, shared by the steps that claim
them (the vocabularies in ``suggest``, Google's phone slots in ``phones``, the full name in
``full_name``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from crmsync.extract.json_members import field_member
from crmsync.starter.model import Mapped, MappingValue, Table
from crmsync.starter.vocab import COMPANY_PART, Product
from crmsync.transform.mapping import header_key

CUSTOM_FIELD = "cf:"


@dataclass(frozen=True)
class Slot:
    """One of Google's numbered phones: its value column, its label column, the labels seen."""

    value: str
    types: str
    seen: Counter[str]


class Builder:
    """The state of one suggestion while columns are claimed."""

    def __init__(self, table: Table, object_name: str, product: Product | None) -> None:
        self.table = table
        self.object_name = object_name
        self.product = product
        self.by_key: dict[str, str] = {}
        for column in table.columns:
            self.by_key.setdefault(header_key(column), column)
        for column in table.columns:  # Redmine's custom fields go by their own names too
            if column.startswith(CUSTOM_FIELD):
                self.by_key.setdefault(header_key(column.removeprefix(CUSTOM_FIELD)), column)
        for column in table.columns:  # a field nested in an API's record by its own name
            if member := field_member(column):
                self.by_key.setdefault(header_key(member), column)
        self.fields: dict[str, Mapped] = {}
        self.left: dict[str, str] = {}
        self.used: set[str] = set()
        self.source_id: Mapped | None = None
        self.companies: list[str] = []  # columns naming the contact's company
        self.company_parts: list[str] = []  # the company's own columns (website, billing)

    def column(self, header: str) -> str | None:
        found = self.by_key.get(header_key(header))
        return None if found is None or found in self.used else found

    def claim(self, column: str, why: str) -> None:
        self.used.add(column)
        if why:
            self.left[column] = why
        if COMPANY_PART in why:
            self.company_parts.append(column)

    def put(self, target: str, column: str, why: str, notes: tuple[str, ...] = ()) -> None:
        self.used.add(column)
        self.left.pop(column, None)
        self.fields[target] = Mapped(target, column, why, notes)

    def put_value(self, target: str, value: MappingValue, columns: list[str], why: str) -> None:
        """A mapping that is more than a column (a dict of its settings), reading `columns`."""
        for column in columns:
            self.used.add(column)
            self.left.pop(column, None)
        self.fields[target] = Mapped(target, value, why)

    def add_fallback(self, target: str, column: str, why: str) -> None:
        first = self.fields[target]
        columns = [*first.columns, column]
        note = f'where "{first.columns[0]}" is empty, {why.rstrip(".")} ("{column}")'
        self.fields[target] = Mapped(target, columns, first.why, (*first.notes, note))
        self.used.add(column)
