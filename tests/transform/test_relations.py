"""Notion relation cells used as company names: the page's title, never its address."""

from __future__ import annotations

import polars as pl
import pytest
from tests.transform.conftest import identity_frame, run_expr

from crmsync.schema import OBJECTS
from crmsync.transform import NormalizeOptions, normalize
from crmsync.transform.keys import name_key, normalize_key
from crmsync.transform.normalizers.relations import (
    first_relations,
    relation_count,
    relation_title,
)

ID = "5c9bcf35873be0785c9bcf35873be078"

RELATIONS = [
    (f"Quillpoint (https://www.notion.so/Quillpoint-Software-{ID})", "Quillpoint", 1),
    (f"Acme, Inc. (https://notion.so/acme/Acme-Inc-{ID}?pvs=21)", "Acme, Inc.", 1),
    (f"Acme (EU) (https://acme.notion.site/Acme-EU-{ID})", "Acme (EU)", 1),
    (f"Harbor & Finch LLP (HTTPS://WWW.NOTION.SO/Harbor-Finch-LLP-{ID})", "Harbor & Finch LLP", 1),
    (
        f"Cobalt Ridge (https://www.notion.so/Cobalt-{ID}), Maison Verdier SARL "
        f"(https://www.notion.so/x-{ID})",
        "Cobalt Ridge",
        2,
    ),
    (
        f"A (https://www.notion.so/a-{ID}), B, Inc. (https://www.notion.so/b-{ID}), "
        f"C (https://team.notion.site/c-{ID})",
        "A",
        3,
    ),
    (f"  Padded (https://www.notion.so/Padded-{ID})  ", "Padded", 1),
]  # fmt: skip

NOT_RELATIONS = [
    "Acme (EU)",  # parentheses alone
    "Acme (https://acme.com)",  # another site's address
    "Acme (https://notion.so.evil.com/x)",  # a host that only starts like Notion's
    f"Acme (see https://www.notion.so/x-{ID}) Ltd",  # text around the address
    f"https://www.notion.so/x-{ID}",  # an address without a title
    f" (https://www.notion.so/x-{ID})",  # no title before it
    f"A (https://www.notion.so/a-{ID}), B",  # the second part is no relation
    f"Acme (https://www.notion.so/a b-{ID})",  # a space inside the address
    "Notion Labs, Inc.",
    "",
]


@pytest.mark.parametrize(("cell", "title", "count"), RELATIONS, ids=[t for _, t, _ in RELATIONS])
def test_a_cell_of_notion_relations_reads_as_its_first_title(
    cell: str, title: str, count: int
) -> None:
    assert run_expr(relation_title, [cell]) == [title]
    assert run_expr(relation_count, [cell]) == [count]


@pytest.mark.parametrize("cell", NOT_RELATIONS, ids=NOT_RELATIONS)
def test_any_other_value_is_left_as_written(cell: str) -> None:
    assert run_expr(relation_title, [cell]) == [cell]
    assert run_expr(relation_count, [cell]) == [0]


def test_a_null_stays_null() -> None:
    assert run_expr(relation_title, [None]) == [None]


def test_several_relations_warn_naming_the_cell_and_the_title_used() -> None:
    frame = identity_frame(
        {
            "name": [
                f"Cobalt (https://www.notion.so/Cobalt-{ID}), Verdier (https://www.notion.so/V-{ID})",
                f"Kettleworth (https://www.notion.so/K-{ID})",
                "Acme (EU)",
                None,
                f"A (https://www.notion.so/a-{ID}), B (https://www.notion.so/b-{ID}), "
                f"C (https://www.notion.so/c-{ID})",
            ]
        }
    )  # fmt: skip
    out, warnings = first_relations(frame, "name")
    assert out["name"].to_list() == ["Cobalt", "Kettleworth", "Acme (EU)", None, "A"]
    assert out.columns == frame.columns
    assert warnings.select("_source", "_row", "field", "severity").rows() == [
        ("test.csv", 2, "name", "warning"),
        ("test.csv", 6, "name", "warning"),
    ]
    first, third = warnings["error"].to_list()
    assert first.endswith(
        'holds 2 Notion relations: the first, "Cobalt", is used; the other is left out'
    )
    assert first.startswith('"Cobalt (https://www.notion.so/Cobalt-')
    assert third.endswith('the first, "A", is used; the others are left out')


def test_a_column_without_notion_is_returned_as_it_is() -> None:
    frame = identity_frame({"name": ["Acme (EU)", "Globex (https://globex.com)"]})
    out, warnings = first_relations(frame, "name")
    assert out.equals(frame)
    assert warnings.is_empty()


def test_a_company_name_is_normalized_to_the_title_and_keyed_by_it() -> None:
    frame = identity_frame(
        {
            "name": [
                f"Maison Verdier SARL (https://www.notion.so/Maison-Verdier-SARL-{ID})",
                "Maison Verdier",
                "Acme (https://acme.com)",
            ],
            "domain": [None, None, None],
        }
    )
    out, issues = normalize(frame, OBJECTS["companies"], NormalizeOptions())
    assert out["name"].to_list() == [
        "Maison Verdier SARL",
        "Maison Verdier",
        "Acme (https://acme.com)",
    ]
    keys = out["_match_key"].to_list()
    assert keys[0] == keys[1]  # one company, however the rows wrote it
    assert issues.is_empty()


def test_a_contacts_name_lookup_finds_the_company_by_its_title() -> None:
    """The contacts step's companyId lookup reads the relation cell as the file has it."""
    cells = pl.Series(
        [
            f"Nordwind Logistik GmbH (https://www.notion.so/Nordwind-{ID})",
            f"Nordwind Logistik (https://www.notion.so/a-{ID}), Other (https://www.notion.so/b-{ID})",
        ]
    )
    stored = normalize_key(pl.Series(["Nordwind Logistik GmbH"]), "name")[0]
    assert normalize_key(cells, "name").to_list() == [stored, stored]
    assert run_expr(name_key, ["Acme (https://acme.com)"]) == ["acmehttpsacmecom"]


def test_contacts_keep_their_text_fields_as_written() -> None:
    """Only a company's name is read as a relation: a contact has no field that names one."""
    cell = f"Quillpoint (https://www.notion.so/Quillpoint-{ID})"
    frame = identity_frame({"email": ["a@x.com"], "firstName": ["A"], "lastName": ["B"],
                            "title": [cell]})  # fmt: skip
    out, _ = normalize(frame, OBJECTS["contacts"], NormalizeOptions())
    assert out["title"].to_list() == [cell]
