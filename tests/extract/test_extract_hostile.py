"""Source files written to hurt, or just unlucky: a FIFO nobody writes to, a device, two
encodings in one file, JSON nested 100,000 deep, a 100,000-column header. Each is a clear
SourceError (the file) or a reject (one record), quickly, never a hang or a traceback."""

from __future__ import annotations

import csv
import os
import time
from pathlib import Path

import pytest

from crmsync.errors import SourceError
from crmsync.extract import SourceKind, read_source
from crmsync.extract.json_reader import TOO_DEEP
from crmsync.extract.records import MAX_COLUMNS
from crmsync.extract.redmine import read_redmine_export

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("kind", ["csv", "json", "ndjson"])
def test_a_fifo_without_a_writer_is_refused_not_waited_on(tmp_path: Path, kind: SourceKind) -> None:
    path = tmp_path / "contacts.csv"
    os.mkfifo(path)
    with pytest.raises(SourceError, match="not a regular file"):
        read_source(kind, path)


def test_a_device_that_never_ends_is_refused() -> None:
    with pytest.raises(SourceError, match="not a regular file"):
        read_source("csv", "/dev/zero")


# -- encodings ---------------------------------------------------------------------------------


def test_a_file_in_two_encodings_is_refused_with_the_lines_of_each(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        b"First,Last,Email\n"
        + "René,Ütz,rene@x.org\n".encode()  # line 2: UTF-8
        + "Zoë,Brandt,zoe@x.org\n".encode("cp1252")  # line 3: Windows-1252
        + b"Ada,Lovelace,ada@x.org\n"
        + "Łukasz,Nowak,l@x.org\n".encode()  # line 5: UTF-8
    )
    with pytest.raises(SourceError) as caught:
        read_source("csv", path)
    message = str(caught.value)
    assert "mixed encodings: UTF-8 on lines 2, 5, another encoding" in message
    assert "(Windows-1252?) on line 3" in message
    assert caught.value.line == 2


def test_a_file_all_in_windows_1252_still_reads(tmp_path: Path) -> None:
    path = tmp_path / "cp1252.csv"
    path.write_bytes("First,Email\nRené,r@x.org\nZoë “Z”,z@x.org\nÖ’s,o@x.org\n".encode("cp1252"))
    extracted = read_source("csv", path)
    assert extracted.encoding == "cp1252"
    assert extracted.frame["First"].to_list() == ["René", "Zoë “Z”", "Ö’s"]


def test_a_named_encoding_is_read_as_named(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"First\n" + "René\n".encode() + "Zoë\n".encode("cp1252"))
    assert read_source("csv", path, encoding="cp1252").frame["First"].to_list() == [
        "RenÃ©",
        "Zoë",
    ]


# -- nesting -----------------------------------------------------------------------------------


def test_a_json_array_nested_100000_deep_is_one_rejected_record(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text(DEEP, encoding="utf-8")
    extracted = read_source("json", path)
    assert extracted.frame.height == 0
    assert extracted.rejects.select("_row", "error").rows() == [(1, TOO_DEEP)]


def test_records_beside_one_too_deep_for_the_parser_still_load(tmp_path: Path) -> None:
    """Python's parser gives up some thousand levels down, on the whole document: the array
    is then read element by element, and only the deep one is rejected."""
    path = tmp_path / "deep.json"
    deep = '{"x": ' + "[" * 3000 + '"a ] string ["' + "]" * 3000 + "}"
    records = ['{"email": "a@x.org"}', deep, '{"email": "b@x.org", "n": [1, {"k": "]"}]}']
    path.write_text("[\n" + ",\n  ".join(records) + "\n]\n", encoding="utf-8")
    extracted = read_source("json", path)
    assert extracted.frame["_row"].to_list() == [1, 3]
    assert extracted.frame["email"].to_list() == ["a@x.org", "b@x.org"]
    assert extracted.rejects.select("_row", "error").rows() == [(2, TOO_DEEP)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"contacts": [' + DEEP + "]}", "nested too deeply"),
        ("[" + DEEP + ", }", "invalid JSON"),
        ("[" + DEEP, "invalid JSON"),
        ("[" + DEEP + "] x", "invalid JSON"),
    ],
    ids=["wrapped", "bad-after", "unclosed", "trailing"],
)
def test_a_deep_document_that_is_no_plain_array_is_refused(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "deep.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourceError, match=expected):
        read_source("json", path)


def test_a_deep_ndjson_line_is_a_reject_and_the_others_load(tmp_path: Path) -> None:
    path = tmp_path / "deep.ndjson"
    lines = [
        '{"email": "a@x.org"}',
        '{"x": ' + DEEP + "}",
        '{"email": "b@x.org", "tags": ' + "[" * 500 + "]" * 500 + "}",
        '{"email": "c@x.org", "n": {"ok": [1, [2]]}}',
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    extracted = read_source("ndjson", path)
    assert extracted.frame["_row"].to_list() == [1, 4]
    assert extracted.frame["n"].to_list() == [None, '{"ok":[1,[2]]}']
    assert extracted.rejects["_row"].to_list() == [2, 3]
    assert set(extracted.rejects["error"]) == {TOO_DEEP}


def test_a_deep_record_in_a_json_array_is_a_reject(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    deep = "[" * 900 + "]" * 900
    path.write_text(f'[{{"email": "a@x.org"}}, {{"x": {deep}}}, {deep}]', encoding="utf-8")
    started = time.monotonic()
    extracted = read_source("json", path)
    assert time.monotonic() - started < 5  # polars took a minute over the deep value
    assert extracted.frame["_row"].to_list() == [1]
    assert extracted.rejects.select("_row", "error").rows() == [(2, TOO_DEEP), (3, TOO_DEEP)]


def test_a_deep_redmine_export_is_refused_and_a_deep_contact_rejected(tmp_path: Path) -> None:
    whole = tmp_path / "deep.json"
    whole.write_text('{"contacts": [' + DEEP + "]}", encoding="utf-8")
    with pytest.raises(SourceError, match="nested too deeply"):
        read_redmine_export(whole)
    xml = tmp_path / "deep.xml"
    xml.write_text(
        "<contacts><contact><id>1</id>" + "<x>" * 100_000 + "</x>" * 100_000 + "</contact>"
        "<contact><id>2</id><first_name>B</first_name></contact></contacts>",
        encoding="utf-8",
    )
    extracted = read_redmine_export(xml)
    assert extracted.frame["id"].to_list() == ["2"]
    assert extracted.rejects.select("_row", "error").rows() == [
        (1, "nested too deeply to be a contact")
    ]


# -- width -------------------------------------------------------------------------------------


def wide_csv(path: Path, width: int, rows: int = 3) -> Path:
    header = ",".join(["email", *(f"c{i}" for i in range(width - 1))])
    body = [",".join([f"p{r}@x.org", *("x" * (width - 1))]) for r in range(rows)]
    path.write_text("\n".join([header, *body]) + "\n", encoding="utf-8")
    return path


def test_a_100000_column_header_is_refused_quickly(tmp_path: Path) -> None:
    path = wide_csv(tmp_path / "wide.csv", 100_000)
    started = time.monotonic()
    with pytest.raises(SourceError, match="the header has 100,000 columns, more than the 10,000"):
        read_source("csv", path)
    assert time.monotonic() - started < 5  # it took 12.5 s and 1.4 GB to read


def test_a_header_of_the_widest_allowed_reads(tmp_path: Path) -> None:
    extracted = read_source("csv", wide_csv(tmp_path / "wide.csv", MAX_COLUMNS))
    assert extracted.frame.width == MAX_COLUMNS + 2  # and _source, _row
    assert extracted.frame["email"].to_list() == ["p0@x.org", "p1@x.org", "p2@x.org"]


def test_the_exact_path_refuses_a_wide_header_too(tmp_path: Path) -> None:
    path = wide_csv(tmp_path / "wide.csv", MAX_COLUMNS + 1)
    with path.open("a", encoding="utf-8", newline="") as out:
        out.write("a\rb,x\n")  # a lone carriage return: only the csv module's path reads it
    with pytest.raises(SourceError, match="columns, more than the"):
        read_source("csv", path)


@pytest.mark.parametrize("quoted", [False, True], ids=["bare", "quoted"])
def test_a_column_name_of_a_megabyte_reads_whatever_csv_s_limit_was(
    tmp_path: Path, quoted: bool
) -> None:
    """The csv module's field limit is process-wide (128 KiB until someone raises it): a
    fresh `crmsync run` met it while counting the header's columns and crashed (exit 70)."""
    name = "H, " * 300_000 + "H" if quoted else "H" * 1_000_000
    shown = f'"{name}"' if quoted else name
    path = tmp_path / "wide.csv"
    path.write_text(f"email,{shown}\np@x.org,1\n", encoding="utf-8")
    before = csv.field_size_limit(128 * 1024)  # what a fresh process starts with
    try:
        extracted = read_source("csv", path)
    finally:
        csv.field_size_limit(before)
    assert extracted.frame["email"].to_list() == ["p@x.org"]
    assert name in extracted.frame.columns
