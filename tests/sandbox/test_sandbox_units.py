"""The sandbox's parts without a server: settings, rate limiter, faults, path templates, log."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from crmsync.errors import ConfigError
from crmsync.sandbox.faults import AfterCommit, FaultInjector, RateLimiter
from crmsync.sandbox.server import SandboxSettings, create_app, tenant_id
from crmsync.sandbox.stats import path_template
from crmsync.sandbox.testing import minimal_body

SECRET = "rk_live_very-secret-7731"


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_from_cli_defaults_to_the_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RALLY_API_KEY", SECRET)
    assert SandboxSettings.from_cli().api_keys == (SECRET,)
    monkeypatch.delenv("RALLY_API_KEY")
    assert SandboxSettings.from_cli().api_keys == ("sandbox-key",)
    assert SandboxSettings.from_cli(api_keys=("a", "b")).api_keys == ("a", "b")


def test_settings_never_show_keys() -> None:
    settings = SandboxSettings.from_cli(api_keys=(SECRET,))
    assert SECRET not in repr(settings) and SECRET not in str(settings)
    assert SECRET not in tenant_id(SECRET)


@pytest.mark.parametrize(
    ("options", "option"),
    [
        ({"fail_rate": 1.5}, "--fail-rate"),
        ({"commit_then_fail_rate": -0.1}, "--commit-then-fail-rate"),
        ({"latency_ms": -1}, "--latency-ms"),
        ({"rate_limit": -5}, "--rate-limit"),
        ({"port": 70000}, "--port"),
        ({"api_keys": ("",)}, "--api-key"),
    ],
    ids=["fail-rate", "commit-then-fail-rate", "latency", "rate-limit", "port", "empty-key"],
)
def test_bad_settings_are_config_errors(options: dict, option: str) -> None:
    with pytest.raises(ConfigError, match=option):
        SandboxSettings.from_cli(**options)


def test_tenant_id_is_stable_and_differs_per_key() -> None:
    assert tenant_id("a") == tenant_id("a") != tenant_id("b")


def test_token_bucket_allows_a_burst_then_refills() -> None:
    clock = FakeClock()
    limiter = RateLimiter(3, clock=clock)
    assert [limiter.acquire("t") for _ in range(3)] == [None, None, None]
    assert limiter.acquire("t") == 1
    assert limiter.acquire("other") is None  # a bucket per tenant
    clock.now = 1 / 3
    assert limiter.acquire("t") is None
    assert limiter.acquire("t") == 1
    clock.now = 10.0
    assert [limiter.acquire("t") for _ in range(4)] == [None, None, None, 1]  # capped at 3


def test_retry_after_rounds_up_to_whole_seconds() -> None:
    clock = FakeClock()
    limiter = RateLimiter(1, clock=clock)
    limiter.acquire("t")
    clock.now = 0.01
    assert limiter.acquire("t") == 1  # 0.99 s to wait, said as 1


def test_faults_repeat_under_a_seed_and_never_draw_at_rate_zero() -> None:
    def decisions(seed: int) -> list[object]:
        faults = FaultInjector(fail_rate=0.5, commit_then_fail_rate=0.5, seed=seed)
        return [(faults.fail_before(), faults.fail_after_commit()) for _ in range(50)]

    assert decisions(3) == decisions(3)
    statuses = {before for before, _ in decisions(3)}
    assert statuses == {None, 500, 502, 503}
    assert {after for _, after in decisions(3)} == {None, AfterCommit.ERROR, AfterCommit.DROP}
    calm = FaultInjector(fail_rate=0.0, commit_then_fail_rate=0.0, seed=3)
    assert {calm.fail_before() for _ in range(50)} == {None}
    assert {calm.fail_after_commit() for _ in range(50)} == {None}


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/api/v1/contacts/1b4e28ba-2fa1-11d2-883f-0016d3cca427", "/api/v1/contacts/{id}"),
        ("/api/v1/contacts/bulk", "/api/v1/contacts/bulk"),
        ("/api/v1/companies/upsert", "/api/v1/companies/upsert"),
        ("/api/v1/activities", "/api/v1/activities"),
        ("/api/v1/contacts/", "/api/v1/contacts/"),
        ("/elsewhere/x", "/elsewhere/x"),
    ],
    ids=["id", "bulk", "upsert", "collection", "trailing-slash", "outside-api"],
)
def test_path_template(path: str, template: str) -> None:
    assert path_template(path) == template


def test_request_log_names_method_path_status_never_the_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = create_app(SandboxSettings.from_cli(api_keys=(SECRET,)))

    async def exercise() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
            await client.post(
                "/api/v1/contacts", json=minimal_body("contacts"), headers={"X-Api-Key": SECRET}
            )
            await client.get("/api/v1/contacts", headers={"X-Api-Key": SECRET + "-wrong"})

    caplog.set_level(logging.INFO, logger="crmsync.sandbox")
    try:
        asyncio.run(exercise())
    finally:
        app.close()
    lines = [record.getMessage() for record in caplog.records]
    assert [line.rsplit(" ", 1)[0] for line in lines] == [
        "POST /api/v1/contacts 201",
        "GET /api/v1/contacts 401",
    ]
    assert all(line.endswith("ms") for line in lines)
    assert SECRET not in caplog.text


@pytest.mark.parametrize("command", ["sandbox", "redmine-sandbox"])
def test_a_taken_port_is_said_and_exits_2_before_any_banner(command: str) -> None:
    import socket
    import subprocess
    import sys

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "crmsync", command, "--quiet", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2
    assert f"--port: port {port} is in use" in done.stderr
    assert done.stderr.startswith("Error: ")  # no banner came first
    assert "Traceback" not in done.stderr
