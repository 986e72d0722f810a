"""The `mapping:` section: where each Rally field's value comes from, and reference lookups."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from crmsync.config.base import Section, read_text_file
from crmsync.errors import ConfigError
from crmsync.transform.mapping import ByLabel, FieldRule, label_key, template_columns

LookupKind = Literal["domain", "email", "email_domain", "name", "source_id"]
KEY_OPTIONS = ("separator",)  # a lookup key's settings beside its kind and column


class LookupKey(Section):
    """One way to find the referenced record: a kind of key and the column holding it."""

    kind: LookupKind = Field(description="domain, email, email_domain, name or source_id.")
    column: str = Field(description="Source column holding the key.")
    separator: str | None = Field(
        default=None,
        min_length=1,
        description="The column's cells may hold several keys separated by this (HubSpot's "
        'Associated Company IDs, "1234;5678"): the first is looked up, the others left out.',
    )


class Lookup(Section):
    """A reference field (companyId, contactId) resolved to a Rally id through the id map."""

    object: Literal["companies", "contacts"] = Field(description="Object the id points at.")
    by: list[LookupKey] = Field(
        min_length=1, description="Keys tried in order; the first that resolves wins."
    )
    on_missing: Literal["fail", "warn", "null"] = Field(
        default="fail",
        description="A key that resolves to nothing: fail the row (stage resolve), load it "
        "with the field empty and a warning, or load it with the field empty.",
    )

    @field_validator("by", mode="before")
    @classmethod
    def _pairs(cls, value: Any) -> Any:
        """`by: [{domain: Website}, {name: Company}]` is short for kind/column objects, and
        `{source_id: Company IDs, separator: ";"}` for one with its separator."""
        if not isinstance(value, list):
            return value
        out = []
        for item in value:
            pairs = dict(item) if isinstance(item, dict) and "kind" not in item else {}
            options = {name: pairs.pop(name) for name in KEY_OPTIONS if name in pairs}
            if len(pairs) == 1:
                ((kind, column),) = pairs.items()
                out.append({"kind": kind, "column": column, **options})
            else:
                out.append(item)
        return out


class FieldMapping(Section):
    """Where one Rally field's value comes from."""

    column: str | list[str] | None = Field(
        default=None,
        description="Source column (case, spaces ignored); a list: the first non-empty one.",
    )
    template: str | None = Field(
        default=None,
        description='Text with {column} placeholders, e.g. "{first_name} {middle_name}"; '
        "empty placeholders drop out.",
    )
    constant: str | int | float | bool | None = Field(
        default=None, description="The same value on every record."
    )
    default: str | int | float | bool | None = Field(
        default=None, description="Value used where the column is empty."
    )
    values: dict[str, str] | None = Field(
        default=None, description="Translate values (matched ignoring case), e.g. {'1': call}."
    )
    values_file: Path | None = Field(
        default=None,
        description="CSV of two columns (source value, Rally value) that translates values, "
        "e.g. Redmine user ids to Rally owner ids.",
    )
    unmatched: Literal["keep", "null"] = Field(
        default="keep",
        description="A value the translation does not list: keep it as is, or leave it empty.",
    )
    lookup: Lookup | None = Field(
        default=None, description="Resolve a Rally id from another object's key."
    )
    on: Literal["create", "always"] = Field(
        default="create",
        description="When a default or constant applies: when the record is created, so a "
        "nightly sync never resets what people moved (create), or on every update too.",
    )
    update: Literal["always", "if_empty", "never"] = Field(
        default="always",
        description="When an update may write the field: whenever the source changed it, only "
        "where Rally's value is empty, or never (set once, at creation).",
    )
    blank: Literal["keep", "clear"] | None = Field(
        default=None,
        description="An empty source value against a value in Rally: keep Rally's, or clear "
        "it (default: the step's sync.blank).",
    )
    on_conflict: Literal["crm", "source"] | None = Field(
        default=None,
        description="Source and Rally both changed the field since crmsync last wrote it: keep "
        "what people typed in the CRM, or write the source's (default: the step's "
        "sync.on_conflict).",
    )
    optional: bool = Field(
        default=False,
        description="The column may be missing from the source: the field then takes its "
        "default, or stays empty, with one warning (a column with a default is optional too).",
    )
    label: list[str] | None = Field(
        default=None,
        description="One label column per column (Google's Phone 1 - Label beside Phone 1 - "
        "Value): each row takes the first column whose label `labels` names, or that "
        "`labels_not` does not.",
    )
    labels: list[str] | None = Field(
        default=None,
        description="With label: the labels to take (e.g. [mobile, cell]), matched ignoring "
        'case and Google\'s "* " mark of the primary one.',
    )
    labels_not: list[str] | None = Field(
        default=None,
        description="With label: the labels to pass over (e.g. [mobile, fax]); a blank label "
        "is taken.",
    )

    @field_validator("constant", "default")
    @classmethod
    def _finite(cls, value: Any) -> Any:
        """.nan and .inf are YAML floats no JSON can carry (Rally would get 'NaN')."""
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"must be a finite number, not {value!r}")
        return value

    @model_validator(mode="after")
    def _one_origin(self) -> FieldMapping:
        origins = [x for x in (self.column, self.template, self.constant, self.lookup) if x]
        if len(origins) > 1:
            raise ValueError("give one of column, template, constant or lookup, not several")
        if not origins and self.default is None:
            raise ValueError("give a column, a template, a constant, a lookup or a default")
        if self.lookup is not None and self.default is not None:
            raise ValueError("a lookup takes no default (use on_missing: null)")
        if (self.values or self.values_file) and not (self.column or self.template):
            raise ValueError("values and values_file translate a column or a template")
        if self.optional and not (self.column or self.template):
            raise ValueError("optional says a column may be missing: give a column or template")
        self._check_labels()
        return self

    def _check_labels(self) -> None:
        """label pairs a label column with each column, and one of labels or labels_not
        says which to take."""
        chooses = [x for x in (self.labels, self.labels_not) if x is not None]
        if self.label is None:
            if chooses:
                raise ValueError("labels and labels_not choose by label: give the label columns")
            return
        values = self.column if isinstance(self.column, list) else [self.column]
        if not self.column or len(values) != len(self.label):
            raise ValueError("label gives one label column per column: as many of each")
        if len(chooses) != 1 or not chooses[0]:
            raise ValueError("with label, give labels (the ones to take) or labels_not")

    @property
    def may_be_absent(self) -> bool:
        """A source without this field's columns is no reason to stop: it is optional, or
        its default stands in for the missing column."""
        return bool(self.column or self.template) and (self.optional or self.default is not None)

    @property
    def columns(self) -> list[str]:
        """Every source column this field reads (its label columns after its columns)."""
        if isinstance(self.column, list):
            return [*self.column, *(self.label or [])]
        if self.column:
            return [self.column, *(self.label or [])]
        if self.template:
            return template_columns(self.template)
        return []

    def rule(self, base_dir: Path) -> FieldRule:
        """The projection's rule, with `values_file` (relative to `base_dir`) read in."""
        values: dict[str, str] = {}
        if self.values_file is not None:
            path = (
                self.values_file if self.values_file.is_absolute() else base_dir / self.values_file
            )
            values.update(load_values_file(path))
        values.update(self.values or {})
        return FieldRule(
            columns=tuple(self.columns),
            template=self.template,
            constant=_text(self.constant),
            default=_text(self.default),
            values=values,
            keep_unmatched=self.unmatched == "keep",
            mark_default=self.on == "create",
            by_label=self._by_label(),
        )

    def _by_label(self) -> ByLabel | None:
        if self.label is None:
            return None
        chosen = self.labels if self.labels is not None else self.labels_not
        return ByLabel(frozenset(label_key(x) for x in chosen or ()), take=self.labels is not None)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def mapping_shorthand(value: Any) -> Any:
    """`email: E-mail Address` is short for `email: {column: E-mail Address}`; a list of
    columns likewise."""
    if isinstance(value, str | list):
        return {"column": value}
    return value


def load_values_file(path: Path) -> dict[str, str]:
    """A two-column CSV (source value, Rally value) with a header row, as a dict."""
    text = read_text_file(path, what="values file").removeprefix("\ufeff")
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ConfigError(f"not a readable CSV: {exc}", file=str(path)) from None
    values = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < 2 or not row[0].strip():
            raise ConfigError(
                f"line {line}: expected two columns: source value, Rally value", file=str(path)
            )
        values[row[0].strip()] = row[1].strip()
    return values
