"""Benchmark: a nightly sync into a tenant people work in, merged field by field, beside the
same sync by an older crmsync that upserts only its own fields (and so wipes people's edits).

    .venv/bin/python bench/safe_sync.py [--rows 100000] [--changed 1000] [--edited 1000]
        [--latency-ms 50] [--rate-limit 20] [--baseline /path/to/older/crmsync]

For each crmsync: an import of `rows` contacts into an empty sandbox tenant (no latency, no
limit), then `edited` contacts get a lead score, a stage and tags from a person in Rally, and
`changed` contacts (`overlap` of them among those) a new title in the source file. The sync
that follows runs against the same sandbox restarted with `latency-ms` and a `rate-limit` per
key, like a real tenant: its wall time and requests are the figures. Then, for this crmsync
only, the same again (another `changed` and `edited`): the steady state of a nightly job, where
a look at Rally lists only what was written or edited since the last one. Finally the people's
edits are counted: how many survived. `--baseline` is an older crmsync executable (a
checkout's .venv/bin/crmsync); without it only this crmsync runs. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from crmsync.sandbox.testing import INSPECT_HEADERS, free_port, running_sandbox

KEY = "bench-safe-key"
HEADER = "First,Last,Email,Title"
PIPELINE = """\
name: bench-safe
object: contacts
source: {kind: csv, path: contacts.csv}
mapping: {firstName: First, lastName: Last, email: Email, title: Title}
sync: {unreadable: rewrite}
destination: {base_url: "${RALLY_BASE_URL}", api_key: "${RALLY_API_KEY}"}
state: {path: state.db}
"""
WRITABLE = (
    "firstName",
    "lastName",
    "email",
    "phone",
    "mobile",
    "title",
    "department",
    "companyId",
    "lifecycleStage",
    "leadSource",
    "leadScore",
    "tags",
    "ownerId",
)
EDIT = {"leadScore": 95, "lifecycleStage": "customer", "tags": "vip,renewal"}
PAGE = 100


def write_source(folder: Path, rows: int, titles: dict[int, str]) -> None:
    lines = [HEADER]
    lines += [
        f"Kim,Person{n},kim.person{n}@example.com,{titles.get(n, 'Engineer')}" for n in range(rows)
    ]
    (folder / "contacts.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_cli(executable: str, folder: Path, base_url: str, label: str) -> dict[str, Any]:
    env = {**os.environ, "RALLY_BASE_URL": base_url, "RALLY_API_KEY": KEY}
    reports = folder / f"reports-{label}"
    start = time.perf_counter()
    done = subprocess.run(
        [executable, "run", str(folder / "pipeline.yaml"), "--report-dir", str(reports)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{label}: exit {done.returncode}\n{done.stdout}\n{done.stderr}")
    summary = json.loads((reports / "summary.json").read_text())
    return {"seconds": seconds, **summary}


def records(base_url: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    with httpx.Client(base_url=base_url, headers={"X-Api-Key": KEY, **INSPECT_HEADERS}) as c:
        while True:
            page = c.get("/api/v1/contacts", params={"limit": PAGE, "offset": len(found)}).json()
            found += page
            if len(page) < PAGE:
                return found


def edit(base_url: str, picked: list[dict[str, Any]]) -> None:
    """People edit these contacts in Rally: a whole-record PUT, as Rally's UI would send."""
    with httpx.Client(base_url=base_url, headers={"X-Api-Key": KEY}) as client:
        for record in picked:
            body = {k: record[k] for k in WRITABLE if record.get(k) is not None} | EDIT
            client.put(f"/api/v1/contacts/{record['id']}", json=body).raise_for_status()


def survived(base_url: str, emails: set[str]) -> int:
    return sum(
        1
        for r in records(base_url)
        if r["email"] in emails and all(r.get(k) == v for k, v in EDIT.items())
    )


def one_crmsync(
    label: str, executable: str, folder: Path, args: argparse.Namespace, rounds: int
) -> list[dict[str, Any]]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pipeline.yaml").write_text(PIPELINE, encoding="utf-8")
    db = str(folder / "sandbox.db")
    port = free_port()  # the tenant's address stays the same across the sandbox's restarts
    rng = random.Random(7)
    titles: dict[int, str] = {}
    write_source(folder, args.rows, titles)
    with running_sandbox(api_keys=(KEY,), db_path=db, port=port) as fast:
        imported = run_cli(executable, folder, fast.base_url, "import")
    print(f"{label:9} import {args.rows:,} rows: {imported['seconds']:.1f} s, "
          f"{imported['created']:,} created")  # fmt: skip
    figures = []
    edited: set[str] = set()
    for round_ in range(1, rounds + 1):
        with running_sandbox(api_keys=(KEY,), db_path=db, port=port) as fast:
            everyone = records(fast.base_url)
            picked = rng.sample([r for r in everyone if r["email"] not in edited], args.edited)
            edit(fast.base_url, picked)
        edited |= {r["email"] for r in picked}
        people = {r["email"] for r in picked}
        touched = [int(e.removeprefix("kim.person").split("@")[0]) for e in sorted(people)]
        others = [n for n in range(args.rows) if f"kim.person{n}@example.com" not in people]
        both = min(args.overlap, args.changed, args.edited)
        for n in rng.sample(touched, both) + rng.sample(others, args.changed - both):
            titles[n] = f"Director {round_}.{n}"
        write_source(folder, args.rows, titles)
        with running_sandbox(
            api_keys=(KEY,),
            db_path=db,
            port=port,
            latency_ms=args.latency_ms,
            rate_limit=args.rate_limit,
        ) as slow:
            synced = run_cli(executable, folder, slow.base_url, f"sync{round_}")
        with running_sandbox(api_keys=(KEY,), db_path=db, port=port) as fast:
            kept = survived(fast.base_url, edited)
        figures.append({"round": round_, "kept": kept, "edited": len(edited), **synced})
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--changed", type=int, default=1_000)
    parser.add_argument("--edited", type=int, default=1_000)
    parser.add_argument(
        "--overlap", type=int, default=500, help="of the changed, how many a person edited too"
    )
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--rate-limit", type=int, default=20)
    parser.add_argument("--baseline", help="an older crmsync executable to compare with")
    args = parser.parse_args()
    this = str(Path(sys.executable).with_name("crmsync"))
    with tempfile.TemporaryDirectory() as tmp:
        results = {"this": one_crmsync("this", this, Path(tmp) / "this", args, rounds=2)}
        if args.baseline:
            results["baseline"] = one_crmsync(
                "baseline", args.baseline, Path(tmp) / "baseline", args, rounds=1
            )
    print(
        f"\nsync of {args.rows:,} contacts, {args.changed:,} changed in the source, "
        f"{args.edited:,} edited in Rally ({args.overlap:,} both); {args.latency_ms} ms latency, "
        f"{args.rate_limit} requests/s"
    )
    print(f"{'crmsync':9} {'sync':>5} {'seconds':>8} {'requests':>9} {'updated':>8} "
          f"{'edits kept':>14}")  # fmt: skip
    for label, rounds in results.items():
        for f in rounds:
            print(
                f"{label:9} {f['round']:>5} {f['seconds']:>8.1f} {f['requests']:>9,} "
                f"{f['updated']:>8,} {f['kept']:>6,} of {f['edited']:,}"
            )


if __name__ == "__main__":
    main()
