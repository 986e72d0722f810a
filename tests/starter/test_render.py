"""The starter file stays YAML whatever the headers hold: no name breaks out of a comment,
adds a key or meets the loader's ${VAR} substitution."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from crmsync.cli import cli
from crmsync.config import load_pipeline
from crmsync.extract import read_source
from crmsync.starter import write_starter
from crmsync.starter.yaml_text import comment_lines, quoted, scalar
from crmsync.transform.mapping import header_key

ENV = {"RALLY_BASE_URL": "http://127.0.0.1:1", "RALLY_API_KEY": "rk_live_secret"}

# (header, the Rally field it should fill, or None)
HOSTILE = [
    ("E-mail\nAddress", "email"),
    ("First: Name", "firstName"),
    ("Last #Name", "lastName"),
    ("${NOTES}", "notes"),
    ("Job\u2028Title", "title"),
    ("evil\nname: injected\nload: {mode: bulk}", None),
    ("# not a comment", None),
    ("key: value", None),
    ("quote \" and ' both", None),
    ("${RALLY_API_KEY}", None),
    ("tab\tand\rcr\x85nel", None),
    ("- list item", None),
    ("{flow: map}", None),
    ("&anchor *alias !tag", None),
    ("x" * 300, None),
]
TOP_KEYS = {"name", "object", "source", "mapping", "normalize", "dedupe", "destination", "load"}


@pytest.fixture
def hostile_file(tmp_path: Path) -> Path:
    out = io.StringIO(newline="")
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([header for header, _ in HOSTILE])
    for n in range(3):
        row = ["x"] * len(HOSTILE)
        row[0], row[1], row[2] = f"p{n}@example.com", f"Ann{n}", f"Lee{n}"
        writer.writerow(row)
    path = tmp_path / "evil: #1.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def test_hostile_headers_stay_names(hostile_file: Path, tmp_path: Path) -> None:
    output = tmp_path / "starter.yaml"
    starter = write_starter(hostile_file, object_name="contacts", output=output)

    data = yaml.safe_load(output.read_text(encoding="utf-8"))
    assert set(data) == {*TOP_KEYS, "state", "report"}
    assert data["load"] == {"mode": "auto", "batch_size": 100, "concurrency": 4}
    expected = {field: header for header, field in HOSTILE if field}
    written = dict(data["mapping"])
    assert written.pop("notes") == "$ {NOTES}"  # ${...} defused; mappings ignore punctuation
    assert written == {f: h for f, h in expected.items() if f != "notes"}
    assert starter.suggestion.mapping == expected

    # the loader's ${VAR} never sees a header: no NOTES variable is needed, no key leaks
    pipeline = load_pipeline(output, env=ENV)
    columns = read_source("csv", hostile_file).columns
    for name, spec in pipeline.step.mapping.items():  # as mappings match: exact, else by key
        (wanted,) = spec.columns
        found = wanted if wanted in columns else _first_by_key(wanted, columns)
        assert found == expected[name], name
    assert "rk_live_secret" not in output.read_text(encoding="utf-8")


def _first_by_key(wanted: str, columns: tuple[str, ...]) -> str | None:
    return next((c for c in columns if header_key(c) == header_key(wanted)), None)


def test_every_comment_stays_one_line(hostile_file: Path, tmp_path: Path) -> None:
    output = tmp_path / "starter.yaml"
    text = write_starter(hostile_file, object_name="contacts", output=output).text
    lines = text.split("\n")
    assert text.splitlines() == lines[:-1]  # no \u2028, \x85, \r: only \n breaks lines
    for line in lines:
        assert line.isprintable(), repr(line)
        yaml.safe_load(line.strip())  # each line is YAML on its own: nothing spans two
    assert '"evil\\nname: injected\\nload: {mode: bulk}"' in text


@pytest.mark.parametrize(
    "value",
    ["plain", "a: b", "#x", "- y", "line\nbreak", "sep\u2028x", "nel\x85x", "'\"", "", "${X}y"],
    ids=["plain", "colon", "hash", "dash", "newline", "line-sep", "nel", "quotes", "empty", "env"],
)
def test_scalar_is_one_line_that_reads_back(value: str) -> None:
    text = scalar(value)
    assert "\n" not in text and "\u2028" not in text and "\x85" not in text
    assert yaml.safe_load(text) == value.replace("${", "$ {")


def test_names_in_comments_are_escaped_and_cut() -> None:
    assert quoted("a\nb\u2028c") == '"a\\nb\\u2028c"'
    assert quoted("x" * 100).endswith('x..."')
    assert comment_lines("one\u2029two", 2) == ["  # one two"]


def test_a_copyable_line_is_never_wrapped() -> None:
    long = "  notes: {template: " + '"' + "{A} " * 40 + '"}'
    lines = comment_lines("To keep them:\n" + long)
    assert lines == ["# To keep them:", "# " + long]


def test_a_path_holding_an_env_reference_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "${HOME}.csv"
    source.write_text("Email,First Name,Last Name\na@x.io,A,B\n")
    result = CliRunner().invoke(cli, ["init", str(source), "-o", str(tmp_path / "p.yaml")])
    assert result.exit_code != 0
    assert "environment variable" in str(result.exception or result.output)
    assert not (tmp_path / "p.yaml").exists()
