"""Encodings: detection, explicit and strict, never lossy; the Excel fixtures end to end."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from crmsync.errors import SourceError
from crmsync.extract import Extracted, read_source
from crmsync.extract.encoding import utf8_lines

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "extract"

TEXT = "Email,Name,City\njosé@example.com,Jürgen Weiß,Zürich\nü@x.de,Ann,Köln\n"
UTF8_ROWS = [("josé@example.com", "Jürgen Weiß", "Zürich", 2), ("ü@x.de", "Ann", "Köln", 3)]

DETECTED = [
    ("utf-8", TEXT.encode("utf-8"), "utf-8", UTF8_ROWS),
    ("utf-8-bom", b"\xef\xbb\xbf" + TEXT.encode("utf-8"), "utf-8-sig", UTF8_ROWS),
    ("utf-16-le-bom", TEXT.encode("utf-16"), "utf-16", UTF8_ROWS),
    ("utf-16-be-bom", b"\xfe\xff" + TEXT.encode("utf-16-be"), "utf-16", UTF8_ROWS),
    ("utf-16-le-no-bom", TEXT.encode("utf-16-le"), "utf-16-le", UTF8_ROWS),
    ("cp1252", TEXT.encode("cp1252"), "cp1252", UTF8_ROWS),
    (
        "cp1252-euro-and-quotes",
        "Email,Note\na@x.com,€ 5 “quoted” – dash\n".encode("cp1252"),
        "cp1252",
        [("a@x.com", "€ 5 “quoted” – dash", 2)],
    ),
    (
        "latin-1-when-cp1252-undefined-byte",
        b"Email,Note\nj\xe9@x.com,\x81\x8d\n",
        "latin-1",
        [("jé@x.com", "\x81\x8d", 2)],
    ),
]


@pytest.mark.parametrize(
    ("content", "encoding", "rows"), [d[1:] for d in DETECTED], ids=[d[0] for d in DETECTED]
)
def test_encoding_detected(
    write: Callable[..., Path],
    contract: Callable[[Extracted, str], None],
    content: bytes,
    encoding: str,
    rows: list[tuple[object, ...]],
) -> None:
    path = write(content)
    result = read_source("csv", path)
    contract(result, str(path))
    assert result.encoding == encoding
    assert result.columns[0] in {"Email"}, "the BOM must not stick to the first header"
    assert result.frame.drop("_source").rows() == rows


GIVEN = [
    ("cp1252-named-windows-1252", TEXT.encode("cp1252"), "windows-1252", "cp1252"),
    ("latin-1", TEXT.encode("latin-1"), "latin-1", "iso8859-1"),
    ("utf-8-with-bom-stripped", b"\xef\xbb\xbf" + TEXT.encode(), "utf-8", "utf-8"),
    ("utf-16", TEXT.encode("utf-16"), "utf-16", "utf-16"),
]


@pytest.mark.parametrize(
    ("content", "given", "reported"), [g[1:] for g in GIVEN], ids=[g[0] for g in GIVEN]
)
def test_encoding_given(
    write: Callable[..., Path], content: bytes, given: str, reported: str
) -> None:
    result = read_source("csv", write(content), encoding=given)
    assert result.encoding == reported
    assert result.frame.drop("_source").rows() == UTF8_ROWS


def test_given_encoding_is_strict_and_names_the_line(write: Callable[..., Path]) -> None:
    path = write(b"Email,Name\na@x.com,Ann\nj\xe9@x.com,Jo\n")
    with pytest.raises(SourceError) as caught:
        read_source("csv", path, encoding="utf-8")
    assert caught.value.line == 3
    assert caught.value.source == str(path)
    assert "e9" in str(caught.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"a,b\n1,\x00\x01\x02\n", "NUL"),
        (b"PK\x03\x04\x14\x00\x06\x00rest-of-a-zip", "xlsx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", ".xls"),
    ],
    ids=["binary-nul", "xlsx-workbook", "xls-workbook"],
)
def test_binary_files_are_refused(write: Callable[..., Path], content: bytes, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        read_source("csv", write(content))


def test_unknown_encoding_name(write: Callable[..., Path]) -> None:
    with pytest.raises(SourceError, match="unknown encoding"):
        read_source("csv", write(b"a\n1\n"), encoding="klingon-8")


FIXTURES = [
    (
        "excel_unicode_text.txt",
        "utf-16",
        "\t",
        ("First Name", "Last Name", "E-mail Address", "City"),
        [
            ("Zoë", "Müller", "zoe.mueller@example.de", "Köln", 2),
            ("José", "García", "jose@example.es", "Málaga", 3),
            ("李", "王", "wang@example.cn", "北京", 4),
        ],
    ),
    (
        "excel_semicolon_cp1252.csv",
        "cp1252",
        ";",
        ("Vorname", "Nachname", "E-Mail", "Umsatz €", "Ort"),
        [
            ("Jürgen", "Weiß", "juergen@example.de", "1.234,50", "München", 2),
            ("Renée", "Dubois", "renee@example.fr", "99,90", "Besançon", 3),
            ("Anna; Maria", 'O\'Brien "AJ"', "anna@example.ie", "0", "Dublin\r\n2", 4),
        ],
    ),
    (
        "excel_utf8_bom.csv",
        "utf-8-sig",
        ",",
        ("Email", "First Name", "Last Name", "Company"),
        [
            ("ana@example.pt", "Ana", "Gonçalves", "Acme, Lda", 2),
            ("bo@example.se", "Bo", "Åström", "Svensk AB", 3),
        ],
    ),
]


@pytest.mark.parametrize(
    ("name", "encoding", "delimiter", "columns", "rows"), FIXTURES, ids=[f[0] for f in FIXTURES]
)
def test_excel_exports(
    contract: Callable[[Extracted, str], None],
    name: str,
    encoding: str,
    delimiter: str,
    columns: tuple[str, ...],
    rows: list[tuple[object, ...]],
) -> None:
    path = DATA_DIR / name
    result = read_source("csv", path)
    contract(result, str(path))
    assert (result.encoding, result.delimiter, result.columns) == (encoding, delimiter, columns)
    assert result.frame.drop("_source").rows() == rows


def _decodes(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# near-UTF-8 bytes: valid text cut or spliced anywhere, and the forms a strict decoder refuses
NEAR_UTF8 = st.lists(
    st.one_of(
        st.text().map(lambda text: text.encode("utf-8", "surrogatepass")),
        st.sampled_from(
            [b"\xed\xa0\x80", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xf4\x90\x80\x80", b"\xf8", b"\xff"]
        ),
        st.binary(max_size=4),
    ),
    max_size=8,
).map(b"".join)


@given(NEAR_UTF8)
@example(b"\xed\xa0\x80")  # a surrogate, encoded: Python refuses it
@example(b"\xc0\xaf")  # an overlong "/"
@example(b"ok \xf0\x9f\x98")  # an emoji cut short at the end
def test_the_utf8_check_agrees_with_python_s_decoder(data: bytes) -> None:
    assert utf8_lines(data)[0] == _decodes(data)
