"""Pipeline files: table-driven invalid configurations, interpolation, secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from crmsync.api.settings import DEFAULT_MAX_CONCURRENCY
from crmsync.config import FieldMapping, LoadConfig, interpolate, load_pipeline
from crmsync.errors import ConfigError

BASE = {
    "name": "t",
    "object": "contacts",
    "source": {"kind": "csv", "path": "x.csv"},
    "mapping": {"firstName": "First", "lastName": "Last", "email": "Email"},
    "destination": {"base_url": "${RALLY_BASE_URL}", "api_key": "${RALLY_API_KEY}"},
}
ENV = {"RALLY_BASE_URL": "http://127.0.0.1:8765", "RALLY_API_KEY": "rk_secret_123"}


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


def with_(**changes: object) -> dict[str, object]:
    data = {**BASE}
    for dotted, value in changes.items():
        node = data
        *parents, last = dotted.split("__")
        for part in parents:
            node[part] = dict(node[part])  # type: ignore[index]
            node = node[part]  # type: ignore[assignment]
        if value is None:
            node.pop(last)  # type: ignore[union-attr]
        else:
            node[last] = value  # type: ignore[index]
    return data


INVALID = [
    (
        "unknown top key",
        with_(destinaton={"x": 1}),
        "destinaton: unknown key (did you mean 'destination'?)",
    ),
    (
        "unknown nested key",
        with_(source__delimter=","),
        "source.delimter: unknown key (did you mean 'delimiter'?)",
    ),
    (
        "unknown key of a pipeline's section",
        with_(expect={"max_fail": "2%"}),
        "expect.max_fail: unknown key (did you mean 'max_failed'?)",
    ),
    (
        "unknown rally field",
        with_(mapping={**BASE["mapping"], "emial2": "E"}),
        "'emial2' is not a Rally contacts field",
    ),
    (
        "required field unmapped",
        with_(mapping={"firstName": "F", "email": "E"}),
        "required Rally contacts field(s) not mapped: lastName",
    ),
    ("batch over 100", with_(load={"batch_size": 101}), "load.batch_size"),
    ("bad mode", with_(load={"mode": "merge"}), "load.mode"),
    ("bad object", with_(object="deals"), "object"),
    ("bad kind", with_(source__kind="xlsx"), "source.kind"),
    ("missing source", with_(source=None), "source: required key is missing"),
    ("newest without column", with_(dedupe={"keep": "newest"}), "newest_by"),
    (
        "column and constant",
        with_(mapping={**BASE["mapping"], "title": {"column": "T", "constant": "x"}}),
        "not several",
    ),
    (
        "activities upsert",
        with_(
            object="activities",
            mapping={"activityType": "T", "subject": "S"},
            load={"mode": "upsert"},
        ),
        "have no upsert",
    ),
    (
        "base url not http",
        with_(destination={"base_url": "acme.rallycrm.io", "api_key": "k"}),
        "must be an http(s) URL",
    ),
    ("delimiter too long", with_(source__delimiter=";;"), "one character"),
    ("work memory without a unit", with_(work_memory=512), "work_memory: at least 1MiB, got 512B"),
    (
        "work memory not a size",
        with_(work_memory="lots"),
        "work_memory: 'lots' is not a size: write it like 64MiB or 1GiB",
    ),
    ("work memory negative", with_(work_memory="-1GiB"), "work_memory"),
    (
        "records misspelt",
        with_(source={"kind": "json", "path": "x.json", "record": "contacts"}),
        "source.record: unknown key (did you mean 'records'?)",
    ),
    (
        "records of a csv",
        with_(source__records="contacts"),
        "source.records: reads the records nested in each JSON record: a csv source has none",
    ),
    (
        "records empty",
        with_(source={"kind": "ndjson", "path": "x.ndjson", "records": " "}),
        "source.records: must name the member holding the nested records",
    ),
]


@pytest.mark.parametrize(
    ("data", "expected"), [(d, e) for _, d, e in INVALID], ids=[i for i, _, _ in INVALID]
)
def test_invalid_pipeline_is_a_config_error_naming_the_path(
    tmp_path: Path, data: object, expected: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_pipeline(write(tmp_path, data), env=ENV)
    assert expected in str(info.value)
    assert "rk_secret_123" not in str(info.value)


def test_a_json_source_may_read_the_records_nested_in_its_records(tmp_path: Path) -> None:
    data = with_(source={"kind": "json", "path": "leads.json", "records": "contacts"})
    source = load_pipeline(write(tmp_path, data), env=ENV).steps[0].source
    assert getattr(source, "records", None) == "contacts"


def test_valid_pipeline_resolves_paths_against_its_folder(tmp_path: Path) -> None:
    pipeline = load_pipeline(write(tmp_path, BASE), env=ENV)
    assert pipeline.resolve(pipeline.step.source.path) == tmp_path.resolve() / "x.csv"
    assert pipeline.destination.base_url == "http://127.0.0.1:8765"
    assert pipeline.step.mapping["email"].column == "Email"
    assert pipeline.step.load.batch_size == 100 and pipeline.step.load.concurrency == 4
    assert pipeline.single_step and pipeline.step.name == "t"


def test_api_key_never_printed(tmp_path: Path) -> None:
    pipeline = load_pipeline(write(tmp_path, BASE), env=ENV)
    assert "rk_secret_123" not in repr(pipeline)
    assert "rk_secret_123" not in str(pipeline.model_dump())
    assert pipeline.destination.api_key.get_secret_value() == "rk_secret_123"


def test_base_url_with_api_suffix_is_trimmed(tmp_path: Path) -> None:
    env = {**ENV, "RALLY_BASE_URL": "https://acme.rallycrm.io/api/v1/"}
    assert (
        load_pipeline(write(tmp_path, BASE), env=env).destination.base_url
        == "https://acme.rallycrm.io"
    )


def test_missing_env_var_names_variable_and_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_pipeline(write(tmp_path, BASE), env={"RALLY_BASE_URL": "http://x"})
    assert "RALLY_API_KEY is not set" in str(info.value)
    assert "destination.api_key" in str(info.value)


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("${A}", {"A": "1"}, "1"),
        ("x-${A}-${B}", {"A": "1", "B": "2"}, "x-1-2"),
        ("${A:-fallback}", {}, "fallback"),
        ("${A:-}", {}, ""),
        ("$A stays", {"A": "1"}, "$A stays"),
    ],
    ids=["plain", "several", "default", "empty-default", "no-braces"],
)
def test_interpolate(text: str, env: dict[str, str], expected: str) -> None:
    assert interpolate({"k": [text]}, env=env) == {"k": [expected]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: [unclosed", "not valid YAML"),
        ("- just\n- a list", "a YAML mapping"),
    ],
    ids=["broken-yaml", "not-a-mapping"],
)
def test_unreadable_pipeline(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        load_pipeline(write(tmp_path, text), env=ENV)


def test_missing_pipeline_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="pipeline file not found"):
        load_pipeline(tmp_path / "nope.yaml", env=ENV)


def test_shipped_pipelines_are_valid() -> None:
    env = {
        **ENV,
        "REDMINE_URL": "http://127.0.0.1:8766",
        "REDMINE_API_KEY": "redmine-key",
        "SOURCE_RALLY_BASE_URL": "http://127.0.0.1:8765",
        "SOURCE_RALLY_API_KEY": "source-key",
        "EXPORT_DIR": "exports/rally/run-1",
    }
    paths = sorted(Path(__file__).parents[1].joinpath("pipelines").glob("*.yaml"))
    assert len(paths) >= 4
    for path in paths:
        assert load_pipeline(path, env=env).steps


def test_a_field_mapping_becomes_a_rule_with_its_values_file_read(tmp_path: Path) -> None:
    (tmp_path / "users.csv").write_text("redmine,rally\n1,11111111-1111-1111-1111-111111111111\n")
    spec = FieldMapping(
        column="user", values={"2": "x"}, values_file=Path("users.csv"), unmatched="null"
    )
    rule = spec.rule(tmp_path)
    assert rule.columns == ("user",)
    assert dict(rule.values) == {"1": "11111111-1111-1111-1111-111111111111", "2": "x"}
    assert rule.keep_unmatched is False
    assert FieldMapping(constant=7).rule(tmp_path).constant == "7"
    assert FieldMapping(template="{a} {b}").rule(tmp_path).columns == ("a", "b")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, 64 * 2**20),
        ("256MiB", 256 * 2**20),
        ("1 GiB", 2**30),
        ("1.5GB", 1_500_000_000),
        (2**24, 2**24),
        ("${WORK_MEMORY:-128MiB}", 128 * 2**20),
    ],
)
def test_work_memory_is_a_size_in_bytes(tmp_path: Path, given: object, expected: int) -> None:
    data = with_(work_memory=given) if given is not None else BASE
    pipeline = load_pipeline(write(tmp_path, data), env=ENV)
    assert pipeline.work_memory == expected


@pytest.mark.parametrize(
    ("load", "expected"),
    [
        ({"read_timeout_s": ".inf"}, "load.read_timeout_s"),
        ({"max_backoff_s": 0}, "load.max_backoff_s"),
        ({"concurrency": 65}, "load.concurrency"),
        ({"concurrency": 8, "max_concurrency": 4}, "at least concurrency"),
    ],
    ids=["infinite-timeout", "zero-backoff", "too-many-in-flight", "cap-below-start"],
)
def test_load_settings_are_checked_by_the_library_rule(
    tmp_path: Path, load: dict[str, object], expected: str
) -> None:
    data = with_(load=load)
    text = yaml.safe_dump(data).replace("'.inf'", ".inf")
    with pytest.raises(ConfigError, match=expected):
        load_pipeline(write(tmp_path, text), env=ENV)


def test_load_config_gives_the_loader_its_settings() -> None:
    settings = LoadConfig(concurrency=20).settings("upsert")
    assert (settings.mode, settings.concurrency, settings.max_concurrency) == ("upsert", 20, 20)
    assert LoadConfig().settings("bulk").max_concurrency == DEFAULT_MAX_CONCURRENCY
    # a cap under the default start, the start not given: it starts at the cap
    one = LoadConfig(max_concurrency=1).settings("bulk")
    assert (one.concurrency, one.max_concurrency) == (1, 1)


def test_normalize_reads_dates_day_first_and_numbers_with_a_decimal_comma(
    tmp_path: Path,
) -> None:
    """Both as the README shows them: `normalize: {day_first: true, decimal_comma: true}`."""
    data = {**BASE, "normalize": {"day_first": True, "decimal_comma": True}}
    options = load_pipeline(write(tmp_path, data), env=ENV).step.normalize.options()
    assert options.day_first and options.decimal_comma
    assert not load_pipeline(write(tmp_path, BASE), env=ENV).step.normalize.options().day_first
