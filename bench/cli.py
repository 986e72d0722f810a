"""Benchmark: the real `crmsync run` on a big file against the sandbox: first load, rerun, and a
nightly with some rows changed.

    .venv/bin/python bench/cli.py [--rows 1000000] [--latency-ms 0] [--rate-limit 0] [--keep DIR]
        [--dry-run | --only-dry-run] [--unicode-share 0.25]

`--keep DIR` keeps the file, the state, the reports and the sandbox's records (DIR/sandbox.db,
served on the port in DIR/sandbox.port, which the state names the tenant by), so a run can be
repeated or profiled afterwards against the same tenant: the last lines printed say how.

Generates a realistic contacts CSV (bench/transform.py's generator: duplicates in other case,
invalid emails and scores, messy phones), starts `crmsync sandbox` with the given latency and
per-key rate limit, and runs the CLI as a user would: a first load into an empty state DB,
the same file again (nothing to send), then a copy with every 1,000th row's last name changed
(a nightly export where a few records moved). Each CLI run is its own child process, so its
peak memory (ru_maxrss from wait4) is the CLI's alone, not the sandbox's. Prints wall time,
rows/s, what the summary counted, requests, and peak MiB; a dry run also beside the
transform's floor (bench/transform.py) run on the same file just before it. Asserts nothing:
the sandbox shares the machine's 2 cores with the CLI, so figures move with the load of other
processes.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from crmsync.sandbox.testing import free_port, running_sandbox
from transform import (
    COLUMNS,
    UNICODE_EMAIL_SHARE,
    generate,
    run_child,
)  # bench/transform.py: `python bench/cli.py` finds it

DEFAULT_ROWS = 1_000_000
DUPLICATE_CHECK_ROWS = 100_000
KEY = "bench-cli-key"
KIB = 1024
RECORDS_PER_BULK = 100  # a request/s of the limit carries this many records
SANDBOX_FILES = ("sandbox.db", "sandbox.db-wal", "sandbox.db-shm")  # a kept folder's tenant
SANDBOX_PORT = "sandbox.port"
CHANGED_EVERY = 1_000  # the "changed" run's file: this row in so many has a new last name
PIPELINE_YAML = """\
name: bench-cli
object: contacts
source: {{kind: csv, path: contacts.csv}}
mapping: {{{mapping}}}
normalize: {{default_region: US}}
sync: {{unreadable: rewrite}}
destination: {{base_url: "${{RALLY_BASE_URL}}", api_key: "${{RALLY_API_KEY}}"}}
state: {{path: state.db}}
load: {{mode: auto}}
"""


def prepare(folder: Path, rows: int, unicode_share: float) -> None:
    """The CSV (generated once per folder), a pipeline mapping every column to itself, and
    no state: the first run is a first load."""
    source = folder / "contacts.csv"
    if not source.exists():
        start = time.perf_counter()
        generate(source, rows, unicode_share=unicode_share)
        print(f"generated {rows:,} rows in {time.perf_counter() - start:.1f} s: {source}")
    mapping = ", ".join(f"{column}: {column}" for column in COLUMNS)
    (folder / "pipeline.yaml").write_text(PIPELINE_YAML.format(mapping=mapping), "utf-8")
    for stale in ("state.db", "state.db-wal", "state.db-shm", *SANDBOX_FILES):
        (folder / stale).unlink(missing_ok=True)


def kept_sandbox(folder: Path) -> tuple[str, int]:
    """Where a kept folder's sandbox keeps its records, and its port: the one it had before
    (the state knows the tenant by its URL), else a free one, written down for next time."""
    saved = folder / SANDBOX_PORT
    port = int(saved.read_text()) if saved.exists() else free_port()
    saved.write_text(str(port))
    return str(folder / SANDBOX_FILES[0]), port


def changed_copy(folder: Path) -> None:
    """contacts-changed.csv: contacts.csv with every CHANGED_EVERY-th row's last name new,
    and pipeline-changed.yaml, the same pipeline reading it (the same step and state)."""
    with (
        (folder / "contacts.csv").open(newline="", encoding="utf-8") as source,
        (folder / "contacts-changed.csv").open("w", newline="", encoding="utf-8") as target,
    ):
        rows = csv.reader(source)
        writer = csv.writer(target)
        header = next(rows)
        writer.writerow(header)
        last = header.index("lastName")
        for number, row in enumerate(rows, start=1):
            if number % CHANGED_EVERY == 0 and len(row) > last:
                row[last] = f"{row[last]}-Moved"
            writer.writerow(row)
    text = (folder / "pipeline.yaml").read_text("utf-8")
    changed = text.replace("path: contacts.csv", "path: contacts-changed.csv")
    (folder / "pipeline-changed.yaml").write_text(changed, "utf-8")


def run_cli(folder: Path, base_url: str, label: str) -> dict[str, Any]:
    """One `crmsync run` in a child process (`--dry-run` for the label "dry-run", the
    changed copy for "changed"): its wall time, peak memory and summary."""
    reports = folder / f"reports-{label}"
    env = {**os.environ, "RALLY_BASE_URL": base_url, "RALLY_API_KEY": KEY}
    pipeline = "pipeline-changed.yaml" if label == "changed" else "pipeline.yaml"
    command = [sys.executable, "-m", "crmsync", "run", pipeline]
    command += ["--dry-run"] if label == "dry-run" else []
    with tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(
            [*command, "--report-dir", str(reports)],
            cwd=folder,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        _, status, usage = os.wait4(process.pid, 0)  # the child's own rusage, not the sandbox's
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        stderr.seek(0)
        errors = stderr.read().decode(errors="replace")
    written = reports / "summary.json"
    if not written.exists():  # it could not start (exit 2: a probe met the faults twice)
        raise SystemExit(f"{label}: exit {process.returncode}, no summary: {errors.strip()}")
    summary = json.loads(written.read_text())
    return {
        "label": label,
        "exit": process.returncode,
        "seconds": elapsed,
        "peak_mib": usage.ru_maxrss / KIB,
        "summary": summary,
        "stderr": errors.strip().splitlines()[-1:] if process.returncode > 1 else [],
    }


def measure(
    folder: Path, args: argparse.Namespace, labels: tuple[str, ...], *, faults: bool
) -> tuple[list[dict[str, Any]], int, set[str] | None]:
    """The runs `labels` against a fresh sandbox (with the fault flags, if `faults`): their
    figures, the records stored, and their emails when few enough to read back."""
    db_path, port = kept_sandbox(folder) if args.keep else (None, None)
    with running_sandbox(
        api_keys=(KEY,),
        latency_ms=args.latency_ms,
        rate_limit=args.rate_limit,
        fail_rate=args.fail_rate if faults else 0.0,
        commit_then_fail_rate=args.commit_then_fail_rate if faults else 0.0,
        seed=args.seed,
        db_path=db_path,
        port=port,
    ) as sandbox:
        runs = []
        for label in labels:
            # the dry run beside the transform's floor (bench/transform.py) on the same file,
            # measured just before it: the two meet the same load
            floor = run_child("floor", folder / "contacts.csv") if label == "dry-run" else None
            runs.append(run_cli(folder, sandbox.base_url, label))
            if floor is not None:
                runs[-1]["floor_seconds"] = floor["total"]
        stored = int(sandbox.stats()["records"]["contacts"])
        # reading every record back pages by offset: worth it only for a small tenant
        check = args.rows <= DUPLICATE_CHECK_ROWS
        emails = {r["email"] for r in sandbox.records("contacts", KEY)} if check else None
    return runs, stored, emails


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--rate-limit", type=int, default=0, help="requests/s per key; 0: none")
    parser.add_argument("--keep", type=Path, help="folder for the CSV, state and reports")
    parser.add_argument("--fail-rate", type=float, default=0.0, help="sandbox 5xx share")
    parser.add_argument(
        "--commit-then-fail-rate", type=float, default=0.0, help="sandbox lost-answer share"
    )
    parser.add_argument("--seed", type=int, default=1, help="the sandbox's fault sequence")
    parser.add_argument("--dry-run", action="store_true", help="a dry run before the first")
    parser.add_argument(
        "--only-dry-run",
        action="store_true",
        help="the dry run alone (10M rows: minutes, not hours)",
    )
    parser.add_argument(
        "--unicode-share", type=float, default=UNICODE_EMAIL_SHARE, help="accented emails"
    )
    args = parser.parse_args()
    faulted = bool(args.fail_rate or args.commit_then_fail_rate)
    baseline: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        if faulted:  # the same first load without faults, beside it in the same run
            prepare(folder, args.rows, args.unicode_share)
            baseline, _, _ = measure(folder, args, ("no-faults",), faults=False)
        prepare(folder, args.rows, args.unicode_share)
        labels: tuple[str, ...] = ("first", "rerun", "changed")
        if args.dry_run or args.only_dry_run:
            labels = ("dry-run",) if args.only_dry_run else ("dry-run", *labels)
        if "changed" in labels:
            changed_copy(folder)
        runs, stored, emails = measure(folder, args, labels, faults=True)
    limit = f"{args.rate_limit} requests/s" if args.rate_limit else "no rate limit"
    faults = (
        f", faults: {args.fail_rate:.0%} 5xx, {args.commit_then_fail_rate:.0%} lost answers"
        if faulted
        else ""
    )
    print(f"\n{args.rows:,} rows, sandbox latency {args.latency_ms} ms, {limit}{faults}")
    doubled = f" ({stored - len(emails):,} duplicated)" if emails is not None else ""
    print(f"records in Rally: {stored:,}{doubled}")
    print(
        f"{'run':<10}{'exit':>5}{'seconds':>9}{'rows/s':>10}{'created':>10}{'updated':>9}"
        f"{'unchanged':>11}{'merged':>8}"
        f"{'failed':>8}{'requests':>10}{'peak MiB':>10}"
    )
    for run in [*baseline, *runs]:
        summary = run["summary"]
        print(
            f"{run['label']:<10}{run['exit']:>5}{run['seconds']:>9.1f}"
            f"{summary['rows_read'] / run['seconds']:>10,.0f}{summary['created']:>10,}"
            f"{summary['updated']:>9,}"
            f"{summary['unchanged']:>11,}{summary['merged']:>8,}{summary['failed']:>8,}{summary['requests']:>10,}"
            f"{run['peak_mib']:>10,.0f}"
        )
        for line in run["stderr"]:
            print(f"  stderr: {line}")
    for run in runs:
        if "floor_seconds" in run:
            print(
                f"dry run: {run['seconds']:.1f} s = {run['seconds'] / run['floor_seconds']:.1f}x "
                f"the transform floor's {run['floor_seconds']:.2f} s (read, lower-case, regex "
                "check and dedupe of the email column, run just before it)"
            )
    if baseline and args.rate_limit:
        limit_rps = args.rate_limit * RECORDS_PER_BULK
        for run in [baseline[0], runs[labels.index("first")]]:  # faults: never a dry run alone
            rate = run["summary"]["created"] / run["seconds"]
            print(f"{run['label']}: {rate:,.0f} records/s = {rate / limit_rps:.1%} of the limit")
        ratio = (
            runs[labels.index("first")]["summary"]["requests"] / baseline[0]["summary"]["requests"]
        )
        print(f"requests with faults / without: {ratio:.2f}x")
    if args.keep:
        db_path, port = kept_sandbox(args.keep)
        print(
            f"kept in {args.keep}: serve its tenant again with `crmsync sandbox --db "
            f"{db_path} --port {port} --api-key {KEY}`, then run its "
            f"pipeline files there with RALLY_BASE_URL=http://127.0.0.1:{port} "
            f"RALLY_API_KEY={KEY}"
        )


if __name__ == "__main__":
    main()
