"""The pieces of a suggestion, shared by the code that builds, counts and renders it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from crmsync.schema import OBJECTS
from crmsync.starter import values as v
from crmsync.starter.regions import RegionGuess
from crmsync.starter.vocab import Product

if TYPE_CHECKING:  # the companies step's module reads these models
    from crmsync.starter.companies import CompaniesStep

MappingValue = str | list[str] | dict[str, Any]
NOT_READ = RegionGuess(None, "the file was not read")


def rally_fields(object_name: str) -> dict[str, bool]:
    """Wire name -> required, for the object's create model: what a mapping may fill."""
    return dict(OBJECTS[object_name].wire_fields)


def split_targets(object_name: str) -> dict[str, tuple[str, ...]]:
    """Mapping targets that fill other fields: a full name split into first and last name."""
    return dict(OBJECTS[object_name].split_fields)


@dataclass(frozen=True)
class Mapped:
    """One suggested mapping line: the YAML value, its reason, and notes to print above it."""

    field: str
    value: MappingValue
    why: str
    notes: tuple[str, ...] = ()

    @property
    def columns(self) -> list[str]:
        if isinstance(self.value, str):
            return [self.value]
        if isinstance(self.value, list):
            return list(self.value)
        column = self.value.get("column")
        return [column] if isinstance(column, str) else list(column or [])


@dataclass(frozen=True)
class Left:
    """A column left unmapped, and why (empty when nothing is known about it)."""

    column: str
    why: str


@dataclass(frozen=True)
class Table:
    """What init knows of the source: its columns and, when read, its rows."""

    columns: list[str]
    frame: pl.DataFrame | None = None
    renamed: tuple[tuple[str, str], ...] = ()
    row_word: str = "line"  # what a row's `_row` counts: a line of the file, or a record
    _filled: dict[str, list[str]] = field(default_factory=dict, compare=False, repr=False)

    def values(self, column: str) -> list[str]:
        """The column's non-empty values, stripped (none when the file was not read)."""
        if self.frame is None or column not in self.frame.columns:
            return []
        if column not in self._filled:
            self._filled[column] = v.filled(self.frame[column])
        return self._filled[column]

    @property
    def rows(self) -> int:
        return 0 if self.frame is None else self.frame.height


@dataclass(frozen=True)
class Suggestion:
    """Everything the starter file says about the mapping."""

    object_name: str
    product: Product | None
    fields: tuple[Mapped, ...]
    left: tuple[Left, ...]
    missing_required: tuple[str, ...]
    source_id: Mapped | None = None
    region: RegionGuess = NOT_READ
    notes: tuple[str, ...] = ()  # about the file as a whole
    hints: tuple[str, ...] = ()  # about rows that will fail
    keyless: int = 0  # rows without the object's match key, where it is not required
    names_offer: str = ""  # what normalize.names_from_email would do; empty: nothing
    formats: tuple[tuple[str, str], ...] = ()  # normalize settings the values call for
    companies: CompaniesStep | None = None  # the step before, when rows name their company

    @property
    def mapping(self) -> dict[str, str | list[str]]:
        """Rally field -> its column, or its columns in order."""
        out: dict[str, str | list[str]] = {}
        for item in self.fields:
            columns = item.columns
            out[item.field] = columns[0] if len(columns) == 1 else columns
        return out

    @property
    def by_label(self) -> frozenset[str]:
        """The fields whose column each row's labels choose (Google's phones)."""
        return frozenset(
            item.field
            for item in self.fields
            if isinstance(item.value, dict) and "label" in item.value
        )

    @property
    def unmapped_columns(self) -> list[str]:
        return [item.column for item in self.left]
