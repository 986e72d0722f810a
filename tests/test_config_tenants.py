"""Tenants in a pipeline file: resolution, the environment's tenants, and what is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from crmsync.config import DestinationConfig, TenantConfig, load_pipeline
from crmsync.config.tenants import select_tenants, tenant_pipeline_name
from crmsync.errors import ConfigError

ACME_KEY = "rk_live_acme-9f3c2e71d0"
GLOBEX_KEY = "rk_live_globex-4b81aa07"
BASE: dict[str, Any] = {
    "name": "contacts",
    "object": "contacts",
    "source": {"kind": "csv", "path": "x.csv"},
    "mapping": {"firstName": "First", "lastName": "Last", "email": "Email"},
    "destination": {"base_url": "${RALLY_BASE_URL}", "api_key": "${RALLY_API_KEY}"},
    "tenants": {
        "acme": {"base_url": "${ACME_RALLY_URL}", "api_key": "${ACME_RALLY_API_KEY}"},
        "globex": {"api_key": "${GLOBEX_RALLY_API_KEY}"},
    },
}
ENV = {
    "RALLY_BASE_URL": "https://shared.rallycrm.io",
    "ACME_RALLY_URL": "https://acme.rallycrm.io/api/v1",
    "ACME_RALLY_API_KEY": ACME_KEY,
    "GLOBEX_RALLY_API_KEY": GLOBEX_KEY,
}


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def with_(**changes: Any) -> dict[str, Any]:
    return {**BASE, **changes}


def test_each_tenant_overrides_the_destination_and_is_a_pipeline_of_its_own(
    tmp_path: Path,
) -> None:
    pipeline = load_pipeline(write(tmp_path, BASE), env=ENV)
    assert list(pipeline.tenants) == ["acme", "globex"]
    assert pipeline.destination_unset is not None  # the file itself runs for its tenants

    acme = pipeline.for_tenant("acme")
    assert acme.name == "contacts@acme" == tenant_pipeline_name("contacts", "acme")
    assert acme.tenant == "acme" and acme.tenants == {}
    assert acme.destination == DestinationConfig(
        base_url="https://acme.rallycrm.io", api_key=ACME_KEY
    )
    assert acme.report.dir == Path("reports/acme")
    assert acme.destination_unset is None
    assert acme.steps == pipeline.steps and acme.state == pipeline.state

    globex = pipeline.for_tenant("globex")
    assert isinstance(globex.destination, DestinationConfig)
    assert globex.destination.base_url == "https://shared.rallycrm.io"  # destination's default
    assert globex.destination.api_key.get_secret_value() == GLOBEX_KEY


def test_a_tenant_whose_variable_is_not_set_keeps_only_itself_from_running(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in ENV.items() if k != "GLOBEX_RALLY_API_KEY"}
    pipeline = load_pipeline(write(tmp_path, BASE), env=env)
    assert pipeline.for_tenant("acme").name == "contacts@acme"
    with pytest.raises(ConfigError) as refused:
        pipeline.for_tenant("globex")
    assert str(refused.value) == (
        "tenant globex cannot run: tenants.globex.api_key: "
        "environment variable GLOBEX_RALLY_API_KEY is not set"
    )


def test_the_destination_needs_no_variables_its_tenants_override(tmp_path: Path) -> None:
    data = with_(
        destination={"api_key": "${RALLY_API_KEY}", "base_url": "${RALLY_BASE_URL}"},
        tenants={"acme": BASE["tenants"]["acme"]},
    )
    env = {k: v for k, v in ENV.items() if not k.startswith("RALLY_")}
    acme = load_pipeline(write(tmp_path, data), env=env).for_tenant("acme")
    assert isinstance(acme.destination, DestinationConfig)
    assert acme.destination.api_key.get_secret_value() == ACME_KEY


def test_a_destination_default_that_is_not_set_is_named_when_a_tenant_needs_it(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in ENV.items() if k != "RALLY_BASE_URL"}
    pipeline = load_pipeline(write(tmp_path, BASE), env=env)
    with pytest.raises(
        ConfigError, match=r"destination\.base_url: environment variable RALLY_BASE_URL "
    ):
        pipeline.for_tenant("globex")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("acme2", "no tenant 'acme2' (did you mean 'acme'?); the file's tenants: acme, globex"),
        ("initech", "no tenant 'initech'; the file's tenants: acme, globex"),
    ],
    ids=["near", "far"],
)
def test_an_unknown_tenant_is_refused_with_the_ones_the_file_declares(
    tmp_path: Path, name: str, message: str
) -> None:
    pipeline = load_pipeline(write(tmp_path, BASE), env=ENV)
    with pytest.raises(ConfigError) as refused:
        pipeline.for_tenant(name)
    assert str(refused.value) == message
    with pytest.raises(ConfigError, match="no tenant"):
        select_tenants(pipeline, [name])


INVALID = [
    (
        "tenant without api key",
        with_(tenants={"acme": {"base_url": "https://acme.rallycrm.io"}}),
        "tenants.acme: no api_key: each tenant has its own (api_key: ${...})",
    ),
    (
        "tenant without base url anywhere",
        with_(destination={}, tenants={"acme": {"api_key": "${ACME_RALLY_API_KEY}"}}),
        "tenants.acme: no base_url, and destination: has none",
    ),
    (
        "unknown key in a tenant",
        with_(tenants={"acme": {"api_kye": "${ACME_RALLY_API_KEY}"}}),
        "tenants.acme.api_kye: unknown key (did you mean 'api_key'?)",
    ),
    (
        "unknown key in the destination",
        with_(destination={"base_urll": "https://x.rallycrm.io"}),
        "destination.base_urll: unknown key (did you mean 'base_url'?)",
    ),
    (
        "tenant is a file",
        with_(tenants={"acme": {"kind": "file", "api_key": "k"}}),
        "tenants.acme.kind: unknown key",
    ),
    (
        "upper-case name",
        with_(tenants={"Acme": BASE["tenants"]["acme"]}),
        "tenants: 'Acme' cannot name a tenant: lower-case letters, digits, - and _",
    ),
    (
        "name with a slash",
        with_(tenants={"a/b": BASE["tenants"]["acme"]}),
        "'a/b' cannot name a tenant",
    ),
    ("tenants a list", with_(tenants=["acme"]), "tenants: a mapping of tenant name"),
    (
        "tenant a string",
        with_(tenants={"acme": "${ACME_RALLY_API_KEY}"}),
        "tenants.acme: a mapping of destination fields",
    ),
    ("no tenant", with_(tenants={}), "tenants: declares no tenant"),
    (
        "file destination",
        with_(destination={"kind": "file", "path": "out.ndjson"}),
        "destination.kind: a pipeline writing to 'file' has no tenants",
    ),
    (
        "bad url",
        with_(tenants={"acme": {"base_url": "ftp://acme", "api_key": "${ACME_RALLY_API_KEY}"}}),
        "tenants.acme.base_url: must be an http(s) URL",
    ),
    (
        "empty key",
        with_(tenants={"acme": {"api_key": " "}}),
        "tenants.acme.api_key: is empty",
    ),
    (
        "same tenant twice",
        with_(
            tenants={"acme": {"api_key": "${ACME_RALLY_API_KEY}"}, "acme2": {"api_key": ACME_KEY}}
        ),
        "tenants: acme and acme2 are the same Rally tenant (base_url and api_key)",
    ),
    (
        "plain http to another machine",
        with_(tenants={"acme": {"base_url": "http://10.0.0.5", "api_key": "x" * 12}}),
        "tenants.acme.base_url: http://10.0.0.5 would get the API key unencrypted",
    ),
    ("tenant as a file key", with_(tenant="acme"), "tenant: unknown key (did you mean 'tenants'?)"),
]


@pytest.mark.parametrize(
    ("data", "message"), [case[1:] for case in INVALID], ids=[case[0] for case in INVALID]
)
def test_invalid_tenants_are_refused_when_the_file_is_read(
    tmp_path: Path, data: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        load_pipeline(write(tmp_path, data), env=ENV)
    assert message in str(refused.value)
    assert ACME_KEY[:8] not in str(refused.value)


def test_plain_http_to_a_tenant_elsewhere_is_allowed_when_the_file_says_so(
    tmp_path: Path,
) -> None:
    data = with_(
        allow_insecure_http=True,
        tenants={"acme": {"base_url": "http://10.0.0.5", "api_key": "${ACME_RALLY_API_KEY}"}},
    )
    acme = load_pipeline(write(tmp_path, data), env=ENV).for_tenant("acme")
    assert acme.insecure_urls() == [("destination.base_url", "http://10.0.0.5")]


@pytest.mark.parametrize(
    "where",
    [
        {"name": f"contacts-{ACME_KEY}"},
        {"mapping": {**BASE["mapping"], "title": {"constant": ACME_KEY}}},
    ],
    ids=["in the name", "as a constant"],
)
def test_a_tenant_key_anywhere_but_its_api_key_is_refused_without_being_quoted(
    tmp_path: Path, where: dict[str, Any]
) -> None:
    with pytest.raises(ConfigError, match="holds an API key or part of one") as refused:
        load_pipeline(write(tmp_path, with_(**where)), env=ENV)
    assert ACME_KEY[:8] not in str(refused.value)


def test_a_tenant_key_in_a_url_is_redacted_from_the_message(tmp_path: Path) -> None:
    data = with_(tenants={"acme": {"base_url": f"ftp://{ACME_KEY}", "api_key": ACME_KEY}})
    with pytest.raises(ConfigError) as refused:
        load_pipeline(write(tmp_path, data), env=ENV)
    assert "tenants.acme.base_url" in str(refused.value)
    assert ACME_KEY[:8] not in str(refused.value)


def test_no_tenant_key_shows_in_the_pipeline_as_text(tmp_path: Path) -> None:
    pipeline = load_pipeline(write(tmp_path, BASE), env=ENV)
    for text in (repr(pipeline), str(pipeline), pipeline.model_dump_json()):
        assert ACME_KEY[:8] not in text and GLOBEX_KEY[:8] not in text


# -- tenants from the environment (--destination-env) ----------------------------------------

PLAIN = {k: v for k, v in BASE.items() if k != "tenants"}
INITECH = {
    "INITECH_RALLY_BASE_URL": "https://initech.rallycrm.io",
    "INITECH_RALLY_API_KEY": "k" * 16,
}


def test_a_tenant_from_the_environment_is_named_by_its_prefix(tmp_path: Path) -> None:
    path = write(tmp_path, PLAIN)  # no tenants, and destination's variables not set
    pipeline = load_pipeline(path, env=INITECH, env_tenants=["INITECH"])
    assert list(pipeline.tenants) == ["initech"]
    initech = pipeline.for_tenant("initech")
    assert initech.name == "contacts@initech"
    assert initech.destination == DestinationConfig(
        base_url="https://initech.rallycrm.io", api_key="k" * 16
    )
    trailing = load_pipeline(path, env=INITECH, env_tenants=["INITECH_"])
    assert list(trailing.tenants) == ["initech"]


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        (["INITECH_RALLY_API_KEY"], ["INITECH_RALLY_API_KEY"]),
        (["INITECH_RALLY_BASE_URL"], ["INITECH_RALLY_BASE_URL"]),
        (list(INITECH), list(INITECH)),
    ],
    ids=["key", "url", "both"],
)
def test_a_missing_environment_variable_is_named_exactly(
    tmp_path: Path, missing: list[str], named: list[str]
) -> None:
    env = {k: v for k, v in {**ENV, **INITECH}.items() if k not in missing}
    pipeline = load_pipeline(write(tmp_path, BASE), env=env, env_tenants=["INITECH"])
    with pytest.raises(ConfigError) as refused:
        pipeline.for_tenant("initech")
    message = str(refused.value)
    assert message.startswith("tenant initech cannot run: --destination-env INITECH: ")
    for variable in INITECH:
        assert (f"environment variable {variable} is not set" in message) == (variable in named)
    assert pipeline.for_tenant("acme").name == "contacts@acme"  # the file's tenants still run


def test_a_tenant_from_the_environment_never_takes_the_files_base_url(tmp_path: Path) -> None:
    env = {**ENV, "GLOBEX_RALLY_API_KEY": GLOBEX_KEY}
    pipeline = load_pipeline(write(tmp_path, BASE), env=env, env_tenants=["GLOBEX"])
    with pytest.raises(ConfigError, match="GLOBEX_RALLY_BASE_URL is not set"):
        pipeline.for_tenant("globex")  # replaced the file's globex, which had a default


@pytest.mark.parametrize(
    "prefix", ["9LIVES", "A-B", "", "_"], ids=["digit", "dash", "empty", "bare"]
)
def test_an_unusable_prefix_is_refused(tmp_path: Path, prefix: str) -> None:
    with pytest.raises(ConfigError, match="--destination-env"):
        load_pipeline(write(tmp_path, PLAIN), env=ENV, env_tenants=[prefix])


def test_a_key_from_the_environment_is_checked_like_the_files(tmp_path: Path) -> None:
    data = {**PLAIN, "name": "contacts-${INITECH_RALLY_API_KEY}"}
    with pytest.raises(ConfigError, match="name: holds an API key or part of one") as refused:
        load_pipeline(write(tmp_path, data), env=INITECH, env_tenants=["INITECH"])
    assert "k" * 8 not in str(refused.value)


# -- choosing tenants ------------------------------------------------------------------------


def test_a_file_with_tenants_refuses_to_run_without_a_choice(tmp_path: Path) -> None:
    pipeline = load_pipeline(write(tmp_path, BASE), env=ENV)
    with pytest.raises(ConfigError) as refused:
        select_tenants(pipeline)
    assert str(refused.value) == (
        "pipeline 'contacts' runs for tenants (acme, globex): "
        "choose with --tenant NAME or --all-tenants"
    )
    assert select_tenants(pipeline, all_tenants=True) == ["acme", "globex"]
    assert select_tenants(pipeline, ["globex", "acme", "globex"]) == ["globex", "acme"]


def test_a_file_without_tenants_runs_as_it_is(tmp_path: Path) -> None:
    env = {"RALLY_BASE_URL": "https://x.rallycrm.io", "RALLY_API_KEY": ACME_KEY}
    pipeline = load_pipeline(write(tmp_path, PLAIN), env=env)
    assert pipeline.tenants == {} and select_tenants(pipeline) == []


def test_a_tenant_sets_every_field_a_destination_has() -> None:
    own = set(DestinationConfig.model_fields) - {"kind"}
    assert set(TenantConfig.model_fields) - {"unset"} == own
