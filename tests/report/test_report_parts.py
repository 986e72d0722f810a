"""errors.csv and merged.csv are written a part at a time, each part's source rows read for
it alone, and the files are the same bytes as when written whole."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from crmsync.report import files as report_files
from crmsync.report.outcomes import outcome_frame
from crmsync.report.summary import RunSummary

SOURCE = pl.DataFrame(
    {
        "_source": ["a.csv"] * 7,
        "_row": [2, 3, 4, 5, 6, 7, 8],
        "Email": ["=1+1", "b@x", "c@x", "d@x", "e@x", "f@x", "g@x"],
        "row": ["r2", "r3", "r4", "r5", "r6", "r7", "r8"],  # a report column's name: prefixed
    }
)
OUTCOMES = pl.concat(
    [
        outcome_frame(
            pl.DataFrame({"_source": ["a.csv"] * 3, "_row": [6, 2, 4], "field": ["email"] * 3,
                          "error": ["bad", "worse", "bad"]}),
            outcome="failed", stage="validate",
        ),
        outcome_frame(
            pl.DataFrame({"_source": ["a.csv"] * 2, "_row": [7, 3], "field": ["c@x", "b@x"],
                          "error": ["same key", "same key"], "merged_into_row": [5, 8]}),
            outcome="merged",
        ),
        outcome_frame(pl.DataFrame({"_source": ["a.csv"], "_row": [8]}), outcome="created"),
    ],
    how="diagonal_relaxed",
)  # fmt: skip
REJECTS = pl.DataFrame({"_source": ["a.csv"], "_row": [4], "raw": ["c@x,r4,extra"]})


def report(folder: Path, asked: list[int]) -> dict[str, bytes]:
    def rows_of(wanted: pl.DataFrame) -> pl.DataFrame:
        asked.append(wanted.height)
        return SOURCE.join(wanted.select("_source", "_row"), on=["_source", "_row"], how="semi")

    report_files.write_report(
        folder,
        outcomes=OUTCOMES,
        warnings=pl.DataFrame(schema={"_source": pl.String, "_row": pl.Int64,
                                      "field": pl.String, "error": pl.String}),
        rows_of=rows_of,
        source_columns=["Email", "row"],
        rejects=REJECTS,
        summary=RunSummary(name="s", object="contacts", source="a.csv", dry_run=False,
                           started_at=""),
    )  # fmt: skip
    return {name: (folder / name).read_bytes() for name in ("errors.csv", "merged.csv")}


def test_a_report_written_in_parts_is_the_report_written_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole_asked: list[int] = []
    whole = report(tmp_path / "whole", whole_asked)
    monkeypatch.setattr(report_files, "REPORT_PART_ROWS", 2)
    parts_asked: list[int] = []
    parts = report(tmp_path / "parts", parts_asked)
    assert parts == whole
    assert whole_asked == [3, 2]  # one part each: every failed row, then every merged row
    assert parts_asked == [2, 1, 2]  # no more than a part's rows asked for at a time
    errors = whole["errors.csv"].decode().splitlines()
    assert errors[0] == "source,row,stage,field,error,Email,source:row,raw_line"
    assert errors[1:] == [
        "a.csv,2,validate,email,worse,'=1+1,r2,",
        'a.csv,4,validate,email,bad,c@x,r4,"c@x,r4,extra"',
        "a.csv,6,validate,email,bad,e@x,r6,",
    ]
    merged = whole["merged.csv"].decode().splitlines()
    assert merged[1:] == ["a.csv,3,8,b@x,same key,b@x,r3", "a.csv,7,5,c@x,same key,f@x,r7"]


def test_a_report_with_nothing_failed_still_has_its_headers(tmp_path: Path) -> None:
    created = OUTCOMES.filter(pl.col("outcome") == "created")
    report_files.write_report(
        tmp_path,
        outcomes=created,
        warnings=pl.DataFrame(schema={"_source": pl.String, "_row": pl.Int64,
                                      "field": pl.String, "error": pl.String}),
        rows_of=lambda wanted: SOURCE.clear(),
        source_columns=["Email"],
        rejects=REJECTS.clear(),
        summary=RunSummary(name="s", object="contacts", source="a.csv", dry_run=False,
                           started_at=""),
    )  # fmt: skip
    assert (tmp_path / "errors.csv").read_text() == "source,row,stage,field,error,Email\n"
    assert (tmp_path / "merged.csv").read_text().startswith("source,row,merged_into_row,key,note")


def test_a_small_report_reads_its_source_rows_once_with_the_pages_samples(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[list[int]] = []

    def rows_of(wanted: pl.DataFrame) -> pl.DataFrame:
        asked.append(sorted(wanted["_row"].to_list()))
        return SOURCE.join(wanted.select("_source", "_row"), on=["_source", "_row"], how="semi")

    samples = pl.DataFrame({"_source": ["a.csv"], "_row": [8]})
    read = report_files.report_rows(rows_of, OUTCOMES, samples)
    assert asked == [[2, 3, 4, 6, 7, 8]]  # failed, merged and the samples, in one read
    held = read(samples)
    assert read(pl.DataFrame()) is held and held["_row"].sort().to_list() == [2, 3, 4, 6, 7, 8]
    assert len(asked) == 1  # the page's samples and every part: no read of their own
    monkeypatch.setattr(report_files, "REPORT_PART_ROWS", 4)  # five rows to show: parts
    read = report_files.report_rows(rows_of, OUTCOMES, samples)
    assert read is rows_of and len(asked) == 1
