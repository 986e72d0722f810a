"""A second header row (SurveyMonkey's sub-fields) is read into the header; a first data row
that only holds text never is."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from crmsync.extract import Extracted, csv_reader, read_source
from crmsync.extract.csv_stream import read_csv_pieces
from crmsync.extract.subheader import header_names, second_header

META = ["Respondent ID", "Collector ID", "Start Date", "Email Address", "First Name"]
QUESTION = "Please provide your contact information."
SURVEY_TOP = [*META, QUESTION, "", "", "", "How likely are you to recommend us?", "Comments"]
SURVEY_BELOW = [
    *[""] * len(META),
    "Name",
    "Company",
    "Email Address",
    "Phone Number",
    "Response",
    "Open-Ended Response",
]

POSITIVE = [
    pytest.param(SURVEY_TOP, SURVEY_BELOW, id="surveymonkey-contact-question-and-answers"),
    pytest.param(
        ["Respondent ID", "Which plan?", "Rate us", "Comments"],
        ["", "Response", "Response", "Open-Ended Response"],
        id="one-column-questions-only",
    ),
    pytest.param(
        ["Respondent ID", "Your details", "Your details", "Your details"],
        ["", "Name", "Company", "Email Address"],
        id="a-question-repeated-over-its-columns",
    ),
    pytest.param(
        ["Respondent ID", "Your details", "", "", ""],
        ["", "Name", "Company", "Email Address", ""],
        id="a-trailing-empty-column",
    ),
]

NEGATIVE = [
    pytest.param(
        ["First", "Last", "Company"], ["John", "Smith", "Acme"], id="text-only-first-data-row"
    ),
    pytest.param(
        ["First", "Last", "Company", "City"],
        ["John", "Smith", "", "Boston"],
        id="text-only-row-with-an-empty-cell",
    ),
    pytest.param(["Name", "", "Company"], ["John Smith", "VIP", "Acme"], id="one-unnamed-column"),
    pytest.param(
        ["Name", "", "", "Company"],
        ["John", "Smith", "VIP", "Acme"],
        id="two-unnamed-columns-and-every-name-filled-below",
    ),
    pytest.param(
        ["ID", "Your details", "", "", "Status"],
        ["", "Ann Lee", "ann@acme.com", "Acme", "Response"],
        id="an-email-below",
    ),
    pytest.param(
        ["ID", "Your details", "", "", "Score"],
        ["", "Ann Lee", "Acme", "Boston", "7"],
        id="a-number-below",
    ),
    pytest.param(
        ["ID", "Your details", "", "", "Notes"],
        ["", "Ann Lee", "", "Boston", ""],
        id="a-gap-with-no-label",
    ),
    pytest.param(["ID", "Status", "Name"], ["", "Response", "Ann Lee", "x"], id="another-width"),
    pytest.param(["ID", "Status", "Name"], ["", "", ""], id="nothing-below"),
    pytest.param(
        ["Name", "Status", "City"], ["Ann Lee", "Response", "Oslo"], id="response-as-a-value"
    ),
]


@pytest.mark.parametrize(("first", "second"), POSITIVE)
def test_a_second_header_row_is_recognised(first: list[str], second: list[str]) -> None:
    assert second_header(first, second)


@pytest.mark.parametrize(("first", "second"), NEGATIVE)
def test_a_data_row_is_never_taken_for_a_header(first: list[str], second: list[str]) -> None:
    assert not second_header(first, second)


def test_columns_are_named_by_the_label_else_by_the_first_row() -> None:
    assert header_names(SURVEY_TOP, SURVEY_BELOW) == [
        *META,
        "Name",  # the question's first column: its label
        "Company",
        "Email Address",  # the reader numbers it, as a header's duplicate (Email Address_2)
        "Phone Number",
        "How likely are you to recommend us?",  # "Response" says nothing more
        "Comments",
    ]
    assert header_names(["", "Q"], ["Response", ""]) == ["Response", "Q"]


SURVEY_FILE = (
    "Respondent ID,Collector ID,Email Address,First Name,Last Name,"
    f"{QUESTION},,,,How likely are you to recommend us?\r\n"
    ",,,,,Name,Company,Email Address,Phone Number,Response\r\n"
    "11500000000,431234567,,,,Chloé O'Connor,Nordwind Logistik GmbH,"
    "chloe@nordwind-logistik.de,,9\r\n"
    '11500000001,431234567,,,,Jürgen Rossi,"Tessera Health, Inc.",jurgen@tesserahealth.com,'
    "555-555-0101,10\r\n"
)
SURVEY_COLUMNS = (
    "Respondent ID",
    "Collector ID",
    "Email Address",
    "First Name",
    "Last Name",
    "Name",
    "Company",
    "Email Address_2",
    "Phone Number",
    "How likely are you to recommend us?",
)


def _check_survey(result: Extracted, first_row_line: int) -> None:
    assert result.columns == SURVEY_COLUMNS
    assert (result.header_line, result.subheader_line) == (first_row_line, first_row_line + 1)
    assert result.renamed == (("Email Address", "Email Address_2"),)
    assert result.rejects.height == 0
    data = first_row_line + 2  # the first data row's line: below both header rows
    assert result.frame.select("Name", "Company", "Email Address_2", "_row").rows() == [
        ("Chloé O'Connor", "Nordwind Logistik GmbH", "chloe@nordwind-logistik.de", data),
        ("Jürgen Rossi", "Tessera Health, Inc.", "jurgen@tesserahealth.com", data + 1),
    ]


def test_a_survey_export_reads_from_both_header_rows(
    write: Callable[..., Path], contract: Callable[[Extracted, str], None]
) -> None:
    path = write(SURVEY_FILE)
    result = read_source("csv", path)
    contract(result, str(path))
    _check_survey(result, 1)


def test_below_a_preamble_and_on_the_exact_path_the_rows_keep_their_lines(
    write: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stray quote sends the file to the csv module's path: it names the columns alike."""
    text = "Survey results\n\n" + SURVEY_FILE.replace("Chloé O'Connor", 'Chloé O"Connor')
    exact: list[bool] = []
    real = csv_reader.read_with_python_csv

    def spied(*args: Any, **kwargs: Any) -> Extracted:
        exact.append(True)
        return real(*args, **kwargs)

    monkeypatch.setattr(csv_reader, "read_with_python_csv", spied)
    result = read_source("csv", write(text))
    assert exact
    assert result.columns == SURVEY_COLUMNS
    assert (result.header_line, result.subheader_line) == (3, 4)
    assert result.frame["_row"].to_list() == [5, 6]
    assert result.frame["Name"][0] == 'Chloé O"Connor'


def test_a_survey_export_read_in_pieces_reads_as_a_whole(write: Callable[..., Path]) -> None:
    path = write(SURVEY_FILE)
    pieces = read_csv_pieces(path, piece_bytes=64)
    _check_survey(pieces, 1)
    assert pieces.frame.equals(read_source("csv", path).frame)


def test_skip_rows_reads_one_header_row_as_it_says(write: Callable[..., Path]) -> None:
    """A pipeline that skips the question row itself keeps reading the file as it did."""
    result = read_source("csv", write(SURVEY_FILE), skip_rows=1)
    assert result.header_line == 2
    assert result.subheader_line is None
    assert result.columns[5:8] == ("Name", "Company", "Email Address")
    assert result.frame["_row"].to_list() == [3, 4]


@pytest.mark.parametrize(
    "text",
    [
        "First,Last,Company\nJohn,Smith,Acme\nAnn,Lee,Initech\n",
        "Name,,Company\nJohn Smith,VIP,Acme\nAnn Lee,,Initech\n",
        "First,Last,Status,City\nJohn,Smith,Response,Oslo\nAnn,Lee,Lead,Rome\n",
    ],
    ids=["text-only", "an-unnamed-column", "response-as-a-value"],
)
def test_a_first_data_row_of_text_stays_a_row(write: Callable[..., Path], text: str) -> None:
    result = read_source("csv", write(text))
    assert result.header_line == 1
    assert result.subheader_line is None
    assert result.frame["_row"].to_list() == [2, 3]
