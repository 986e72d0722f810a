"""Pipeline files written to hurt: a key given twice, a YAML bomb, nesting 100,000 deep, an
alias inside itself, a FIFO, plain http to another machine, caps turned off with .inf, a
password in a URL. Each is a ConfigError naming the file and what is wrong, found quickly."""

from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from crmsync.config import load_pipeline
from crmsync.config.strict_yaml import MAX_DEPTH, MAX_VALUES, load_yaml
from crmsync.errors import ConfigError
from crmsync.run import RunObserver, run_pipeline
from crmsync.sandbox.testing import in_process_sandbox

ENV = {"RALLY_BASE_URL": "http://127.0.0.1:8765", "RALLY_API_KEY": "rk_secret_123"}
BODY = """\
object: contacts
source: {kind: csv, path: x.csv}
mapping: {firstName: First, lastName: Last, email: Email}
destination: {base_url: "${RALLY_BASE_URL}", api_key: "${RALLY_API_KEY}"}
"""
LAUGHS = "\n".join(
    [f'l0: &l0 ["{"lol" * 3}"]']
    + [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, 10)]
)


def write(folder: Path, text: str) -> Path:
    path = folder / "pipeline.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: a\nname: b\n" + BODY, "line 2: not valid YAML: 'name' is given twice (first on"),
        ("name: a\n" + BODY + "mapping: {email: E}\n", "'mapping' is given twice"),
        ("name: a\n" + BODY.replace("{kind: csv,", "{kind: csv, kind: json,"), "'kind' is given"),
        ("name: x\n" + LAUGHS + "\n" + BODY, f"more than {MAX_VALUES:,} values with its aliases"),
        ("name: x\nk: " + "[" * 100_000 + "]" * 100_000 + "\n", "nested too deeply"),
        ("name: x\nk: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "nested too deeply"),
        ("name: &a [*a]\n", "an alias refers to a node that contains it"),
    ],
    ids=["twice", "section-twice", "nested-twice", "bomb", "deep", "just-too-deep", "recursive"],
)
def test_a_hostile_pipeline_file_is_refused_quickly(
    tmp_path: Path, text: str, expected: str
) -> None:
    started = time.monotonic()
    with pytest.raises(ConfigError) as caught:
        load_pipeline(write(tmp_path, text), env=ENV)
    assert expected in str(caught.value)
    assert str(tmp_path / "pipeline.yaml") in str(caught.value)
    assert time.monotonic() - started < 5  # the bomb grew past 1 GB in 30 s


def test_anchors_and_merge_keys_within_bounds_still_work() -> None:
    text = "base: &b {a: 1, b: 2}\nthis:\n  <<: *b\n  b: 3\nlist: [*b, *b]\n"
    assert load_yaml(text) == {
        "base": {"a": 1, "b": 2},
        "this": {"a": 1, "b": 3},
        "list": [{"a": 1, "b": 2}, {"a": 1, "b": 2}],
    }


def test_a_pipeline_file_that_is_a_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.yaml"
    os.mkfifo(path)
    with pytest.raises(ConfigError, match="not a regular file"):
        load_pipeline(path, env=ENV)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "not a regular file"),
        (b"From,To\nAda,\xff\xfe\n", r"values file is not UTF-8 text \(byte 0xff on line 2\)"),
        (b"", "not a regular file"),  # made a folder below
    ],
    ids=["fifo", "not-utf-8", "a-folder"],
)
def test_a_values_file_that_cannot_be_read_is_a_config_error(
    tmp_path: Path, content: bytes | None, expected: str
) -> None:
    values = tmp_path / "owners.csv"
    if content is None:
        os.mkfifo(values)
    elif not content:
        values.mkdir()
    else:
        values.write_bytes(content)
    text = "name: v\n" + BODY.replace(
        "email: Email}", "email: Email, ownerId: {column: Owner, values_file: owners.csv}}"
    )
    config = load_pipeline(write(tmp_path, text), env=ENV)
    with pytest.raises(ConfigError, match=expected):
        config.step.mapping["ownerId"].rule(tmp_path)


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("read_timeout_s", ".inf"),
        ("max_backoff_s", ".inf"),
        ("connect_timeout_s", ".inf"),
        ("request_deadline_s", ".inf"),
        ("request_deadline_s", ".nan"),
        ("request_deadline_s", "0"),
        ("read_timeout_s", "1e308"),  # finite, and as good as .inf
        ("max_backoff_s", "86401"),
        ("connect_timeout_s", "-.inf"),
    ],
)
def test_a_cap_cannot_be_turned_off(tmp_path: Path, setting: str, value: str) -> None:
    text = "name: caps\n" + BODY + f"load: {{{setting}: {value}}}\n"
    with pytest.raises(ConfigError, match=f"load.{setting}: must be a positive, finite"):
        load_pipeline(write(tmp_path, text), env=ENV)


# -- where keys may go -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "where"),
    [
        ({"RALLY_BASE_URL": "http://192.0.2.2"}, "destination.base_url: http://192.0.2.2"),
        ({"RALLY_BASE_URL": "http://admin:pw-9f3k2@crm.example"}, "http://crm.example would"),
    ],
    ids=["plain-http", "with-a-password"],
)
def test_plain_http_to_another_machine_is_refused(
    tmp_path: Path, env: dict[str, str], where: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_pipeline(write(tmp_path, "name: h\n" + BODY), env={**ENV, **env})
    message = str(caught.value)
    assert where in message and "allow_insecure_http: true" in message
    assert "pw-9f3k2" not in message and "admin" not in message


@pytest.mark.parametrize(
    "url",
    ["https://admin:pw-9f3k2@[bad", "https://admin:pw-9f3k2@crm.example:99999", "https://[::1"],
    ids=["bad-ipv6", "port-out-of-range", "unclosed-bracket"],
)
def test_a_base_url_that_cannot_be_parsed_is_refused_without_its_password(
    tmp_path: Path, url: str
) -> None:
    with pytest.raises(ConfigError, match=r"destination\.base_url") as caught:
        load_pipeline(write(tmp_path, "name: h\n" + BODY), env={**ENV, "RALLY_BASE_URL": url})
    assert "pw-9f3k2" not in str(caught.value)


def test_a_redmine_source_over_plain_http_is_refused_by_its_path(tmp_path: Path) -> None:
    text = """\
        name: r
        steps:
          - name: people
            object: contacts
            source: {kind: redmine_api, url: "http://redmine.lan", api_key: k}
            mapping: {firstName: first_name, lastName: last_name, email: email}
        destination: {base_url: "${RALLY_BASE_URL}", api_key: "${RALLY_API_KEY}"}
        """
    with pytest.raises(ConfigError, match=r"steps\[0\]\.source\.url: http://redmine\.lan"):
        load_pipeline(write(tmp_path, text), env=ENV)


class Warnings(RunObserver):
    def __init__(self) -> None:
        self.said: list[str] = []

    def warning(self, message: str) -> None:
        self.said.append(message)


def test_allowed_plain_http_warns_on_every_run(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("First,Last,Email\nAda,L,ada@x.org\n", encoding="utf-8")
    text = "name: lan\nallow_insecure_http: true\nstate: {path: s.db}\n" + BODY
    observer = Warnings()
    with in_process_sandbox(api_keys=("rk_secret_123",)) as rally:
        config = load_pipeline(
            write(tmp_path, text), env={**ENV, "RALLY_BASE_URL": "http://rally.lan"}
        )
        for _ in range(2):
            run = run_pipeline(config, observer=observer, transport=rally.transport)
            assert run.exit_code == 0
    said = "destination.base_url: the API key goes unencrypted to http://rally.lan"
    assert [w for w in observer.said if "unencrypted" in w] == [f"{said} (allow_insecure_http)"] * 2


def test_the_state_never_stores_a_password_from_a_url(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("First,Last,Email\nAda,L,ada@x.org\n", encoding="utf-8")
    text = "name: pw\nstate: {path: s.db}\n" + BODY
    with in_process_sandbox(api_keys=("rk_secret_123",)) as rally:
        url = "http://admin:pw-9f3k2@rally.localhost"
        config = load_pipeline(write(tmp_path, text), env={**ENV, "RALLY_BASE_URL": url})
        assert run_pipeline(config, transport=rally.transport).exit_code == 0
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("s.db*"))
    assert b"rally.localhost" in stored
    assert b"pw-9f3k2" not in stored and b"admin" not in stored


def test_yaml_the_safe_loader_accepts_is_read_the_same(tmp_path: Path) -> None:
    text = "name: same\n" + BODY + "load: {batch_size: 50}\n"
    assert load_yaml(text) == yaml.safe_load(text)


def test_a_message_never_quotes_a_key_the_file_holds(tmp_path: Path) -> None:
    key = ENV["RALLY_API_KEY"]
    for url in (f"ftp://{key}", f"{key}.rallycrm.io"):
        with pytest.raises(ConfigError) as caught:
            load_pipeline(write(tmp_path, "name: q\n" + BODY), env={**ENV, "RALLY_BASE_URL": url})
        assert "holds an API key" in str(caught.value) and key not in str(caught.value)


@pytest.mark.parametrize(
    ("where", "line"),
    [
        ("name", "name: ${RALLY_API_KEY}\n"),
        ("name", "name: run-${RALLY_API_KEY:-x}-nightly\n"),
        ("state.path", "name: k\nstate: {path: '${RALLY_API_KEY}.db'}\n"),
        ("report.dir", "name: k\nreport: {dir: 'r/RK_SECRET_12'}\n"),  # most of it
    ],
    ids=["name", "name-around", "state-path", "a-piece"],
)
def test_a_key_anywhere_but_api_key_is_refused_without_quoting_it(
    tmp_path: Path, where: str, line: str
) -> None:
    """Outside api_key a key is printed (the lock, the source path), stored in the state
    database, or sent to Rally as data."""
    with pytest.raises(ConfigError, match=f"{where}: holds an API key") as caught:
        load_pipeline(write(tmp_path, line + BODY), env=ENV)
    assert "rk_secret" not in str(caught.value)


def test_a_key_sent_as_a_constant_is_refused(tmp_path: Path) -> None:
    text = "name: c\n" + BODY.replace(
        "email: Email}", "email: Email, leadSource: {constant: '${RALLY_API_KEY}'}}"
    )
    with pytest.raises(ConfigError, match=r"mapping\.leadSource\.constant: holds an API key"):
        load_pipeline(write(tmp_path, text), env=ENV)


@pytest.mark.parametrize(
    ("field", "value"),
    [("constant", ".nan"), ("constant", ".inf"), ("default", "-.inf"), ("constant", "1.0e+400")],
)
def test_a_constant_no_json_can_carry_is_refused(tmp_path: Path, field: str, value: str) -> None:
    text = "name: c\n" + BODY.replace(
        "email: Email}", f"email: Email, leadScore: {{{field}: {value}}}}}"
    )
    with pytest.raises(ConfigError, match="must be a finite number"):
        load_pipeline(write(tmp_path, text), env=ENV)


PG_PASSWORD = "pg-Pa55word-very-secret"


def test_the_state_url_password_is_a_secret_like_a_key(tmp_path: Path) -> None:
    env = {**ENV, "PG_PASSWORD": PG_PASSWORD}
    state = "state: {url: 'postgresql://crm:${PG_PASSWORD}@db.internal/crm'}\n"
    pipeline = load_pipeline(write(tmp_path, "name: s\n" + state + BODY), env=env)
    location = pipeline.state.location(pipeline.base_dir)
    assert location.url is not None and PG_PASSWORD not in repr(pipeline) + repr(location) + str(
        location
    )
    # elsewhere in the file it is refused, like a key
    leaky = "name: s-${PG_PASSWORD}\n" + state + BODY
    with pytest.raises(ConfigError, match="name: holds an API key") as caught:
        load_pipeline(write(tmp_path, leaky), env=env)
    assert PG_PASSWORD not in str(caught.value)


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ("{url: 'mysql://crm:${PG_PASSWORD}@db/crm'}", "must be a postgresql:// URL"),
        ("{url: 'postgresql://crm:${PG_PASSWORD}@db/crm', path: s.db}", "not both"),
        ("{url: 'postgresql://db/crm', schema: 'Robert; DROP'}", "state.schema"),
    ],
)
def test_a_bad_state_section_is_refused_without_the_password(
    tmp_path: Path, state: str, message: str
) -> None:
    env = {**ENV, "PG_PASSWORD": PG_PASSWORD}
    with pytest.raises(ConfigError, match=message) as caught:
        load_pipeline(write(tmp_path, f"name: s\nstate: {state}\n" + BODY), env=env)
    assert PG_PASSWORD not in str(caught.value)


@pytest.mark.parametrize("name", ["''", "'   '", "5"], ids=["empty", "blank", "number"])
def test_a_name_that_names_nothing_is_refused_once(tmp_path: Path, name: str) -> None:
    """The name heads summaries, names report folders and keys the state: run took '' and
    the runs command then could not find it. The top-level step shares the pipeline's name,
    so the mistake is said once, not twice."""
    with pytest.raises(ConfigError) as caught:
        load_pipeline(write(tmp_path, f"name: {name}\n" + BODY), env=ENV)
    lines = str(caught.value).splitlines()[1:]
    assert len(lines) == 1
    assert lines[0].strip().startswith("name: ")


def test_a_pipeline_file_saved_as_utf16_reads_and_one_in_cp1252_is_refused_by_line(
    tmp_path: Path,
) -> None:
    """Windows Notepad saves "Unicode" as UTF-16 with a BOM; an ANSI (cp1252) file is no
    UTF-8, and the message says where, not a codec's traceback text."""
    text = "name: café\n" + BODY
    path = tmp_path / "pipeline.yaml"
    path.write_bytes(text.encode("utf-16"))
    assert load_pipeline(path, env=ENV).name == "café"
    path.write_bytes(("name: x\n" + BODY + "# café\n").encode("cp1252"))
    with pytest.raises(ConfigError, match=r"not UTF-8 text \(byte 0xe9 on line 6\): save it"):
        load_pipeline(path, env=ENV)
