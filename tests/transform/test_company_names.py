"""Company names as exports write them: several in one cell, or words for none."""

from __future__ import annotations

import polars as pl
import pytest

from crmsync.schema import OBJECTS
from crmsync.transform import NormalizeOptions, normalize
from crmsync.transform.keys import name_key
from crmsync.transform.normalizers.company_names import first_company


@pytest.mark.parametrize(
    ("cell", "name", "warned"),
    [
        ("Quillstone;Fernwood Energy", "Quillstone", True),
        ("Quillstone ; Fernwood Energy;Hooli", "Quillstone", True),
        ("Acme, Inc.", "Acme, Inc.", False),  # a comma is part of a name
        ("Acme;", "Acme", False),
        (";Acme", "Acme", False),
        ("Self-employed", None, False),
        ("[not provided]", None, False),
        ("  FREELANCE ", None, False),
        ("n/a", None, False),
        ("Stealth Startup", None, False),
        ("Independent Bank Corp", "Independent Bank Corp", False),  # a word inside a name
        ("Privateer Labs", "Privateer Labs", False),
        (None, None, False),
    ],
)
def test_a_company_cell_gives_its_first_name_or_none(
    cell: str | None, name: str | None, warned: bool
) -> None:
    frame = pl.DataFrame({"name": [cell], "_source": ["f.csv"], "_row": [2]})
    out, issues = first_company(frame, "name")
    assert out["name"].to_list() == [name]
    assert issues.height == int(warned)
    if warned:
        assert issues["severity"][0] == "warning" and issues["field"][0] == "name"
        assert f'the first, "{name}", is used' in issues["error"][0]


def test_a_lookup_by_name_reads_the_first_company_and_no_placeholder() -> None:
    names = pl.Series(
        ["Quillstone;Fernwood Energy", "Quillstone", "Self-employed", "[not provided]"]
    )
    keys = pl.DataFrame({"n": names}).select(name_key(pl.col("n")).alias("key"))["key"].to_list()
    assert keys == ["quillstone", "quillstone", None, None]


def test_the_companies_step_normalizes_its_names() -> None:
    frame = pl.DataFrame(
        {
            "name": ["Quillstone;Fernwood Energy", "Self-employed"],
            "domain": ["quillstone.io", None],
            "_source": ["f.csv", "f.csv"],
            "_row": [2, 3],
        }
    )
    out, issues = normalize(frame, OBJECTS["companies"], NormalizeOptions())
    assert out["name"].to_list() == ["Quillstone", None]
    assert issues.filter(pl.col("field") == "name")["_row"].to_list() == [2]


def test_a_name_key_keeps_its_column_name() -> None:
    frame = pl.DataFrame({"company": ["Acme;Globex", "Self-employed"]})
    assert frame.select(name_key(pl.col("company"))).columns == ["company"]
