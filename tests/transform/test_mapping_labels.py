"""A field read from the first of its columns whose label says so: Google's numbered phones,
whose label (Mobile, Work, Home) varies from contact to contact."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from pydantic import ValidationError

from crmsync.config.mapping import FieldMapping
from crmsync.transform.mapping import apply_mapping, resolve_columns

VALUES = ["Phone 1 - Value", "Phone 2 - Value", "Phone 3 - Value"]
LABELS = ["Phone 1 - Label", "Phone 2 - Label", "Phone 3 - Label"]


def _google() -> pl.DataFrame:
    rows = [
        # (labels, values) of three slots per contact
        (("* Mobile", "Work", None), ("+1 617 555 0100", "+1 617 555 0101", None)),
        (("Work", "mobile", None), ("+1 617 555 0200", "+1 617 555 0201", None)),
        (("Home", None, None), ("+1 617 555 0300", None, None)),
        (
            ("Mobile ::: Mobile", "Work Fax", "Main"),
            ("+1 555 0400 ::: +1 555 0401", "+1 555 0402", "+1 555 0403"),
        ),
        (("Mobile", "Work", None), (None, "+1 617 555 0501", None)),  # a label without a number
        ((None, None, None), ("+1 617 555 0600", None, None)),  # a number without a label
    ]
    data: dict[str, list[str | None]] = {"_source": [], "_row": []}
    for name in [*LABELS, *VALUES]:
        data[name] = []
    for n, (labels, values) in enumerate(rows):
        data["_source"].append("google.csv")
        data["_row"].append(str(n + 2))
        for name, label in zip(LABELS, labels, strict=True):
            data[name].append(label)
        for name, value in zip(VALUES, values, strict=True):
            data[name].append(value)
    return pl.DataFrame(data).with_columns(pl.col("_row").cast(pl.Int64))


def _mapped(frame: pl.DataFrame, fields: dict[str, FieldMapping]) -> pl.DataFrame:
    wanted = {name: spec.columns for name, spec in fields.items()}
    columns = resolve_columns(wanted, frame.columns, source="google.csv")
    rules = {name: spec.rule(Path(".")) for name, spec in fields.items()}
    return apply_mapping(frame, rules, columns)


def test_each_row_takes_the_number_its_label_names() -> None:
    fields = {
        "mobile": FieldMapping(column=VALUES, label=LABELS, labels=["mobile", "cell"]),
        "phone": FieldMapping(column=VALUES, label=LABELS, labels_not=["mobile", "work fax"]),
    }
    mapped = _mapped(_google(), fields)
    assert mapped["mobile"].to_list() == [
        "+1 617 555 0100",  # "* Mobile": Google's primary mark
        "+1 617 555 0201",  # the second slot on this row
        None,
        "+1 555 0400 ::: +1 555 0401",  # several numbers of one label stay one cell
        None,  # labelled Mobile, but empty: no mobile
        None,
    ]
    assert mapped["phone"].to_list() == [
        "+1 617 555 0101",
        "+1 617 555 0200",
        "+1 617 555 0300",
        "+1 555 0403",  # the fax passed over
        "+1 617 555 0501",
        "+1 617 555 0600",  # no label: a phone
    ]


def test_label_columns_are_resolved_like_any_column() -> None:
    spec = FieldMapping(column=VALUES, label=[x.lower() for x in LABELS], labels=["Mobile"])
    mapped = _mapped(_google(), {"mobile": spec})
    assert mapped["mobile"][0] == "+1 617 555 0100"


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ({"column": VALUES, "label": LABELS[:2], "labels": ["mobile"]}, "one label column per"),
        ({"column": VALUES, "label": LABELS}, "give labels"),
        ({"column": VALUES, "label": LABELS, "labels": ["a"], "labels_not": ["b"]}, "give labels"),
        ({"column": VALUES, "labels": ["mobile"]}, "give the label columns"),
        ({"template": "{a}", "label": ["b"], "labels": ["mobile"]}, "one label column per"),
    ],
)
def test_a_labelled_mapping_that_cannot_choose_is_refused(
    given: dict[str, object], said: str
) -> None:
    with pytest.raises(ValidationError, match=said):
        FieldMapping.model_validate(given)
