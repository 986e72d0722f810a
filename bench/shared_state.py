"""Benchmark: workers sharing one PostgreSQL state, beside one worker on an SQLite file.

    .venv/bin/python bench/shared_state.py [--rows 100000] [--latency-ms 250] [--rate-limit 20]
        [--postgres-url URL]

Each worker is the real `crmsync run` in a working folder of its own (as a container would be),
against one `crmsync sandbox` (reset between scenarios) and, for the shared scenarios, one
PostgreSQL state (a throwaway local server unless --postgres-url). Scenarios, same file, same
run:

1. baseline: one worker, SQLite state file;
2. one worker, PostgreSQL state;
3. two workers started together on the same pipeline: one loads, the other exits 4;
4. two workers in turn: the first is killed (SIGKILL) half-way, a second on a fresh folder
   resumes from the shared state;
5. a fresh worker afterwards: everything unchanged, no write.

Prints wall time, requests and records in Rally per scenario. Asserts only what makes a figure
meaningful (every record once); timings move with whatever else runs on the machine.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import httpx

from crmsync.sandbox.postgres import temporary_postgres
from crmsync.sandbox.testing import SandboxHandle, running_sandbox

KEY = "bk_live_9f3e1c77d2a45b"
PIPELINE = """\
name: bench-shared
object: contacts
source: {kind: csv, path: contacts.csv}
mapping: {firstName: First Name, lastName: Last Name, email: Email, city: City}
sync: {unreadable: rewrite}
destination: {base_url: "${RALLY_BASE_URL}", api_key: "${RALLY_API_KEY}"}
STATE
load: {mode: auto}
report: {dir: reports}
"""


def folder_for(root: Path, name: str, rows: int, state: str) -> Path:
    folder = root / name
    folder.mkdir()
    lines = ["First Name,Last Name,Email,City"]
    lines += [f"Ana,Bench{n},ana.bench{n}@example.com,Porto" for n in range(rows)]
    (folder / "contacts.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "pipeline.yaml").write_text(PIPELINE.replace("STATE", state), encoding="utf-8")
    return folder


def start(folder: Path, rally: SandboxHandle, url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RALLY_BASE_URL": rally.base_url, "RALLY_API_KEY": KEY, "PG_URL": url}
    return subprocess.Popen(
        [sys.executable, "-m", "crmsync", "run", "pipeline.yaml"],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(folder / "stderr.txt").open("wb"),
    )


def requests(rally: SandboxHandle) -> int:
    return sum(int(row["count"]) for row in rally.stats()["requests"])


def check_once(rally: SandboxHandle, rows: int) -> int:
    emails = Counter(record["email"] for record in rally.records("contacts", KEY))
    assert len(emails) == rows and max(emails.values()) == 1, "a record twice, or missing"
    return len(emails)


def report(label: str, seconds: float, rally: SandboxHandle, codes: list[int]) -> None:
    stored = int(rally.stats()["records"].get("contacts", 0))
    print(
        f"{label:<52} {seconds:7.1f} s {requests(rally):7,} requests {stored:9,} in Rally"
        f"   exit {','.join(map(str, codes))}"
    )


def reset(rally: SandboxHandle) -> None:
    httpx.post(f"{rally.base_url}/_sandbox/reset").raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--latency-ms", type=int, default=250)
    parser.add_argument("--rate-limit", type=int, default=20)
    parser.add_argument("--postgres-url", default=None)
    args = parser.parse_args()
    rows = args.rows
    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        url = args.postgres_url or stack.enter_context(temporary_postgres())
        rally = stack.enter_context(
            running_sandbox(api_keys=(KEY,), latency_ms=args.latency_ms, rate_limit=args.rate_limit)
        )
        print(
            f"{rows:,} contacts, sandbox {args.latency_ms} ms latency, {args.rate_limit} requests/s"
        )

        def shared(schema: str) -> str:
            return f'state: {{url: "${{PG_URL}}", schema: {schema}}}'

        # 1. one worker, SQLite
        begin = time.perf_counter()
        worker = start(folder_for(root, "sqlite", rows, "state: {path: state.db}"), rally, url)
        code = worker.wait()
        report("1. one worker, SQLite state", time.perf_counter() - begin, rally, [code])
        check_once(rally, rows)

        # 2. one worker, PostgreSQL
        reset(rally)
        begin = time.perf_counter()
        code = start(folder_for(root, "pg-one", rows, shared("one")), rally, url).wait()
        report("2. one worker, PostgreSQL state", time.perf_counter() - begin, rally, [code])
        check_once(rally, rows)

        # 3. two workers at once, one pipeline
        reset(rally)
        begin = time.perf_counter()
        pair = [start(folder_for(root, f"pg-two-{n}", rows, shared("two")), rally, url)
                for n in (1, 2)]  # fmt: skip
        codes = [worker.wait() for worker in pair]
        report("3. two workers at once (one exits 4)", time.perf_counter() - begin, rally, codes)
        check_once(rally, rows)

        # 4. the first killed half-way, a second resumes
        reset(rally)
        begin = time.perf_counter()
        first = start(folder_for(root, "pg-kill-1", rows, shared("kill")), rally, url)
        while int(rally.stats()["records"].get("contacts", 0)) < rows // 2:
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait()
        second = start(folder_for(root, "pg-kill-2", rows, shared("kill")), rally, url)
        codes = [first.returncode, second.wait()]
        report("4. first killed half-way, a fresh worker resumes", time.perf_counter() - begin,
               rally, codes)  # fmt: skip
        check_once(rally, rows)

        # 5. a fresh worker afterwards
        before = requests(rally)
        begin = time.perf_counter()
        code = start(folder_for(root, "pg-fresh", rows, shared("kill")), rally, url).wait()
        seconds = time.perf_counter() - begin
        print(f"{'5. a fresh worker afterwards: unchanged':<52} {seconds:7.1f} s "
              f"{requests(rally) - before:7,} requests   exit {code}")  # fmt: skip


if __name__ == "__main__":
    main()
