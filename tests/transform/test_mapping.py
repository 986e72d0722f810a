"""Mapping: header matching and the projection to Rally wire fields."""

from __future__ import annotations

import polars as pl
import pytest

from crmsync.config import FieldMapping
from crmsync.errors import ConfigError
from crmsync.transform.mapping import apply_mapping, header_key, resolve_columns


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("E-mail Address", "email address"),
        ("First Name", "first_name"),
        ("ZIP/Postal", "zip postal"),
    ],
    ids=["dash-space", "underscore", "slash"],
)
def test_headers_match_ignoring_case_spaces_and_punctuation(a: str, b: str) -> None:
    assert header_key(a) == header_key(b)


def test_resolve_prefers_exact_then_loose() -> None:
    mapping = {"email": FieldMapping(column="email address"), "title": FieldMapping(column="Title")}
    assert resolve_columns(mapping, ["E-mail Address", "Title"], source="f.csv") == {
        "email": "E-mail Address",
        "title": "Title",
    }


def test_missing_column_is_config_error_with_hint() -> None:
    mapping = {"email": FieldMapping(column="Emial")}
    with pytest.raises(ConfigError) as info:
        resolve_columns(mapping, ["Email", "Name"], source="f.csv")
    message = str(info.value)
    assert "mapping.email: column 'Emial' is not in the file (did you mean 'Email'?)" in message
    assert "f.csv" in message


def test_apply_mapping_column_default_constant() -> None:
    frame = pl.DataFrame(
        {
            "_source": ["f", "f"],
            "_row": [2, 3],
            "Stage": ["customer", "  "],
            "Mail": ["a@b.co", None],
        }
    )
    mapping = {
        "email": FieldMapping(column="Mail"),
        "lifecycleStage": FieldMapping(column="Stage", default="lead"),
        "leadSource": FieldMapping(constant="import"),
        "leadScore": FieldMapping(default=10),
    }
    out = apply_mapping(frame, mapping, {"email": "Mail", "lifecycleStage": "Stage"})
    assert out.columns == ["_source", "_row", "email", "lifecycleStage", "leadSource", "leadScore"]
    assert out.to_dicts() == [
        {
            "_source": "f",
            "_row": 2,
            "email": "a@b.co",
            "lifecycleStage": "customer",
            "leadSource": "import",
            "leadScore": "10",
        },
        {
            "_source": "f",
            "_row": 3,
            "email": None,
            "lifecycleStage": "lead",
            "leadSource": "import",
            "leadScore": "10",
        },
    ]
