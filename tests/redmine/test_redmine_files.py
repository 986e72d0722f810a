"""read_redmine_export: the sample files in every format give the same frame; shapes; errors."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import polars as pl
import pytest

from crmsync.errors import SourceError
from crmsync.extract.redmine import CONTACT_COLUMNS, NOTE_COLUMNS, read_redmine_export

NEWER_CSV_COLUMNS = [  # what the newer CSV export carries
    "id", "first_name", "middle_name", "last_name", "company", "job_title", "email",
    "other_emails", "phone", "other_phones", "street", "city", "region", "postcode", "country",
    "tags", "assigned_to_name", "author_name",
]  # fmt: skip
XLS_CSV_COLUMNS = [  # the XLS-style one: no author, but is_company, skype, website, ...
    *[name for name in NEWER_CSV_COLUMNS if name != "author_name"],
    "is_company", "skype_name", "website", "birthday", "background",
]  # fmt: skip
NOT_IN_NEWER_CSV = ["is_company", "website", "skype_name", "birthday", "background",
                    "country_code", "assigned_to_id"]  # fmt: skip


def without_source(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.drop("_source")


def latin1(frame: pl.DataFrame) -> pl.DataFrame:
    """What an ISO-8859-1 export keeps of the text: Redmine writes "?" for what Latin-1 lacks."""
    return frame.with_columns(
        pl.col(name).map_elements(
            lambda text: text.encode("iso-8859-1", "replace").decode("iso-8859-1"),
            return_dtype=pl.String,
        )
        for name in frame.columns
        if frame[name].dtype == pl.String
    )


def flat_custom_fields(frame: pl.DataFrame) -> pl.Series:
    """Custom fields as a CSV holds them: a multi-valued field is one ", "-joined text."""

    def flatten(text: str | None) -> str | None:
        if text is None:
            return None
        values = json.loads(text)
        joined = {k: ", ".join(v) if isinstance(v, list) else v for k, v in values.items()}
        return json.dumps(joined, ensure_ascii=False, separators=(",", ":"), sort_keys=True)

    return frame["custom_fields"].map_elements(flatten, return_dtype=pl.String)


# -- the sample files ------------------------------------------------------------------------


@pytest.mark.parametrize("entity", ["contacts", "notes"])
def test_json_xml_and_older_xml_give_the_same_frame(samples: dict[str, Path], entity: str) -> None:
    frames = {
        name: read_redmine_export(samples[name], entity=entity)  # type: ignore[arg-type]
        for name in ("json", "xml", "old_xml")
    }
    reference = frames["json"].frame
    expected_columns = CONTACT_COLUMNS if entity == "contacts" else NOTE_COLUMNS
    assert reference.columns == [*expected_columns, "_source", "_row"]
    assert reference["_row"].to_list() == list(range(1, reference.height + 1))
    assert reference.height == (40 if entity == "contacts" else 21)
    for name, extracted in frames.items():
        assert extracted.rejects.height == 0
        assert extracted.frame["_source"].unique().to_list() == [str(samples[name])]
        assert without_source(extracted.frame).equals(without_source(reference)), name


def test_people_whose_company_comes_later_keep_its_name(samples: dict[str, Path]) -> None:
    frame = read_redmine_export(samples["json"]).frame
    companies = dict(
        frame.filter(pl.col("is_company") == "true").select("first_name", "id").iter_rows()
    )
    people = frame.filter(pl.col("is_company") == "false")
    later = people.filter(
        pl.col("company").replace_strict(companies, default=None).cast(pl.Int64)
        > pl.col("id").cast(pl.Int64)
    )
    assert later.height >= 5
    unmatched = people.filter(~pl.col("company").is_in(list(companies)))["company"]
    assert "Nordwind Logistik" in unmatched.to_list()
    assert people.filter(pl.col("email").is_null())["id"].to_list() == ["14", "30"]


def test_newer_csv_export_in_latin1(samples: dict[str, Path]) -> None:
    csv = read_redmine_export(samples["csv"])
    reference = read_redmine_export(samples["json"]).frame
    assert (csv.encoding, csv.delimiter) in {("cp1252", ","), ("iso-8859-1", ",")}
    assert csv.frame["_row"].to_list() == list(range(2, 42))
    assert csv.frame.columns == reference.columns
    assert latin1(csv.frame.select(NEWER_CSV_COLUMNS)).equals(
        latin1(reference.select(NEWER_CSV_COLUMNS))
    )
    assert csv.frame.filter(pl.col("id") == "4")["last_name"].to_list() == ["?ukasiewicz"]
    assert csv.frame["custom_fields"].equals(flat_custom_fields(reference))
    minutes = [pl.col("created_on").str.slice(0, 16), pl.col("updated_on").str.slice(0, 16)]
    assert csv.frame.select(minutes).equals(reference.select(minutes))
    assert csv.frame["created_on"].str.ends_with(":00Z").all()
    assert csv.frame.select(NOT_IN_NEWER_CSV).null_count().row(0) == (40,) * 7


def test_xls_style_csv_with_bom_and_semicolons(samples: dict[str, Path]) -> None:
    xls = read_redmine_export(samples["xls_csv"])
    reference = read_redmine_export(samples["json"]).frame
    assert (xls.encoding, xls.delimiter) == ("utf-8-sig", ";")
    assert xls.frame.select(XLS_CSV_COLUMNS).equals(reference.select(XLS_CSV_COLUMNS))
    assert xls.frame["custom_fields"].equals(flat_custom_fields(reference))
    assert xls.frame["_row"].head(3).to_list() == [2, 4, 5]  # Sarah's background spans 2 lines
    assert xls.frame.filter(pl.col("id") == "4")["last_name"].to_list() == ["Łukasiewicz"]


def test_csv_has_no_notes(samples: dict[str, Path], caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        notes = read_redmine_export(samples["csv"], entity="notes")
    assert notes.frame.height == 0
    assert notes.frame.columns == [*NOTE_COLUMNS, "_source", "_row"]
    assert "a CSV export has no notes" in caplog.text


def test_list_export_without_notes_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "list.json"
    path.write_text('{"contacts": [{"id": 1, "first_name": "A"}], "total_count": 1}')
    with caplog.at_level(logging.WARNING):
        assert read_redmine_export(path, entity="notes").frame.height == 0
    assert "no contact carries notes" in caplog.text


@pytest.mark.parametrize("name", ["json", "xml", "csv"])
def test_format_found_without_a_suffix(samples: dict[str, Path], tmp_path: Path, name: str) -> None:
    copy = tmp_path / "export.dat"
    shutil.copyfile(samples[name], copy)
    assert read_redmine_export(copy).frame.height == 40


# -- shapes ----------------------------------------------------------------------------------

SHAPES: list[tuple[str, str, str, dict[str, str | None]]] = [
    (
        "json-plain-strings",
        ".json",
        '{"contacts": [{"id": 1, "phones": ["+1 1", "+1 2"], "emails": ["a@x.io", "b@x.io"],'
        ' "tag_list": "vip, cold call", "is_company": "1"}]}',
        {"phone": "+1 1", "other_phones": "+1 2", "email": "a@x.io", "other_emails": "b@x.io",
         "tags": "vip, cold call", "is_company": "true"},
    ),
    (
        "json-comma-strings",
        ".json",
        '[{"id": "7", "phone": "+1 1, +1 2,", "email": "a@x.io", "tags": [{"name": "old"}]}]',
        {"id": "7", "phone": "+1 1", "other_phones": "+1 2", "email": "a@x.io", "tags": "old"},
    ),
    (
        "json-show-answer",
        ".json",
        '{"contact": {"id": 3, "address": {"full_address": {"full_address": "x"},'
        ' "street1": "Main St 1", "city": "Oslo"}, "custom_fields": [{"id": 2, "name": "Langs",'
        ' "value": ["no", "en"]}, {"id": 3, "name": "Empty", "value": ""}]}}',
        {"street": "Main St 1", "city": "Oslo", "custom_fields": '{"Langs":["no","en"]}'},
    ),
    (
        "xml-current",
        ".xml",
        "<contacts><contact><id>5</id><is_company>false</is_company><first_name>Ann</first_name>"
        "<phones type='array'><phone><number>+1 1</number></phone></phones>"
        "<emails type='array'><email><address>a@x.io</address></email></emails>"
        "<tag_list>a, b</tag_list><assigned_to id='3' name='Eve'/>"
        "<custom_fields type='array'><custom_field id='1' name='Langs' multiple='true'>"
        "<value type='array'><value>no</value><value>en</value></value></custom_field>"
        "<custom_field id='2' name='License'><value>L1</value></custom_field></custom_fields>"
        "</contact></contacts>",
        {"id": "5", "first_name": "Ann", "phone": "+1 1", "email": "a@x.io", "tags": "a, b",
         "assigned_to_id": "3", "assigned_to_name": "Eve",
         "custom_fields": '{"Langs":["no","en"],"License":"L1"}'},
    ),
    (
        "xml-older",
        ".xml",
        "<?xml version='1.0' encoding='ISO-8859-1'?><contacts type='array' total_count='1'>"
        "<contact><id>6</id><first_name>Jos\xe9</first_name>"
        "<phones type='array'><phone>+1 1</phone><phone>+1 2</phone></phones>"
        "<emails type='array'><email>j@x.io</email></emails><tags>vip, referral</tags>"
        "<custom_fields type='array'><custom_field name='License' id='1'>x</custom_field>"
        "</custom_fields></contact></contacts>",
        {"first_name": "José", "phone": "+1 1", "other_phones": "+1 2", "email": "j@x.io",
         "tags": "vip, referral", "custom_fields": '{"License":"x"}', "is_company": "false"},
    ),
    (
        "xml-tag-elements",
        ".xml",
        "<contact><id>8</id><tags type='array'><tag name='a'/><tag>b</tag></tags></contact>",
        {"id": "8", "tags": "a, b"},
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("suffix", "text", "expected"), [case[1:] for case in SHAPES], ids=[case[0] for case in SHAPES]
)
def test_shapes(tmp_path: Path, suffix: str, text: str, expected: dict[str, str | None]) -> None:
    path = tmp_path / f"export{suffix}"
    path.write_bytes(text.encode("iso-8859-1" if "ISO-8859-1" in text else "utf-8"))
    result = read_redmine_export(path)
    assert result.rejects.height == 0
    row = result.frame.row(0, named=True)
    assert {name: row[name] for name in expected} == expected


@pytest.mark.parametrize(
    ("suffix", "text", "errors"),
    [
        (".json", '{"contacts": [{"id": 1}, 5, {"id": "x"}, {"id": 4, "phones": 3}, {"id": 5}]}',
         ["a contact must be a JSON object, not a number", "id: expected an integer, found 'x'",
          "phones: expected an array, found a number"]),
        (".xml", "<contacts><contact><id>1</id></contact><contact><first_name>No id"
         "</first_name></contact><note/><contact><id>5</id></contact></contacts>",
         ["id: missing", "expected a <contact> element, found <note>"]),
    ],
    ids=["json", "xml"],
)  # fmt: skip
def test_unreadable_records_are_rejects(
    tmp_path: Path, suffix: str, text: str, errors: list[str]
) -> None:
    path = tmp_path / f"export{suffix}"
    path.write_text(text)
    result = read_redmine_export(path)
    assert result.frame["id"].to_list() == ["1", "5"]
    assert result.rejects["error"].to_list() == errors
    assert result.rows_read == len(errors) + 2
    assert sorted([*result.frame["_row"], *result.rejects["_row"]]) == list(
        range(1, result.rows_read + 1)
    )


@pytest.mark.parametrize(
    ("name", "content", "message", "line"),
    [
        ("bad.json", '{"contacts": [\n{"id": 1},\n{"id": 2,,}]}', "invalid JSON", 3),
        ("bad.xml", "<contacts>\n<contact><id>1</id>\n</contacts>", "invalid XML", 3),
        ("other.json", '{"issues": []}', "not a Redmine CRM contacts export", None),
        ("other.xml", "<issues/>", "root element is <issues>", None),
        ("other.csv", "Name,Mail\nA,a@x.io\n", "expected English column captions", None),
    ],
    ids=["json-syntax", "xml-syntax", "json-root", "xml-root", "csv-captions"],
)
def test_unreadable_files(
    tmp_path: Path, name: str, content: str, message: str, line: int | None
) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(SourceError, match=message) as caught:
        read_redmine_export(path)
    assert caught.value.line == line
    assert caught.value.source == str(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="file not found"):
        read_redmine_export(tmp_path / "nope.json")


def test_csv_is_company_words_and_street_lines(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text(
        "#;Is company;First name;Street 1;Street 2;Tags;Created\n"
        "1;Yes;Acme;Main St 1;Floor 2;a,b;2025-01-02 03:04\n"
        "2;0;Ann;;;;2025-01-02T03:04:05\n"
        "3;maybe;Bob;Side St;;;\n",
        encoding="utf-8-sig",
    )
    frame = read_redmine_export(path).frame
    assert frame["is_company"].to_list() == ["true", "false", None]
    assert frame["street"].to_list() == ["Main St 1, Floor 2", None, "Side St"]
    assert frame["tags"].to_list() == ["a, b", None, None]
    assert frame["created_on"].to_list() == ["2025-01-02T03:04:00Z", "2025-01-02T03:04:05Z", None]
    assert frame["custom_fields"].null_count() == 3
