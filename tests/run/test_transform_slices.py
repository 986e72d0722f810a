"""The transform maps, normalizes and validates a big file a slice at a time: the result is
the same as in one piece, row for row and issue for issue."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from tests.run.conftest import DESTINATION, pipeline, write_csv

from crmsync.config import Step
from crmsync.extract import read_source
from crmsync.run.artifacts import Transformed
from crmsync.run.stages import transform as stage
from crmsync.run.stages.transform import source_columns, transform
from crmsync.sandbox.testing import InProcessSandbox

ROWS = [
    "Ada,Lovelace,ADA@example.com,(415) 555-0164,n/a,,lead",
    "Bob,,not-an-email,+44 20 7946 0018,,x,customer",
    "Cy,Young,ada@example.com,,-,12,nobody",
    " Di ,  Prince ,di@example.org,555-0164,NULL,99,Lead",
    "Ed,Ng,ed@example.org,n/a,,abc,",
    "Flo,Rida,flo@ex ample.org,+1-555-0164,,7,opportunity",
    "Gus,Fring,di@EXAMPLE.org,,,1,lead",
]


def _transform(step: Step, folder: Path, name: str) -> Transformed:
    """The step's transform of the file `name` in `folder`."""
    extracted = read_source("csv", folder / name)
    return transform(extracted, step, source_columns(step, extracted, name), folder)


def _transformed(tmp_path: Path, rally: InProcessSandbox) -> tuple[pl.DataFrame, ...]:
    write_csv(
        tmp_path,
        "contacts.csv",
        "first,last,email,phone,title,score,stage",
        *ROWS,
    )
    loaded = pipeline(
        tmp_path,
        "name: slices\n"
        "object: contacts\n"
        "source: {kind: csv, path: contacts.csv}\n"
        "mapping: {firstName: first, lastName: last, email: email, phone: phone, title: title,"
        " leadScore: score, lifecycleStage: stage}\n"
        "normalize: {default_region: US}\n" + DESTINATION,
        rally,
    )
    out = _transform(loaded.steps[0], tmp_path, "contacts.csv")
    order = ["_source", "_row", "field", "error"]
    return (
        out.frame,
        out.outcomes.sort(["_row", "outcome", "field"], nulls_last=True),
        out.warnings.sort(order, nulls_last=True),
    )


def test_slices_give_what_one_piece_gives(
    tmp_path: Path, rally: InProcessSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = _transformed(tmp_path, rally)
    monkeypatch.setattr(stage, "CHECK_ROWS", 2)
    sliced = _transformed(tmp_path, rally)
    assert whole[0].height == 2  # the others failed or merged into them, across slices
    assert set(whole[1]["outcome"]) == {"failed", "merged"} and whole[2].height
    for one, other in zip(whole, sliced, strict=True):
        assert one.equals(other)


def test_a_company_without_website_finds_its_name_in_another_slice(
    tmp_path: Path, rally: InProcessSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_csv(
        tmp_path,
        "companies.csv",
        "name,website",
        "Acme Inc,https://acme.com",
        "Globex,globex.com",
        "Initech,",
        "ACME,",  # another slice than the first row: still acme.com, so merged into it
    )
    loaded = pipeline(
        tmp_path,
        "name: slices\nobject: companies\nsource: {kind: csv, path: companies.csv}\n"
        "mapping: {name: name, website: website}\n" + DESTINATION,
        rally,
    )
    monkeypatch.setattr(stage, "CHECK_ROWS", 2)
    out = _transform(loaded.steps[0], tmp_path, "companies.csv")
    assert out.frame["_row"].to_list() == [2, 3, 4]
    merged = out.outcomes.filter(pl.col("outcome") == "merged")
    assert merged.select("_row", "error").rows() == [(5, "duplicate of row 2 by acme.com")]
