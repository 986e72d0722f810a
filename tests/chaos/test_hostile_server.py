"""The real CLI and clients against a hostile server on 127.0.0.1 (tests/chaos/hostile.py):
keys echoed back, bulk answers that do not add up, JSON nested 100,000 deep, answers trickled
a byte at a time, answers a gigabyte long, redirects, a key refused in the middle of a run.
Every record ends once in Rally or in the report, no piece of the key is printed or stored,
and nothing hangs: trickles meet a deadline of half a second."""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from crmsync.api import RedmineClient
from crmsync.cli import main
from crmsync.errors import EXIT_CANNOT_START, EXIT_OK, EXIT_STOPPED, SourceError

from .hostile import Answer, HostileServer, Request, hostile_server

pytestmark = pytest.mark.slow

KEY = "rk_hostile_S3CRET_k3y_90210"
ROWS = 250
DEEP = b"[" * 100_000 + b"]" * 100_000
DEADLINE_S = 0.5
PIPELINE = """\
name: hostile
object: contacts
source: {kind: csv, path: contacts.csv}
mapping: {firstName: First, lastName: Last, email: Email}
destination: {base_url: "${RALLY_BASE_URL}", api_key: "${RALLY_API_KEY}"}
load: {mode: bulk, batch_size: 100, concurrency: 1, max_concurrency: 1, max_retries: 1,
       max_backoff_s: 0.1, request_deadline_s: %s}
state: {path: state.db}
report: {dir: reports}
"""


def pieces(text: str, secret: str = KEY) -> list[str]:
    runs = {secret[i : i + 8] for i in range(len(secret) - 7)}
    return [run for run in runs if run in text]


def crmsync(
    folder: Path,
    server: HostileServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *args: str,
) -> tuple[int, str]:
    """The real CLI in this process: its exit code and everything it printed."""
    monkeypatch.setenv("RALLY_BASE_URL", server.base_url)
    monkeypatch.setenv("RALLY_API_KEY", KEY)
    capsys.readouterr()
    try:
        main([*args])
        code = 0
    except SystemExit as exit:
        code = int(exit.code or 0)
    out = capsys.readouterr()
    return code, out.out + out.err


def setup(folder: Path, rows: int = ROWS, deadline_s: float = DEADLINE_S) -> Path:
    lines = ["First,Last,Email", *(f"P{n},Q{n},p{n}@x.org" for n in range(rows))]
    (folder / "contacts.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    pipeline = folder / "pipeline.yaml"
    pipeline.write_text(PIPELINE % deadline_s, encoding="utf-8")
    return pipeline


def everything_written(folder: Path) -> str:
    texts = [p.read_text(encoding="utf-8") for p in (folder / "reports").glob("*")]
    stored = b"".join(p.read_bytes() for p in folder.glob("state.db*"))
    return "\n".join(texts) + stored.decode("latin-1")


def test_an_echoed_key_leaves_no_piece_anywhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = setup(tmp_path, rows=3)

    def echo(request: Request, act: Callable[[], Answer]) -> Answer | None:
        if request.path.endswith("/bulk"):
            key = request.headers["x-api-key"]
            return Answer(status=422, body=("x" * 290 + key + " is not allowed").encode())
        return None

    with hostile_server(echo) as server:
        code, out = crmsync(tmp_path, server, capsys, monkeypatch, "run", str(pipeline))
        _, logged = crmsync(
            tmp_path, server, capsys, monkeypatch, "run", str(pipeline), "--log-format", "json"
        )
    assert code == 1
    assert pieces(out) == [] and pieces(logged) == []
    assert pieces(everything_written(tmp_path)) == []
    assert "[redacted]" in (tmp_path / "reports" / "errors.csv").read_text(encoding="utf-8")


BAD_BULK_ANSWERS = {
    "fewer-ids": lambda honest: Answer(
        json={**honest.json, "createdIds": honest.json["createdIds"][:-1]}
    ),
    "index-out-of-range": lambda honest: Answer(
        json={**honest.json, "errors": [{"index": 999, "error": "?"}], "failed": 1}
    ),
    "negative-index": lambda honest: Answer(
        json={**honest.json, "errors": [{"index": -1, "error": "?"}], "failed": 1}
    ),
    "deep-json": lambda honest: Answer(body=DEEP),
    "not-json": lambda honest: Answer(body=b"<html>gateway says hello</html>"),
    "trickled": lambda honest: Answer(trickle_s=0.05),
    "trickled-head": lambda honest: Answer(trickle_s=0.05, head_too=True),
    "huge": lambda honest: Answer(endless=True),
}


@pytest.mark.parametrize("kind", list(BAD_BULK_ANSWERS))
def test_a_bulk_answer_that_cannot_be_trusted_is_reconciled_without_duplicates(
    kind: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pipeline = setup(tmp_path)
    spoil = BAD_BULK_ANSWERS[kind]

    def twist(request: Request, act: Callable[[], Answer]) -> Answer | None:
        bulks = [r for r in server.requests if r.path.endswith("/bulk")]
        if request.path.endswith("/bulk") and len(bulks) == 2:  # the second bulk, once
            return spoil(act())  # stored, then answered badly: the ambiguous write
        return None

    started = time.monotonic()
    with hostile_server(twist) as server:
        code, out = crmsync(tmp_path, server, capsys, monkeypatch, "run", str(pipeline))
        stored = dict(server.rally.contacts)
        upserts = [r for r in server.requests if r.path.endswith("/upsert")]
        bulks = [r for r in server.requests if r.path.endswith("/bulk")]
        listings = [r for r in server.requests if r.method == "GET"]
    assert code == EXIT_OK, out
    assert sorted(stored) == sorted(f"p{n}@x.org" for n in range(ROWS))  # each once
    assert len(bulks) <= 4 and not upserts  # sent again at most once, as it was
    assert len(listings) >= 2  # beside the probe: what Rally stored was looked up, not guessed
    assert time.monotonic() - started < 30
    assert "Traceback" not in out and pieces(out) == []


@pytest.mark.parametrize("head_too", [False, True], ids=["body", "headers"])
def test_a_trickling_server_cannot_hold_the_run(
    head_too: bool,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pipeline = setup(tmp_path, rows=3)
    started = time.monotonic()
    with hostile_server(lambda request, act: Answer(trickle_s=0.05, head_too=head_too)) as server:
        code, out = crmsync(tmp_path, server, capsys, monkeypatch, "run", str(pipeline))
        attempts = len(server.requests)
    assert code == EXIT_CANNOT_START, out
    assert f"no complete answer within {DEADLINE_S:g} s" in out and "nothing was" in out
    assert attempts == 2  # the first attempt and the one retry
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "until-closed"])
def test_a_gigabyte_answer_is_not_read_whole(
    declared: bool,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pipeline = setup(tmp_path, rows=3, deadline_s=30)
    huge = Answer(endless=True, declared=10**9 if declared else None)
    with hostile_server(lambda request, act: huge) as server:
        code, out = crmsync(tmp_path, server, capsys, monkeypatch, "run", str(pipeline))
        sent = server.bytes_sent
    assert code == EXIT_CANNOT_START, out
    assert "the answer is larger than" in out
    assert sent < 2 * 64 * 2**20  # two attempts, each cut after the list's cap (25 MiB)


def test_a_redirect_is_named_and_not_followed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = setup(tmp_path, rows=3)
    location = "https://acme.rallycrm.io/api/v1/contacts?limit=1&offset=0"
    moved = Answer(status=301, headers={"Location": location})
    with hostile_server(lambda request, act: moved) as server:
        code, out = crmsync(tmp_path, server, capsys, monkeypatch, "run", str(pipeline))
        seen = len(server.requests)
    assert code == EXIT_CANNOT_START
    assert f"HTTP 301: redirected to {location}" in out
    assert "configure its root (https://acme.rallycrm.io)" in out
    assert seen == 1


def test_a_key_refused_mid_run_keeps_the_report_and_the_history(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = setup(tmp_path)

    def revoked(request: Request, act: Callable[[], Answer]) -> Answer | None:
        bulks = [r for r in server.requests if r.path.endswith("/bulk")]
        if len(bulks) >= 3:
            return Answer(status=401, json={"error": "key revoked"})
        return None

    with hostile_server(revoked) as server:
        code, out = crmsync(tmp_path, server, capsys, monkeypatch, "run", str(pipeline))
        stored = len(server.rally.contacts)
        _, history = crmsync(tmp_path, server, capsys, monkeypatch, "runs", str(pipeline), "--json")
    assert code == EXIT_STOPPED, out
    assert stored == 200
    assert "Stopped after sending records" in out and "the API key was refused" in out
    (run,) = json.loads(history)
    assert (run["status"], run["created"], run["failed"]) == ("interrupted", 200, ROWS - 200)
    errors = (tmp_path / "reports" / "errors.csv").read_text(encoding="utf-8")
    assert errors.count("the load stopped before this record's outcome was known") == ROWS - 200


# -- Redmine, through its client ---------------------------------------------------------------


def redmine_against(server: HostileServer, **options: Any) -> RedmineClient:
    return RedmineClient(server.base_url, KEY, max_retries=1, sleep=lambda s: None, **options)


REDMINE_ANSWERS = {
    "trickled": (Answer(trickle_s=0.05), "no complete answer within 0.5 s"),
    "trickled-head": (Answer(trickle_s=0.05, head_too=True), "no complete answer within 0.5 s"),
    "huge": (Answer(endless=True), "the answer is larger than"),
    "deep-json": (Answer(body=DEEP), "nested too deeply"),
    "redirect": (
        Answer(status=302, headers={"Location": "/login?back_url=%2Fcontacts.json"}),
        "redirected to http://127.0.0.1",
    ),
    "echo": (Answer(status=400, body=b"y" * 295 + KEY.encode()), "HTTP 400: yyy"),
}


# JSON 100,000 deep runs Python's recursion to its limit on purpose: a finalizer of some earlier
# test's garbage that the cyclic collector runs right then fails for want of stack, and pytest
# cannot even format that. Collect beforehand; what such a finalizer says is no finding here.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("kind", list(REDMINE_ANSWERS))
def test_the_redmine_client_fails_clearly_on_a_hostile_answer(kind: str) -> None:
    answer, expected = REDMINE_ANSWERS[kind]
    gc.collect()
    started = time.monotonic()
    with hostile_server(lambda request, act: answer) as server:
        client = redmine_against(server, request_deadline_s=DEADLINE_S)
        with client, pytest.raises(SourceError) as caught:
            client.get("/contacts.json", {"limit": 100}, lambda body: body)
    assert expected in str(caught.value)
    assert pieces(str(caught.value)) == []
    assert time.monotonic() - started < 10
