"""CSV parsing: quoting, line numbers, headers, ragged and blank records (table-driven)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from crmsync.extract import Extracted, read_source

Row = tuple[object, ...]

# (id, file bytes, columns, rows as (values..., _row), rejects as (_row, error, raw))
CASES: list[tuple[str, bytes, tuple[str, ...], list[Row], list[Row]]] = [
    (
        "plain",
        b"Email,Name\na@x.com,Ann\nb@x.com,Bob\n",
        ("Email", "Name"),
        [("a@x.com", "Ann", 2), ("b@x.com", "Bob", 3)],
        [],
    ),
    (
        "no-final-newline",
        b"Email,Name\na@x.com,Ann\nb@x.com,Bob",
        ("Email", "Name"),
        [("a@x.com", "Ann", 2), ("b@x.com", "Bob", 3)],
        [],
    ),
    (
        "quoted-commas-and-doubled-quotes",
        b'Name,Company\n"Smith, John","Acme ""Best"" Inc"\n"",x\n',
        ("Name", "Company"),
        [("Smith, John", 'Acme "Best" Inc', 2), (None, "x", 3)],
        [],
    ),
    (
        "quoted-newlines-shift-later-lines",
        b'Name,Notes\nAnn,"line one\nline two\nline three"\nBob,plain\nCy,"a\n\nb"\nDi,end\n',
        ("Name", "Notes"),
        [
            ("Ann", "line one\nline two\nline three", 2),
            ("Bob", "plain", 5),
            ("Cy", "a\n\nb", 6),
            ("Di", "end", 9),
        ],
        [],
    ),
    (
        "crlf-file-with-crlf-in-cell",
        b'Name,Notes\r\nAnn,"one\r\ntwo"\r\nBob,x\r\n',
        ("Name", "Notes"),
        [("Ann", "one\r\ntwo", 2), ("Bob", "x", 4)],
        [],
    ),
    (
        "lone-cr-in-cell",
        b'Name,Notes\nAnn,"one\rtwo"\nBob,x\n',
        ("Name", "Notes"),
        [("Ann", "one\rtwo", 2), ("Bob", "x", 4)],
        [],
    ),
    (
        "classic-mac-cr-lines",
        b"Name,City\rAnn,Oslo\rBob,Rome\r",
        ("Name", "City"),
        [("Ann", "Oslo", 2), ("Bob", "Rome", 3)],
        [],
    ),
    (
        "blank-lines-between-and-after",
        b"Name,City\nAnn,Oslo\n\n\nBob,Rome\n  \n\r\nCy,Lima\n\n",
        ("Name", "City"),
        [("Ann", "Oslo", 2), ("Bob", "Rome", 5), ("Cy", "Lima", 8)],
        [],
    ),
    (
        "blank-lines-before-header",
        b"\n\nName,City\nAnn,Oslo\n",
        ("Name", "City"),
        [("Ann", "Oslo", 4)],
        [],
    ),
    (
        "excel-empty-rows-before-header",
        b";;\n\nName;City;\nAnn;Oslo;\n",
        ("Name", "City", "column_3"),
        [("Ann", "Oslo", None, 4)],
        [],
    ),
    (
        "excel-empty-rows-before-header-fallback",
        b";;\n\nName;City;\nAnn;5'10\";\n",
        ("Name", "City", "column_3"),
        [("Ann", "5'10\"", None, 4)],
        [],
    ),
    (
        "excel-empty-rows-are-not-records",
        b'Name;City\nAnn;Oslo\n;\n"";""\n',
        ("Name", "City"),
        [("Ann", "Oslo", 2)],
        [],
    ),
    (
        "header-spanning-lines",
        b'"E-mail\nAddress",Name\na@x.com,Ann\nb@x.com,Bob\n',
        ("E-mail\nAddress", "Name"),
        [("a@x.com", "Ann", 3), ("b@x.com", "Bob", 4)],
        [],
    ),
    (
        "headers-kept-trimmed-blank-and-duplicate",
        b" E-mail Address ,Email,Email,,Name\n1,2,3,4,5\n",
        ("E-mail Address", "Email", "Email_2", "column_4", "Name"),
        [("1", "2", "3", "4", "5", 2)],
        [],
    ),
    (
        "duplicate-suffix-does-not-steal-a-later-name",
        b"Email,Email,Email_2,_row\n1,2,3,4\n",
        ("Email", "Email_3", "Email_2", "_row_2"),
        [("1", "2", "3", "4", 2)],
        [],
    ),
    (
        "ragged-rows-rejected-rest-loaded",
        b'a,b,c\n1,2,3\n1,2,3,4\n"x\ny",2\n4,5,6\n1,2,"3,4",5,"6\n7"\n7,8,9\n',
        ("a", "b", "c"),
        [("1", "2", "3", 2), ("4", "5", "6", 6), ("7", "8", "9", 9)],
        [
            (3, "expected 3 fields, found 4", "1,2,3,4"),
            (4, "expected 3 fields, found 2", '"x\ny",2'),
            (7, "expected 3 fields, found 5", '1,2,"3,4",5,"6\n7"'),
        ],
    ),
    (
        "trailing-empty-fields-lose-nothing",
        b"a,b\n1,2,\n3,4,,,\n5,6, \n",
        ("a", "b"),
        [("1", "2", 2), ("3", "4", 3)],
        [(4, "expected 2 fields, found 3", "5,6, ")],
    ),
    (
        "short-rows-under-unnamed-trailing-columns",
        b"a,b,,\n1,2\n1,2,3,4\n1\n",
        ("a", "b", "column_3", "column_4"),
        [("1", "2", None, None, 2), ("1", "2", "3", "4", 3)],
        [(4, "expected 4 fields, found 1", "1")],
    ),
    (
        "stray-quote-inside-unquoted-field",
        b'Name,Height\nBob "The Builder" Smith,5\'10"\nAnn,6\n',
        ("Name", "Height"),
        [('Bob "The Builder" Smith', "5'10\"", 2), ("Ann", "6", 3)],
        [],
    ),
    (
        "header-only",
        b"Email,Name\n",
        ("Email", "Name"),
        [],
        [],
    ),
    (
        "empty-file",
        b"",
        (),
        [],
        [],
    ),
    (
        "whitespace-only-file",
        b"\n \r\n\n",
        (),
        [],
        [],
    ),
    (
        "excel-sep-hint-line",
        b"sep=;\nName;City\nAnn;Oslo\n",
        ("Name", "City"),
        [("Ann", "Oslo", 3)],
        [],
    ),
    (
        "whitespace-in-cells-kept",
        b"a,b\n x , y \n",
        ("a", "b"),
        [(" x ", " y ", 2)],
        [],
    ),
    (
        "single-column",
        b"Email\na@x.com\n\nb@x.com\n",
        ("Email",),
        [("a@x.com", 2), ("b@x.com", 4)],
        [],
    ),
]


@pytest.mark.parametrize(
    ("content", "columns", "rows", "rejects"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_csv_cases(
    write: Callable[..., Path],
    contract: Callable[[Extracted, str], None],
    content: bytes,
    columns: tuple[str, ...],
    rows: list[Row],
    rejects: list[Row],
) -> None:
    path = write(content)
    result = read_source("csv", path)
    contract(result, str(path))
    assert result.columns == columns
    assert result.frame.drop("_source").rows() == rows
    assert result.rejects.drop("_source").rows() == rejects


DELIMITERS = [
    ("comma", ",", b'Name,Email\n"A, B",a@x.com\n'),
    ("semicolon", ";", b"Name;Email;Amount\nJ\xc3\xbcrgen;j@x.de;1,5\nAnn;a@x.de;2,25\n"),
    ("tab", "\t", b"Name\tEmail\nAnn, Jr\ta@x.com\n"),
    ("pipe", "|", b"Name|Email|Tags\nAnn|a@x.com|a,b;c\n"),
    ("semicolon-with-quoted-semicolon", ";", b'Name;Email\n"A;B";a@x.com\nC;c@x.com\n'),
]


@pytest.mark.parametrize(
    ("delimiter", "content"), [d[1:] for d in DELIMITERS], ids=[d[0] for d in DELIMITERS]
)
def test_delimiter_is_sniffed(write: Callable[..., Path], delimiter: str, content: bytes) -> None:
    result = read_source("csv", write(content))
    assert result.delimiter == delimiter
    assert result.rejects.height == 0
    assert result.frame.height == content.count(b"\n") - 1
    assert len(result.columns) == content.split(b"\n")[0].count(delimiter.encode()) + 1


def test_given_delimiter_wins_over_sniffing(write: Callable[..., Path]) -> None:
    path = write(b"a;b,c\n1;2,3\n")
    result = read_source("csv", path, delimiter=";")
    assert result.delimiter == ";"
    assert result.columns == ("a", "b,c")
    assert result.frame.drop("_source").rows() == [("1", "2,3", 2)]


def test_reject_keeps_raw_crlf_record_readable(write: Callable[..., Path]) -> None:
    path = write(b'a,b\r\n1,2\r\n"x\r\ny",2,3\r\n3,4\r\n')
    result = read_source("csv", path)
    assert result.frame.drop("_source").rows() == [("1", "2", 2), ("3", "4", 5)]
    assert result.rejects.drop("_source").rows() == [
        (3, "expected 2 fields, found 3", '"x\ny",2,3')
    ]


def test_fallback_path_gives_same_rules(write: Callable[..., Path]) -> None:
    # the stray quote sends the file to the csv-module path; rules and lines stay the same
    content = b'a,b\n5\'10",x\n1,2,3\n\n"p\nq",r\n;\n1,2,\n'
    result = read_source("csv", write(content))
    assert result.frame.drop("_source").rows() == [
        ("5'10\"", "x", 2),
        ("p\nq", "r", 5),
        ("1", "2", 8),
    ]
    assert result.rejects.drop("_source").rows() == [
        (3, "expected 2 fields, found 3", "1,2,3"),
        (7, "expected 2 fields, found 1", ";"),
    ]
