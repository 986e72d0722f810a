"""payload_hash: a canonical, library-independent hash; payload_hashes: the same, per frame row."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import math
import uuid
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmsync.state import canonical_json, hashing, payload_hash, payload_hashes

FIXED_PAYLOAD = {
    "email": "zoë.o'neil@example.com",
    "firstName": "Zoë",
    "lastName": 'O"Neil\\\n',
    "leadScore": 42,
    "annualRevenue": Decimal("1250000.50"),
    "ratio": 0.1,
    "tags": ["vip", "b2b"],
    "active": True,
    "phone": None,
    "address": {"city": "Zürich", "zip": None},
    "since": dt.date(2024, 2, 29),
}
FIXED_TEXT = (
    '{"active":true,"address":{"city":"Zürich"},"annualRevenue":1250000.5,'
    '"email":"zoë.o\'neil@example.com","firstName":"Zoë","lastName":"O\\"Neil\\\\\\n",'
    '"leadScore":42,"ratio":0.1,"since":"2024-02-29","tags":["vip","b2b"]}'
)
FIXED_HEX = "0758e99ab6301f0c990026f8d15bf11d42bcb2b5a9ac9749d4cb7bd0230cf5fd"


def test_hash_is_stable_forever() -> None:
    """If this fails, every stored hash changes meaning: every row of every user is resent."""
    assert canonical_json(FIXED_PAYLOAD) == FIXED_TEXT
    assert hashlib.sha256(FIXED_TEXT.encode()).hexdigest() == FIXED_HEX
    assert payload_hash(FIXED_PAYLOAD) == FIXED_HEX


class Stage(enum.Enum):
    LEAD = "lead"


CANONICAL_CASES = [
    ({}, "{}"),
    ({"a": None}, "{}"),
    ({"b": 1, "a": 2, "B": 3}, '{"B":3,"a":2,"b":1}'),
    ({"n": {"y": None, "x": [None, 1]}}, '{"n":{"x":[null,1]}}'),
    ({"t": True, "f": False, "one": 1}, '{"f":false,"one":1,"t":true}'),
    ({"x": 1.0, "y": Decimal("1.000"), "z": 1}, '{"x":1,"y":1,"z":1}'),
    ({"x": 1e-05, "y": Decimal("-0.00"), "z": -0.0}, '{"x":0.00001,"y":0,"z":0}'),
    ({"x": 2.5e16, "y": Decimal("1E+3")}, '{"x":25000000000000000,"y":1000}'),
    ({"x": 0.1 + 0.2}, '{"x":0.30000000000000004}'),
    ({"x": math.nan, "y": math.inf, "z": -math.inf}, '{"x":NaN,"y":Infinity,"z":-Infinity}'),
    ({"s": 'q"b\\n\n\r\t\b\f\x00\x1f\x7f'}, '{"s":"q\\"b\\\\n\\n\\r\\t\\b\\f\\u0000\\u001f\x7f"}'),
    ({"s": "Zoë 😀 \u2028"}, '{"s":"Zoë 😀 \u2028"}'),
    ({"é": 1, "e": 2}, '{"e":2,"é":1}'),
    (
        {"d": dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC)},
        '{"d":"2024-01-02T03:04:05.000006+00:00"}',
    ),
    ({"t": dt.time(9, 30)}, '{"t":"09:30:00"}'),
    ({"u": uuid.UUID(int=1)}, '{"u":"00000000-0000-0000-0000-000000000001"}'),
    ({"e": Stage.LEAD, "l": ("a", "b")}, '{"e":"lead","l":["a","b"]}'),
]


@pytest.mark.parametrize(("payload", "text"), CANONICAL_CASES, ids=[c[1] for c in CANONICAL_CASES])
def test_canonical_form(payload: dict[str, Any], text: str) -> None:
    assert canonical_json(payload) == text


@pytest.mark.parametrize(
    ("payload", "error"),
    [({"b": b"raw"}, "bytes"), ({"s": {1, 2}}, "set"), ({"n": {1: "x"}}, "keys must be strings")],
    ids=["bytes", "set", "int-key"],
)
def test_unhashable_values_are_refused_not_guessed(payload: dict[str, Any], error: str) -> None:
    with pytest.raises(TypeError, match=error):
        payload_hash(payload)


def test_distinct_payloads_hash_differently() -> None:
    variants: list[dict[str, Any]] = [
        {"a": "1"},
        {"a": 1},
        {"a": True},
        {"a": [1]},
        {"a": "x", "b": "y"},
        {"ab": "xy"},
        {"a": ""},
        {},
    ]
    assert len({payload_hash(v) for v in variants}) == len(variants)


def _expected(frame: pl.DataFrame, columns: list[str]) -> list[str]:
    # Columns by name, not by expression: a column may be called "*" or "^x$".
    rows = pl.DataFrame([frame.get_column(name) for name in dict.fromkeys(columns)]).rows(
        named=True
    )
    return [payload_hash({k: v for k, v in row.items() if v is not None}) for row in rows]


@pytest.fixture(params=["plugin", "hashlib"])
def sha256_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Frames are hashed by the polars-hash plugin when it loads, else by hashlib row by row:
    both paths must give what payload_hash (hashlib over canonical JSON) gives."""
    if request.param == "plugin":
        assert hashing.sha256_column is not None, "the polars-hash plugin did not load"
    else:
        monkeypatch.setattr(hashing, "sha256_column", None)
    return str(request.param)


@pytest.mark.usefixtures("sha256_path")
def test_payload_hashes_equals_payload_hash_on_tricky_values() -> None:
    frame = pl.DataFrame(
        {
            "firstName": ['Zoë "Z"', "back\\slash", None, "", "new\nline\ttab\x01\x7f", "😀\u2028"],
            "lastName": ["O'Neil", "x", "y", None, "z", "\u00e9\u0301"],
            "leadScore": [0, -5, None, 100, 2**62, 7],
            "revenue": [1.0, 1.5, None, math.nan, -0.0, 1e-7],
            "big": [math.inf, -math.inf, 1e300, 2.0**53, 2.0**53 + 2, 123456789.125],
            "active": [True, False, None, True, False, None],
            "tags": [["vip", 'q"uote'], [], None, ["a", None], ["\\"], ["é"]],
            "scores": [[1, 2], None, [], [None], [3], [-1]],
            "money": pl.Series(
                [
                    Decimal("1.50"),
                    Decimal("-0.00"),
                    Decimal("100"),
                    None,
                    Decimal("-2.05"),
                    Decimal("0.01"),
                ],
                dtype=pl.Decimal(20, 2),
            ),
            "when": [dt.date(2024, 2, 29), None, dt.date(1, 1, 1), None, None, None],
            "at": [
                dt.datetime(2024, 1, 2, 3, 4, 5),
                None,
                dt.datetime(2024, 1, 2, 3, 4, 5, 6),
                None,
                None,
                None,
            ],
            "nested": [{"a": 1, "b": None}, None, {"a": None, "b": "x"}, None, None, None],
            "floats": [[1.5, None], None, [2.0], [], None, [math.nan]],
            "stage": pl.Series(
                ["lead", None, "customer", "lead", None, None], dtype=pl.Categorical
            ),
            "empty": [None] * 6,
        }
    )
    columns = frame.columns
    hashes = payload_hashes(frame, columns)
    assert hashes.name == "payload_hash"
    assert hashes.dtype == pl.String
    assert hashes.to_list() == _expected(frame, columns)
    subset = ["tags", "firstName", "tags"]
    assert payload_hashes(frame, subset).to_list() == _expected(frame, ["firstName", "tags"])


def test_payload_hashes_edges() -> None:
    frame = pl.DataFrame({"a": [None, "x"]}, schema={"a": pl.String})
    assert payload_hashes(frame, ["a"]).to_list()[0] == payload_hash({})
    assert payload_hashes(frame, []).to_list() == [payload_hash({})] * 2
    assert payload_hashes(frame.clear(), ["a"]).to_list() == []
    with pytest.raises(KeyError, match="nope"):
        payload_hashes(frame, ["a", "nope"])


def test_payload_hashes_column_names_are_names_not_patterns() -> None:
    frame = pl.DataFrame({"*": [1, None], "^a.*$": ["x", "y"], 'q"k\\': [True, None], "a": [2, 3]})
    columns = ["*", "^a.*$", 'q"k\\']
    assert payload_hashes(frame, columns).to_list() == [
        payload_hash({"*": 1, "^a.*$": "x", 'q"k\\': True}),
        payload_hash({"^a.*$": "y"}),
    ]


text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
COLUMN_KINDS: dict[str, tuple[pl.DataType, st.SearchStrategy[Any]]] = {
    "str": (pl.String(), text),
    "int": (pl.Int64(), st.integers(-(2**63), 2**63 - 1)),
    "float": (pl.Float64(), st.floats()),
    "bool": (pl.Boolean(), st.booleans()),
    "tags": (pl.List(pl.String()), st.lists(st.none() | text, max_size=4)),
    "money": (
        pl.Decimal(18, 2),
        st.decimals(min_value=-(10**15), max_value=10**15, places=2, allow_nan=False),
    ),
    "date": (pl.Date(), st.dates()),
}


@st.composite
def frames(draw: st.DrawFn) -> pl.DataFrame:
    names = draw(st.lists(text.filter(bool), min_size=1, max_size=6, unique=True))
    height = draw(st.integers(0, 8))
    columns = {}
    for name in names:
        dtype, values = COLUMN_KINDS[draw(st.sampled_from(sorted(COLUMN_KINDS)))]
        column = draw(st.lists(st.none() | values, min_size=height, max_size=height))
        columns[name] = pl.Series(name, column, dtype=dtype)
    return pl.DataFrame(columns, schema={n: s.dtype for n, s in columns.items()}, height=height)


@pytest.mark.slow  # a property sweep: the whole suite runs it
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames())
def test_payload_hashes_property(frame: pl.DataFrame) -> None:
    assert payload_hashes(frame, frame.columns).to_list() == _expected(frame, frame.columns)
