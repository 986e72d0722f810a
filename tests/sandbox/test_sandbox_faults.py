"""Each fault flag does what it says, over real HTTP (one server per flag set)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from crmsync.sandbox.testing import SandboxHandle, minimal_body, running_sandbox
from crmsync.schema import OBJECTS

FAULT_STATUSES = {500, 502, 503}
LATENCY_MS = 30
RATE = 2
ATTEMPTS = 10


def client(sandbox: SandboxHandle, key: str = "test-key") -> httpx.Client:
    return httpx.Client(base_url=f"{sandbox.base_url}/api/v1", headers={"X-Api-Key": key})


@pytest.fixture(scope="module")
def failing() -> Iterator[SandboxHandle]:
    with running_sandbox(fail_rate=1.0, latency_ms=LATENCY_MS, seed=1) as handle:
        yield handle


@pytest.fixture(scope="module")
def ambiguous_server() -> Iterator[SandboxHandle]:
    with running_sandbox(commit_then_fail_rate=1.0, seed=7) as handle:
        yield handle


@pytest.fixture
def ambiguous(ambiguous_server: SandboxHandle) -> SandboxHandle:
    ambiguous_server.reset()  # no records, and the seeded faults from their start
    return ambiguous_server


@pytest.fixture(scope="module")
def limited_server() -> Iterator[SandboxHandle]:
    with running_sandbox(api_keys=("test-key", "other-key"), rate_limit=RATE) as handle:
        yield handle


@pytest.fixture
def limited(limited_server: SandboxHandle) -> SandboxHandle:
    limited_server.reset()  # full buckets again
    return limited_server


# ---- --fail-rate and --latency-ms ----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/contacts", minimal_body("contacts")),
        ("POST", "/companies/bulk", [minimal_body("companies")]),
        ("PUT", "/contacts/upsert", minimal_body("contacts")),
        ("GET", "/activities", None),
    ],
    ids=["create", "bulk", "upsert", "list"],
)
def test_fail_rate_one_answers_5xx_and_stores_nothing(
    failing: SandboxHandle, method: str, path: str, body: object
) -> None:
    with client(failing) as api:
        responses = [api.request(method, path, json=body) for _ in range(4)]
    for response in responses:
        assert response.status_code in FAULT_STATUSES
        assert "error" in response.json()
        if response.status_code == httpx.codes.SERVICE_UNAVAILABLE:
            assert response.headers["retry-after"] == "1"
    assert all(failing.records(name) == [] for name in OBJECTS)
    assert set(failing.stats()["records"].values()) == {0}


def test_fail_rate_uses_all_three_statuses(failing: SandboxHandle) -> None:
    with client(failing) as api:
        statuses = {api.get("/contacts").status_code for _ in range(ATTEMPTS * 2)}
    assert statuses == FAULT_STATUSES


def test_bad_key_is_401_before_any_fault(failing: SandboxHandle) -> None:
    with client(failing, key="nope") as api:
        assert api.get("/contacts").status_code == httpx.codes.UNAUTHORIZED


def test_latency_delays_api_answers(failing: SandboxHandle) -> None:
    with client(failing) as api:
        started = time.perf_counter()
        api.get("/contacts")
        assert time.perf_counter() - started >= LATENCY_MS / 1000


def test_sandbox_endpoints_are_never_faulted(failing: SandboxHandle) -> None:
    with httpx.Client(base_url=failing.base_url) as plain:
        assert plain.get("/_sandbox/stats").status_code == httpx.codes.OK
        assert plain.post("/_sandbox/reset").status_code == httpx.codes.NO_CONTENT


@pytest.mark.slow  # two sandboxes started, a second each
def test_same_seed_same_faults() -> None:
    def statuses() -> list[int]:
        with running_sandbox(fail_rate=0.5, seed=42) as sandbox, client(sandbox) as api:
            return [api.get("/contacts").status_code for _ in range(ATTEMPTS * 2)]

    first = statuses()
    assert first == statuses()
    assert httpx.codes.OK in first and set(first) - {httpx.codes.OK}


def test_reset_restarts_the_seeded_faults_and_their_counts() -> None:
    with running_sandbox(fail_rate=0.5, seed=42) as sandbox, client(sandbox) as api:
        first = [api.get("/contacts").status_code for _ in range(ATTEMPTS * 2)]
        failed = sum(status != httpx.codes.OK for status in first)
        assert sandbox.stats()["faults"] == {
            "fail": failed,
            "commit-then-error": 0,
            "commit-then-drop": 0,
        }
        sandbox.reset()
        assert sandbox.stats()["faults"]["fail"] == 0
        assert [api.get("/contacts").status_code for _ in range(ATTEMPTS * 2)] == first


# ---- --commit-then-fail-rate ---------------------------------------------------------------


def test_commit_then_fail_stores_the_write_but_the_client_sees_a_failure(
    ambiguous: SandboxHandle,
) -> None:
    errors: list[int] = []
    cut: list[str] = []
    with client(ambiguous) as api:
        for n in range(ATTEMPTS):
            try:
                response = api.post("/contacts", json=minimal_body("contacts", n))
            except httpx.TransportError as exc:  # RemoteProtocolError: body cut short
                cut.append(type(exc).__name__)
            else:
                assert response.headers["x-sandbox-fault"] == "commit-then-fail"
                errors.append(response.status_code)
    assert errors and set(errors) == {httpx.codes.INTERNAL_SERVER_ERROR}
    assert cut
    assert len(errors) + len(cut) == ATTEMPTS
    faults = ambiguous.stats()["faults"]
    assert (faults["commit-then-error"], faults["commit-then-drop"]) == (len(errors), len(cut))
    stored = {record["email"] for record in ambiguous.records("contacts")}
    assert stored == {minimal_body("contacts", n)["email"] for n in range(ATTEMPTS)}
    assert ambiguous.write_requests() == ATTEMPTS


def test_commit_then_fail_on_bulk_upsert_and_delete(ambiguous: SandboxHandle) -> None:
    def attempt(api: httpx.Client, method: str, path: str, body: object = None) -> None:
        try:
            response = api.request(method, path, json=body)
        except httpx.TransportError:
            return
        assert response.status_code == httpx.codes.INTERNAL_SERVER_ERROR

    with client(ambiguous) as api:
        attempt(api, "POST", "/companies/bulk", [minimal_body("companies", n) for n in range(3)])
        assert len(ambiguous.records("companies")) == 3
        attempt(api, "PUT", "/companies/upsert", minimal_body("companies", 0, industry="Tech"))
        assert {r["industry"] for r in ambiguous.records("companies")} == {None, "Tech"}
        doomed = ambiguous.records("companies")[0]["id"]
        attempt(api, "DELETE", f"/companies/{doomed}")
        assert doomed not in {r["id"] for r in ambiguous.records("companies")}


def test_commit_then_fail_spares_reads_and_refused_writes(ambiguous: SandboxHandle) -> None:
    with client(ambiguous) as api:
        assert api.get("/contacts").status_code == httpx.codes.OK
        refused = api.post("/contacts", json={"firstName": "x"})
        assert refused.status_code == httpx.codes.UNPROCESSABLE_ENTITY
        assert "lastName" in refused.json()["error"]


# ---- --rate-limit ----------------------------------------------------------------------------


def test_past_the_rate_limit_429_with_retry_after(limited: SandboxHandle) -> None:
    with client(limited) as api:
        responses = [api.get("/contacts") for _ in range(ATTEMPTS)]
    assert [r.status_code for r in responses[:RATE]] == [httpx.codes.OK] * RATE
    refused = [r for r in responses if r.status_code == httpx.codes.TOO_MANY_REQUESTS]
    assert refused
    for response in refused:
        assert response.json() == {"error": "rate limit exceeded"}
        assert int(response.headers["retry-after"]) >= 1


def test_rate_limit_is_per_key_and_401_comes_first(limited: SandboxHandle) -> None:
    with client(limited) as api:
        codes = [api.get("/contacts").status_code for _ in range(ATTEMPTS)]
    assert httpx.codes.TOO_MANY_REQUESTS in codes
    with client(limited, key="other-key") as other:
        assert other.get("/contacts").status_code == httpx.codes.OK
    with client(limited, key="wrong-key") as wrong:
        assert wrong.get("/contacts").status_code == httpx.codes.UNAUTHORIZED


# ---- --db --------------------------------------------------------------------------------------


@pytest.mark.slow  # a sandbox started twice
def test_records_survive_a_restart_with_a_db_file(tmp_path: Path) -> None:
    db = str(tmp_path / "rally.db")
    with running_sandbox(db_path=db) as sandbox, client(sandbox) as api:
        created = api.post("/contacts", json=minimal_body("contacts", 1)).json()
    with running_sandbox(db_path=db) as sandbox, client(sandbox) as api:
        assert api.get(f"/contacts/{created['id']}").json() == created
        assert sandbox.stats()["records"]["contacts"] == 1
        duplicate = api.post("/contacts", json=minimal_body("contacts", 1))
        assert duplicate.status_code == httpx.codes.UNPROCESSABLE_ENTITY
