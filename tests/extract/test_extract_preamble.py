"""Headers below a preamble (report titles, LinkedIn's notes), skip_rows, renamed headers."""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from crmsync.errors import SourceError
from crmsync.extract import Extracted, read_source

Row = tuple[object, ...]

LINKEDIN_NOTE = (
    b'"When exporting your connection data, you may notice that some of the email addresses '
    b"are missing. You will only see email addresses for connections who have allowed their "
    b'connections to see or download their email address."'
)

# (id, file bytes, header line, columns, rows as (values..., _row), rejects as (_row, error))
CASES: list[tuple[str, bytes, int, tuple[str, ...], list[Row], list[Row]]] = [
    (
        "linkedin-notes-and-blank-line",
        b"Notes:\n" + LINKEDIN_NOTE + b"\n\nFirst Name,Last Name,URL,Email Address\n"
        b"Ann,Lee,https://www.linkedin.com/in/ann-lee,\nBo,Ek,https://www.linkedin.com/in/bo,b@x.se\n",
        4,
        ("First Name", "Last Name", "URL", "Email Address"),
        [
            ("Ann", "Lee", "https://www.linkedin.com/in/ann-lee", None, 5),
            ("Bo", "Ek", "https://www.linkedin.com/in/bo", "b@x.se", 6),
        ],
        [],
    ),
    (
        "report-title-saved-by-excel",
        b"Accounts with Contacts,,,,\nFiltered By:,Type equals Customer,,,\n,,,,\n"
        b"Account Name,First Name,Last Name,Email,Phone\nAcme,Ann,Lee,a@acme.com,555-0100\n",
        4,
        ("Account Name", "First Name", "Last Name", "Email", "Phone"),
        [("Acme", "Ann", "Lee", "a@acme.com", "555-0100", 5)],
        [],
    ),
    (
        "semicolon-table-below-a-title",
        "Kontakte mit Firmen\n\nFirma;Vorname;Nachname;Ort\nAcme;Jürgen;Weiß;Köln\n".encode(),
        3,
        ("Firma", "Vorname", "Nachname", "Ort"),
        [("Acme", "Jürgen", "Weiß", "Köln", 4)],
        [],
    ),
    (
        "comment-lines",
        b"# exported 2024-05-01\n# by the nightly job\nName,Email,City\nAnn,a@x.com,Oslo\n",
        3,
        ("Name", "Email", "City"),
        [("Ann", "a@x.com", "Oslo", 4)],
        [],
    ),
    (
        "odd-quote-in-the-preamble-does-not-swallow-the-table",
        b'Report "Q3\nName,Email,City\nAnn,a@x.com,Oslo\n"Lee, Bo",b@x.com,"Rome"\n',
        2,
        ("Name", "Email", "City"),
        [("Ann", "a@x.com", "Oslo", 3), ("Lee, Bo", "b@x.com", "Rome", 4)],
        [],
    ),
    (
        "crlf-preamble-and-quoted-newline-in-the-body",
        b'Contacts report\r\n\r\nName,Email,Notes\r\nAnn,a@x.com,"one\r\ntwo"\r\nBo,b@x.com,x\r\n',
        3,
        ("Name", "Email", "Notes"),
        [("Ann", "a@x.com", "one\r\ntwo", 4), ("Bo", "b@x.com", "x", 6)],
        [],
    ),
    (
        "one-word-first-line-is-a-one-column-header",
        b"Email\na@x.com\nName,Email,City\n",
        1,
        ("Email",),
        [("a@x.com", 2)],
        [(3, "expected 1 fields, found 3")],
    ),
    (
        "two-column-file-is-never-shifted",
        b"Full Name,Company\nAnn Lee,Acme\nBo Ek,Initech\n",
        1,
        ("Full Name", "Company"),
        [("Ann Lee", "Acme", 2), ("Bo Ek", "Initech", 3)],
        [],
    ),
    (
        "a-title-above-data-without-a-header-stays-the-header",
        b"Customer list\nAnn,a@x.com,Oslo\nBo,b@x.com,Rome\n",
        1,
        ("Customer list",),
        [],
        [(2, "expected 1 fields, found 3"), (3, "expected 1 fields, found 3")],
    ),
    (
        "sep-hint-then-title",
        b"sep=;\nContacts export\n\nName;Email;City\nAnn;a@x.com;Oslo\n",
        4,
        ("Name", "Email", "City"),
        [("Ann", "a@x.com", "Oslo", 5)],
        [],
    ),
    (
        "blank-lines-above-the-header-are-counted",
        b"\n\nName,City\nAnn,Oslo\n",
        3,
        ("Name", "City"),
        [("Ann", "Oslo", 4)],
        [],
    ),
]


@pytest.mark.parametrize(
    ("content", "header_line", "columns", "rows", "rejects"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_header_found_below_the_preamble(
    write: Callable[..., Path],
    contract: Callable[[Extracted, str], None],
    content: bytes,
    header_line: int,
    columns: tuple[str, ...],
    rows: list[Row],
    rejects: list[Row],
) -> None:
    path = write(content)
    result = read_source("csv", path)
    contract(result, str(path))
    assert result.header_line == header_line
    assert result.columns == columns
    assert result.frame.drop("_source").rows() == rows
    assert result.rejects.select("_row", "error").rows() == rejects


def test_skip_rows_decides_what_detection_cannot(write: Callable[..., Path]) -> None:
    path = write(b"Customer list\nexported 2024\nName,Email,City\nAnn,a@x.com,Oslo\n")
    result = read_source("csv", path, skip_rows=2)
    assert result.header_line == 3
    assert result.columns == ("Name", "Email", "City")
    assert result.frame.drop("_source").rows() == [("Ann", "a@x.com", "Oslo", 4)]


def test_skip_rows_zero_turns_detection_off(write: Callable[..., Path]) -> None:
    path = write(b"Notes:\n\nName,Email,City\nAnn,a@x.com,Oslo\n")
    assert read_source("csv", path).header_line == 3
    result = read_source("csv", path, skip_rows=0)
    assert result.header_line == 1
    assert result.columns == ("Notes:",)
    assert result.rejects["_row"].to_list() == [3, 4]


def test_skip_rows_keeps_the_fallback_path_on_physical_lines(write: Callable[..., Path]) -> None:
    # the stray quote sends the file to the csv-module path
    path = write(b'title\nmore\nName,Height,City\nBob,5\'10",Oslo\nAnn,6,"Rome"\n')
    result = read_source("csv", path, skip_rows=2)
    assert result.header_line == 3
    assert result.frame.drop("_source").rows() == [
        ("Bob", "5'10\"", "Oslo", 4),
        ("Ann", "6", "Rome", 5),
    ]


def test_skip_rows_past_the_end_reads_nothing(write: Callable[..., Path]) -> None:
    result = read_source("csv", write(b"a,b\n1,2\n"), skip_rows=5)
    assert result.columns == ()
    assert result.rows_read == 0


def test_negative_skip_rows_is_refused(write: Callable[..., Path]) -> None:
    with pytest.raises(SourceError, match="skip_rows"):
        read_source("csv", write(b"a,b\n"), skip_rows=-1)


def test_unterminated_quote_below_a_preamble_names_its_real_line(
    write: Callable[..., Path],
) -> None:
    path = write(b'Contacts report\n\nName,Email,Notes\nAnn,a@x.com,"never closed\nBo,b@x.com,x\n')
    with pytest.raises(SourceError) as caught:
        read_source("csv", path)
    assert caught.value.line == 4


def test_renamed_headers_are_reported(write: Callable[..., Path]) -> None:
    path = write(b"Name,Phone,Phone,,_row,Email,Email\nAnn,1,2,3,4,a@x.com,b@x.com\n")
    result = read_source("csv", path)
    assert result.columns == ("Name", "Phone", "Phone_2", "column_4", "_row_2", "Email", "Email_2")
    assert result.renamed == (("Phone", "Phone_2"), ("_row", "_row_2"), ("Email", "Email_2"))


def test_no_renames_no_report(write: Callable[..., Path]) -> None:
    assert read_source("csv", write(b"a,b\n1,2\n")).renamed == ()


# -- properties ---------------------------------------------------------------------------------

LINE_BREAK = re.compile(r"\r\n|\r|\n")
PIECES = ["a", "Z", "é", "7", " ", ",", ";", '"', '""', "\n", "\r\n", "@", "x.com"]
HEADERS = ["First Name", "Last Name", "Email", "Company", "Job Title"]
# one cell each; a line of two cells is a preamble only above a header of five names or more
TWO_CELLS = "Filtered By:,Type equals Customer"
PREAMBLE_LINES = [
    "Notes:",
    LINKEDIN_NOTE.decode(),
    "Accounts with Contacts,,,,",
    "Generated By:  Dana Whitfield  5/14/2024 10:32 AM",
    "# exported by the nightly job",
    'Report "Q3',
    "",
    ",,,",
    "   ",
]

cell = st.lists(st.sampled_from(PIECES), max_size=6).map("".join)


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]], str]:
    width = draw(st.integers(min_value=3, max_value=len(HEADERS)))
    records = draw(st.lists(st.lists(cell, min_size=width, max_size=width), max_size=10))
    terminator = draw(st.sampled_from(["\r\n", "\n"]))
    return HEADERS[:width], records, terminator


@st.composite
def preambles(draw: st.DrawFn, width: int) -> list[str]:
    lines = PREAMBLE_LINES + ([TWO_CELLS] if width >= 5 else [])
    return draw(st.lists(st.sampled_from(lines), min_size=1, max_size=5))


def _breaks(text: str) -> int:
    return len(LINE_BREAK.findall(text))


Expected = list[tuple[list[str | None], int]]


def _written(header: list[str], records: list[list[str]], terminator: str) -> tuple[str, Expected]:
    """The CSV text and, per non-blank record, its values and its start line."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=terminator)
    writer.writerow(header)
    expected: Expected = []
    for record in records:
        start = _breaks(out.getvalue()) + 1
        writer.writerow(record)
        blank = not any(value.strip(" ") for value in record) and not any(map(_breaks, record))
        if not blank:
            expected.append(([value or None for value in record], start))
    return out.getvalue(), expected


def _read(text: str, **options: object) -> Extracted:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.csv"
        path.write_bytes(text.encode("utf-8"))
        return read_source("csv", path, delimiter=",", **options)  # type: ignore[arg-type]


@pytest.mark.slow  # a sweep of generated files
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables().flatmap(lambda table: st.tuples(st.just(table), preambles(len(table[0])))))
def test_a_preamble_never_shifts_row_numbers(
    drawn: tuple[tuple[list[str], list[list[str]], str], list[str]],
) -> None:
    (header, records, terminator), preamble = drawn
    text, expected = _written(header, records, terminator)
    assume(list(csv.reader(io.StringIO(text, newline=""))) == [header, *records])
    lines = len(preamble)

    result = _read(terminator.join(preamble) + terminator + text)

    assert result.header_line == lines + 1
    assert result.columns == tuple(header)
    assert result.rejects.height == 0
    assert result.frame.drop("_source").rows() == [
        (*values, start + lines) for values, start in expected
    ]


@pytest.mark.slow  # a sweep of generated files
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.lists(st.sampled_from(["h0", "1,2,3", "x"]), min_size=1, max_size=4))
def test_skipped_rows_never_shift_row_numbers(
    table: tuple[list[str], list[list[str]], str], junk: list[str]
) -> None:
    header, records, terminator = table
    text, expected = _written(header, records, terminator)
    assume(list(csv.reader(io.StringIO(text, newline=""))) == [header, *records])

    result = _read(terminator.join(junk) + terminator + text, skip_rows=len(junk))

    assert result.header_line == len(junk) + 1
    assert result.columns == tuple(header)
    assert result.frame.drop("_source").rows() == [
        (*values, start + len(junk)) for values, start in expected
    ]
