"""Hostile files and pipeline files through the real CLI: a corpus of the audit's cases, and
CSV, JSON and YAML that hypothesis makes up. Whatever comes in, crmsync answers with exit 1
(rows failed, in the report) or 2 (could not start), a message instead of a traceback, and no
piece of the API key anywhere it prints or writes."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmsync.cli import main
from crmsync.errors import EXIT_CANNOT_START, EXIT_ROWS_FAILED

from .hostile import HostileServer, hostile_server

pytestmark = pytest.mark.slow

KEY = "rk_corpus_S3CRET_7f3a9Qx"
HEADER = "First,Last,Email"
BAD_ROW = "Bad,Row,not-an-email"  # every generated file holds one: exit 1 at best
PIPELINE = {
    "name": "corpus",
    "object": "contacts",
    "source": {"kind": "csv", "path": "contacts.csv"},
    "mapping": {"firstName": "First", "lastName": "Last", "email": "Email"},
    "destination": {"base_url": "${RALLY_BASE_URL}", "api_key": "${RALLY_API_KEY}"},
    "state": {"path": "state.db"},
    "report": {"dir": "reports"},
}
QUIET_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,  # the same examples every run
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def pieces(text: str) -> list[str]:
    runs = {KEY[i : i + 8] for i in range(len(KEY) - 7)}
    return [run for run in runs if run in text]


def written(folder: Path) -> str:
    """Everything crmsync wrote into `folder`: reports, state databases, locks."""
    outputs = [*folder.glob("reports/**/*"), *folder.glob("*.db*"), *folder.glob(".crmsync/*")]
    texts = [p.read_bytes().decode("utf-8", errors="replace") for p in outputs if p.is_file()]
    return "\n".join(texts)


class Cli:
    """The real CLI in this process (`crmsync.cli.main`), with the key in the environment and
    an honest small Rally (a dry run reads what Rally holds) on 127.0.0.1."""

    def __init__(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        rally: HostileServer,
    ) -> None:
        self._capsys = capsys
        monkeypatch.setenv("RALLY_BASE_URL", rally.base_url)
        monkeypatch.setenv("RALLY_API_KEY", KEY)

    def __call__(self, *args: str) -> tuple[int, str]:
        self._capsys.readouterr()
        try:
            main([*args])
            code = 0
        except SystemExit as exit:
            code = int(exit.code or 0)
        out = self._capsys.readouterr()
        return code, out.out + out.err


@pytest.fixture(scope="module")
def rally() -> Iterator[HostileServer]:
    with hostile_server() as server:  # no twist: it answers as Rally does
        yield server


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, rally: HostileServer
) -> Cli:
    return Cli(capsys, monkeypatch, rally)


def check(code: int, output: str, folder: Path, expected: int | None = None) -> None:
    assert code in (EXIT_ROWS_FAILED, EXIT_CANNOT_START), output
    if expected is not None:
        assert code == expected, output
    assert "Traceback" not in output and "unexpected error" not in output, output
    assert pieces(output) == [] and pieces(written(folder)) == []


def pipeline_file(folder: Path, changes: dict[str, object] | None = None) -> Path:
    data = {**PIPELINE, **(changes or {})}
    path = folder / "pipeline.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# -- pipeline files ----------------------------------------------------------------------------

LAUGHS = "\n".join(
    ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, 10)]
)
PIPELINE_TEXT = yaml.safe_dump(PIPELINE, sort_keys=False)
PIPELINE_CORPUS: dict[str, Callable[[Path], str]] = {
    "duplicate-key": lambda folder: "name: other\n" + PIPELINE_TEXT,
    "duplicate-state": lambda folder: PIPELINE_TEXT + "state: {path: /tmp/elsewhere.db}\n",
    "yaml-bomb": lambda folder: LAUGHS + "\n" + PIPELINE_TEXT,
    "deep": lambda folder: PIPELINE_TEXT + "x: " + "[" * 100_000 + "]" * 100_000 + "\n",
    "recursive-alias": lambda folder: "x: &a [*a]\n" + PIPELINE_TEXT,
    "not-a-mapping": lambda folder: "- just\n- a list\n",
    "empty": lambda folder: "",
    "binary": lambda folder: "\x89PNG\r\n\x1a\n\x00\x00",
    "infinite-timeout": lambda folder: PIPELINE_TEXT + "load: {read_timeout_s: .inf}\n",
    "infinite-backoff": lambda folder: PIPELINE_TEXT + "load: {max_backoff_s: .inf}\n",
    "no-deadline": lambda folder: PIPELINE_TEXT + "load: {request_deadline_s: .inf}\n",
    "plain-http": lambda folder: PIPELINE_TEXT.replace("${RALLY_BASE_URL}", "http://192.0.2.2"),
    "password-in-url": lambda folder: PIPELINE_TEXT.replace(
        "${RALLY_BASE_URL}", "http://admin:" + KEY + "@192.0.2.2"
    ),
    "key-in-url": lambda folder: PIPELINE_TEXT.replace("${RALLY_BASE_URL}", "ftp://" + KEY),
    "unknown-key": lambda folder: PIPELINE_TEXT + "lod: {batch_size: 5}\n",
    "missing-column": lambda folder: PIPELINE_TEXT.replace("email: Email", "email: Mail"),
    "state-is-a-folder": lambda folder: PIPELINE_TEXT.replace("path: state.db", "path: ."),
    "report-is-a-file": lambda folder: PIPELINE_TEXT.replace("dir: reports", "dir: contacts.csv"),
    "state-is-not-a-database": lambda folder: PIPELINE_TEXT.replace("state.db", "contacts.csv"),
}


@pytest.mark.parametrize("case", list(PIPELINE_CORPUS))
def test_a_hostile_pipeline_file_is_refused_cleanly(case: str, cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "contacts.csv").write_text(f"{HEADER}\nAda,L,ada@x.org\n", encoding="utf-8")
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(PIPELINE_CORPUS[case](tmp_path), encoding="utf-8")
    code, output = cli("run", str(pipeline))
    check(code, output, tmp_path, EXIT_CANNOT_START)
    assert not Path("/tmp/elsewhere.db").exists()


def test_a_damaged_state_database_is_refused_with_what_to_do(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "contacts.csv").write_text(f"{HEADER}\nAda,L,not-an-email\n", encoding="utf-8")
    pipeline = pipeline_file(tmp_path)
    code, _ = cli("run", str(pipeline), "--dry-run")
    assert code == EXIT_ROWS_FAILED
    with sqlite3.connect(tmp_path / "state.db") as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    data = bytearray((tmp_path / "state.db").read_bytes())
    for start in range(4096, len(data), 4096):  # every page's header but the first's
        data[start : start + 12] = b"\xee" * 12
    (tmp_path / "state.db").write_bytes(bytes(data))
    code, output = cli("run", str(pipeline), "--dry-run")
    check(code, output, tmp_path, EXIT_CANNOT_START)
    assert "the file is damaged: restore it from a backup" in output
    code, output = cli("runs", str(pipeline))
    check(code, output, tmp_path, EXIT_CANNOT_START)


# -- source files ------------------------------------------------------------------------------

DEEP = "[" * 100_000 + "]" * 100_000
SOURCE_CORPUS: dict[str, tuple[str, bytes, int]] = {
    "mixed-encodings": (
        "csv",
        f"{HEADER}\n".encode() + "René,A,r@x.org\n".encode() + "Zoë,B,z@x.org\n".encode("cp1252"),
        EXIT_CANNOT_START,
    ),
    "deep-json": ("json", DEEP.encode(), EXIT_CANNOT_START),
    "deep-ndjson-line": (
        "ndjson",
        b'{"First": "A", "Last": "B", "Email": "a@x.org"}\n{"x": ' + DEEP.encode() + b"}\n",
        EXIT_ROWS_FAILED,
    ),
    "wide": (
        "csv",
        (",".join(["First", "Last", "Email", *(f"c{i}" for i in range(100_000))]) + "\n").encode(),
        EXIT_CANNOT_START,
    ),
    "xlsx": ("csv", b"PK\x03\x04" + b"\x00" * 100, EXIT_CANNOT_START),
    "nul-bytes": ("csv", f"{HEADER}\nA\x00,B,c@x.org\n".encode(), EXIT_CANNOT_START),
    "unterminated-quote": ("csv", f'{HEADER}\n"A,B,c@x.org\n'.encode(), EXIT_CANNOT_START),
    "not-json": ("json", b"<html>not json</html>", EXIT_CANNOT_START),
    "formulas": (
        "csv",
        f'{HEADER}\n=HYPERLINK("http://e.example"),+1,not-an-email\n@SUM(A1),-2,{KEY}\n'.encode(),
        EXIT_ROWS_FAILED,
    ),
    "huge-cell": ("csv", f"{HEADER}\nA,B,{'x' * 5_000_000}\n".encode(), EXIT_ROWS_FAILED),
}


@pytest.mark.parametrize("case", list(SOURCE_CORPUS))
def test_a_hostile_source_file_is_a_message_or_a_report(
    case: str, cli: Cli, tmp_path: Path
) -> None:
    kind, content, expected = SOURCE_CORPUS[case]
    (tmp_path / "contacts.csv").write_bytes(content)
    source = {"kind": kind, "path": "contacts.csv"}
    pipeline = pipeline_file(tmp_path, {"source": source})
    code, output = cli("run", str(pipeline), "--dry-run")
    if case == "formulas":  # the key was a source cell: it may be in the report, as data
        assert code == expected and "Traceback" not in output, output
        (report,) = tmp_path.glob("reports/**/errors.csv")
        errors = report.read_text(encoding="utf-8")
        assert "'=HYPERLINK(" in errors and "'@SUM(A1)" in errors and "'-2" in errors
        return
    check(code, output, tmp_path, expected)


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_a_fifo_source_or_pipeline_never_blocks(
    kind: str, tmp_path: Path, rally: HostileServer
) -> None:
    fifo = tmp_path / "contacts.csv"
    os.mkfifo(fifo)
    pipeline = pipeline_file(tmp_path, {"source": {"kind": kind, "path": "contacts.csv"}})
    os.mkfifo(tmp_path / "fifo.yaml")
    env = {**os.environ, "RALLY_BASE_URL": rally.base_url, "RALLY_API_KEY": KEY}
    for target in (pipeline, tmp_path / "fifo.yaml"):
        done = subprocess.run(
            [sys.executable, "-m", "crmsync", "run", str(target), "--dry-run"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,  # a blocked open would hang here for ever
            check=False,
        )
        check(done.returncode, done.stdout + done.stderr, tmp_path, EXIT_CANNOT_START)
        assert "not a regular file" in done.stderr


def test_init_writes_no_key_a_header_smuggles_in(cli: Cli, tmp_path: Path) -> None:
    """The audit's attack: a header whose newlines add leadSource and a state.path elsewhere
    to the starter file; the next run honoured both."""
    evil = (
        '"Email","First Name","Last Name","x\n# not mapped: y\nleadSource: {constant: pwned}\n'
        'state: {path: /tmp/pwned.db}\nz"\n'
    )
    source = tmp_path / "export.csv"
    source.write_text(evil + '"a@x.org","Ann","Lee","1"\n"not-an-email","B","C","2"\n')
    code, output = cli("init", str(source))
    assert code == 0, output
    starter = tmp_path / "export.pipeline.yaml"
    data = yaml.safe_load(starter.read_text(encoding="utf-8"))
    assert "leadSource" not in data["mapping"]
    assert data["state"]["path"] != "/tmp/pwned.db"
    code, output = cli("run", str(starter), "--dry-run")
    check(code, output, tmp_path, EXIT_ROWS_FAILED)
    assert not Path("/tmp/pwned.db").exists()
    planned = [*tmp_path.glob("reports/**/payloads.ndjson"), *tmp_path.glob("reports/**/plan.csv")]
    sent = "".join(path.read_text(encoding="utf-8") for path in planned)
    assert "Ann" in sent and "pwned" not in sent and "leadSource" not in sent


# -- generated ---------------------------------------------------------------------------------

PIECES = ["a", "Z", "é", "7", " ", ",", ";", "\t", '"', "\n", "\r\n", "\r", "@", "=", "-", "+"]
cells = st.lists(st.sampled_from(PIECES), max_size=8).map("".join)
ENCODINGS = ["utf-8", "utf-8-sig", "cp1252", "utf-16"]


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    rows = draw(st.lists(st.lists(cells, min_size=0, max_size=6), max_size=8))
    text = "\n".join([HEADER, *(",".join(row) for row in rows), BAD_ROW]) + "\n"
    encoding = draw(st.sampled_from(ENCODINGS))
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()):  # a few raw bytes somewhere: a damaged export
        at = draw(st.integers(min_value=0, max_value=len(data)))
        data = data[:at] + draw(st.binary(max_size=4)) + data[at:]
    return data


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["First", "Last", "Email", "x", ""]), children, max_size=4
        )
    ),
    max_leaves=20,
)


def run_generated(cli: Cli, content: bytes, kind: str, changes: dict[str, object]) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "contacts.csv").write_bytes(content)
        source = {"kind": kind, "path": "contacts.csv"}
        pipeline = pipeline_file(folder, {"source": source, **changes})
        code, output = cli("run", str(pipeline), "--dry-run")
        check(code, output, folder)


@QUIET_SETTINGS
@given(content=csv_files())
def test_generated_csv_files(cli: Cli, content: bytes) -> None:
    run_generated(cli, content, "csv", {})


@QUIET_SETTINGS
@given(document=st.lists(json_values, max_size=6), as_lines=st.booleans())
def test_generated_json_files(cli: Cli, document: list[object], as_lines: bool) -> None:
    bad = {"First": "Bad", "Last": "Row", "Email": "not-an-email"}
    if as_lines:
        text = "\n".join(json.dumps(item) for item in [*document, bad])
        run_generated(cli, text.encode(), "ndjson", {})
    else:
        run_generated(cli, json.dumps([*document, bad]).encode(), "json", {})


yaml_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=12)
yaml_trees = st.recursive(
    yaml_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)
SECTIONS = ["name", "object", "source", "mapping", "load", "dedupe", "normalize", "state", "steps"]


@QUIET_SETTINGS
@given(section=st.sampled_from(SECTIONS), value=yaml_trees)
def test_generated_pipeline_sections(cli: Cli, section: str, value: object) -> None:
    content = f"{HEADER}\nAda,L,ada@x.org\n{BAD_ROW}\n".encode()
    run_generated(cli, content, "csv", {section: value})


@QUIET_SETTINGS
@given(text=st.text(alphabet=st.sampled_from(list("abc:- {}[]&*!|>'\"#%@`\n\t,?")), max_size=80))
def test_generated_yaml_text(cli: Cli, text: str) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "contacts.csv").write_text(f"{HEADER}\n{BAD_ROW}\n", encoding="utf-8")
        pipeline = folder / "pipeline.yaml"
        pipeline.write_text(textwrap.dedent(text), encoding="utf-8")
        code, output = cli("run", str(pipeline), "--dry-run")
        check(code, output, folder, EXIT_CANNOT_START)
