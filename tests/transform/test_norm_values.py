"""Numbers, booleans and timestamps as people type them."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.transform.conftest import run_expr, run_one

from crmsync.transform.normalizers import format_datetime, parse_bool, parse_datetime, parse_number

NUMBERS = [
    ("$45,000,000", 45_000_000, 45_000_000.0),
    ("45M", 45_000_000, 45_000_000.0),
    ("4.5e7", 45_000_000, 45_000_000.0),
    ("1.2k", 1200, 1200.0),
    ("2.5bn", 2_500_000_000, 2_500_000_000.0),
    ("€ 1 200", 1200, 1200.0),
    ("USD 1,000.50", None, 1000.5),
    (" 12 ", 12, 12.0),
    ("-3", -3, -3.0),
    ("12.5", None, 12.5),
    ("12.0", 12, 12.0),
    ("99.99999999999999999", None, 100.0),
    ("0.9999999999999999999", None, 1.0),
    ("9007199254740993", 9007199254740993, 9007199254740992.0),
    ("abc", None, None),
    ("1,5", None, None),
    ("1e400", None, None),
    ("inf", None, None),
    ("4.5e7M", None, None),
    ("", None, None),
    (None, None, None),
]


@pytest.mark.parametrize(("raw", "integer", "decimal"), NUMBERS, ids=[str(n[0]) for n in NUMBERS])
def test_parse_number(raw: str | None, integer: int | None, decimal: float | None) -> None:
    assert run_one(lambda e: parse_number(e, integer=True), raw) == integer
    assert run_one(lambda e: parse_number(e, integer=False), raw) == decimal


BOOLS = [
    ("yes", True), ("Y", True), ("TRUE", True), ("1", True), (" on ", True),
    ("no", False), ("n", False), ("False", False), ("0", False), ("off", False),
    ("maybe", None), ("", None), (None, None),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "expected"), BOOLS, ids=[str(b[0]) for b in BOOLS])
def test_parse_bool(raw: str | None, expected: bool | None) -> None:
    assert run_one(parse_bool, raw) is expected


DATES = [
    ("2025-07-15", False, "2025-07-15T00:00:00Z"),
    ("07/15/2025", False, "2025-07-15T00:00:00Z"),
    ("15/07/2025", True, "2025-07-15T00:00:00Z"),
    ("15.07.2025", True, "2025-07-15T00:00:00Z"),
    ("03/04/2025", False, "2025-03-04T00:00:00Z"),
    ("03/04/2025", True, "2025-04-03T00:00:00Z"),
    ("2025-07-15T17:00:00+02:00", False, "2025-07-15T15:00:00Z"),
    ("2025-07-15T17:00:00Z", False, "2025-07-15T17:00:00Z"),
    ("2025-07-15 17:00", False, "2025-07-15T17:00:00Z"),
    ("2025-07-15 17:00 UTC", False, "2025-07-15T17:00:00Z"),
    ("2025-07-15T17:00:00.250-05:00", False, "2025-07-15T22:00:00.250Z"),
    ("07/15/2025 09:30", False, "2025-07-15T09:30:00Z"),
    ("1/2/24", False, "2024-01-02T00:00:00Z"),
    ("12/31/24", False, "2024-12-31T00:00:00Z"),
    ("10/11/12", False, "2012-10-11T00:00:00Z"),
    ("31/12/99", True, "1999-12-31T00:00:00Z"),
    ("3.4.25 10:30", True, "2025-04-03T10:30:00Z"),
    ("1/2/24 09:30", False, "2024-01-02T09:30:00Z"),
    ("0024-12-31", False, None),
    ("24/1/2", False, None),
    ("2025-02-30", False, None),
    ("next tuesday", False, None),
    (None, False, None),
]


@pytest.mark.parametrize(
    ("raw", "day_first", "expected"),
    DATES,
    ids=[f"{d[0]}-{'dmy' if d[1] else 'mdy'}" for d in DATES],
)
def test_parse_datetime(raw: str | None, day_first: bool, expected: str | None) -> None:
    parsed = run_one(lambda e: format_datetime(parse_datetime(e, day_first=day_first)), raw)
    assert parsed == expected


_NUMBERISH = st.one_of(
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(str),
    st.text(alphabet="0123456789,.$kMe- ", max_size=10),
)


@pytest.mark.slow  # a property sweep: the whole suite runs it
@settings(max_examples=200, deadline=None)
@given(st.lists(_NUMBERISH, min_size=1, max_size=10), st.booleans())
def test_parse_number_is_idempotent(values: list[str], integer: bool) -> None:
    once = run_expr(lambda e: parse_number(e, integer=integer), values)
    dtype = pl.Int64 if integer else pl.Float64
    again = run_expr(lambda e: parse_number(e.cast(pl.String), integer=integer), once, dtype)
    assert again == once


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from([b[0] for b in BOOLS if b[0]])), max_size=8))
def test_parse_bool_is_idempotent(values: list[str | None]) -> None:
    once = run_expr(parse_bool, values)
    assert run_expr(lambda e: parse_bool(e.cast(pl.String)), once, dtype=pl.Boolean) == once


_DATEISH = st.builds(
    lambda d, fmt, offset: d.strftime(fmt) + offset,
    st.datetimes(),
    st.sampled_from(
        ["%Y-%m-%d", "%m/%d/%Y", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S.%f"]
    ),
    st.sampled_from(["", "Z", "+02:00", "-0530"]),
)


@pytest.mark.slow  # a property sweep: the whole suite runs it
@settings(max_examples=150, deadline=None)
@given(st.lists(_DATEISH, min_size=1, max_size=8))
def test_datetime_normalization_is_idempotent(values: list[str]) -> None:
    def fn(e: pl.Expr) -> pl.Expr:
        return format_datetime(parse_datetime(e))

    once = run_expr(fn, values)
    assert run_expr(fn, once) == once


@pytest.mark.parametrize(
    ("raw", "integer", "decimal"),
    [
        ("1.234,50", None, 1234.5),
        ("2.000.000", 2_000_000, 2_000_000.0),
        ("1,5", None, 1.5),
        ("12", 12, 12.0),
        ("€ 1.500", 1500, 1500.0),
        ("abc", None, None),
    ],
    ids=["grouped-decimals", "grouped", "comma-decimals", "plain", "currency", "junk"],
)
def test_parse_number_with_a_decimal_comma(
    raw: str, integer: int | None, decimal: float | None
) -> None:
    """As Excel writes numbers in much of Europe: dots group thousands, a comma decimals."""
    assert run_one(lambda e: parse_number(e, integer=True, decimal_comma=True), raw) == integer
    assert run_one(lambda e: parse_number(e, integer=False, decimal_comma=True), raw) == decimal
