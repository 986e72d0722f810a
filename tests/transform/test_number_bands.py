"""A band where a number goes ("11-50" employees) is left out with a warning, not a failure."""

from __future__ import annotations

import polars as pl
import pytest

from crmsync.schema import OBJECTS
from crmsync.transform import NormalizeOptions, normalize, validate


@pytest.mark.parametrize("band", ["11-50", "1,001-5,000", "10,001+", "50 to 100", "over 500"])
def test_a_band_of_employees_is_left_out_and_the_company_kept(band: str) -> None:
    frame = pl.DataFrame(
        {
            "name": ["Quillstone", "Fernwood"],
            "domain": ["quillstone.io", "fernwood.com"],
            "employeeCount": [band, "1,200"],
            "_source": ["f.csv", "f.csv"],
            "_row": [2, 3],
        }
    )
    companies = OBJECTS["companies"]
    out, issues = normalize(frame, companies, NormalizeOptions())
    assert out["employeeCount"].to_list() == [None, 1200]
    assert issues.filter(pl.col("severity") == "error").height == 0
    [warning] = issues.filter(pl.col("field") == "employeeCount").rows(named=True)
    assert warning["_row"] == 2 and "is a range, not a number: left out" in warning["error"]
    assert validate(out, companies).height == 0


@pytest.mark.parametrize(
    ("cell", "decimal_comma", "said"),
    [
        ("12345678901234567890123", False, "is a number too large to hold"),
        ("1,200", True, "is not a whole number"),  # 1.2 under a decimal comma
        ("ten", False, "is not a whole number"),
    ],
)
def test_what_a_number_that_cannot_be_read_is_said_to_be(
    cell: str, decimal_comma: bool, said: str | None
) -> None:
    frame = pl.DataFrame(
        {"name": ["A"], "employeeCount": [cell], "_source": ["f.csv"], "_row": [2]}
    )
    options = NormalizeOptions(decimal_comma=decimal_comma)
    _, issues = normalize(frame, OBJECTS["companies"], options)
    found = issues.filter(pl.col("field") == "employeeCount")["error"].to_list()
    assert found == ([] if said is None else [f'"{cell}" {said}'])
