"""Speed of the state database's bulk paths and of payload hashing, on a million rows.

Prints, for ROWS contacts-like rows of 12 columns: payload_hashes (canonical JSON + SHA-256 per
row), put_hashes into a fresh file and again as an update, get_hashes back into a frame, and
get_ids for a tenth of the keys. Goals (issue 7): payload_hashes about 2 s, get_hashes well
under 2 s, so an unchanged rerun of a million rows stays under 10 s end to end.

    .venv/bin/python bench/state.py [--rows 1000000] [--backend sqlite|postgres|both]

Both backends run the same calls on the same rows, side by side; PostgreSQL is a throwaway
local server (fsync off, as a benchmark of crmsync's side rather than of a disk).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TypeVar

import polars as pl

from crmsync.sandbox.postgres import temporary_postgres
from crmsync.state import StateDB, payload_hashes

DEFAULT_ROWS = 1_000_000
T = TypeVar("T")


def contacts(rows: int) -> pl.DataFrame:
    """A frame shaped like normalized contacts: mostly strings, some nulls, ints and floats."""
    index = pl.int_range(rows, eager=True)
    frame = pl.DataFrame({"i": index})
    return frame.select(
        firstName=pl.lit(["Anna", "Zoë", "O'Neil", 'Jean "JL" Luc']).list.get(pl.col("i") % 4),
        lastName=pl.format("Last{}", "i"),
        email=pl.format("user{}@example{}.com", "i", pl.col("i") % 977),
        phone=pl.when(pl.col("i") % 3 > 0).then(pl.format("+1555{}", pl.col("i") + 10**6)),
        jobTitle=pl.when(pl.col("i") % 5 > 0).then(pl.lit("Head of\nSales")),
        companyId=pl.format("{}-0000-4000-8000-000000000000", pl.col("i") + 10**7),
        lifecycleStage=pl.lit(["lead", "customer", "opportunity"]).list.get(pl.col("i") % 3),
        leadScore=pl.col("i") % 101,
        tags=pl.when(pl.col("i") % 2 > 0).then(pl.lit("vip,newsletter")),
        city=pl.lit(["Zürich", "São Paulo", "Oslo"]).list.get(pl.col("i") % 3),
        country=pl.lit(["CH", "BR", "NO"]).list.get(pl.col("i") % 3),
        revenue=(pl.col("i") % 1000) * 1.25,
    )


def timed(label: str, action: Callable[[], T], figures: dict[str, float]) -> T:
    start = time.perf_counter()
    result = action()
    figures[label] = time.perf_counter() - start
    return result


def exercise(db: StateDB, frame: pl.DataFrame, hashes: list[str]) -> dict[str, float]:
    """The bulk paths a run takes, timed on one open state database."""
    figures: dict[str, float] = {}
    triples = list(zip(frame["email"], hashes, frame["companyId"], strict=True))
    timed("put_hashes (new keys)", lambda: db.hashes.put("contacts", triples), figures)
    timed(
        "put_hashes (all keys known: update)", lambda: db.hashes.put("contacts", triples), figures
    )
    stored = timed("get_hashes", lambda: db.hashes.get("contacts"), figures)
    assert stored.height == frame.height
    read = lambda: db.hashes.compared("contacts")  # noqa: E731 (what a rerun compares)
    table = timed("compared (from the table)", read, figures)
    timed("keep_snapshot", lambda: db.hashes.keep_snapshot("contacts"), figures)
    kept = timed("compared (from its snapshot)", read, figures)
    assert kept.equals(table)
    codes = lambda: db.hashes.compared("contacts", keys=False)  # noqa: E731 (while a file is read)
    assert "match_key" not in timed("compared, codes only (from its snapshot)", codes, figures)
    pairs = list(zip(frame["email"], frame["companyId"], strict=True))
    timed("put_ids", lambda: db.ids.put("contacts", "email", pairs), figures)
    wanted = frame["email"].gather_every(10).to_list()
    found = timed(
        f"get_ids ({len(wanted):,} keys)", lambda: db.ids.get("contacts", "email", wanted), figures
    )
    assert len(found) == len(wanted)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgres", "both"),
        default="both",
        help="postgres starts a throwaway server from the system's binaries (or --postgres-url)",
    )
    parser.add_argument("--postgres-url", default=None, help="an existing server to use")
    args = parser.parse_args()
    frame = contacts(args.rows)
    print(f"{args.rows:,} rows x {frame.width} columns")
    start = time.perf_counter()
    hashes = payload_hashes(frame, frame.columns)
    print(f"{'payload_hashes':<42} {time.perf_counter() - start:8.2f} s")
    results: dict[str, dict[str, float]] = {}
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder, StateDB.open(Path(folder) / "s.db") as db:
            results["SQLite"] = exercise(db, frame, hashes)
    if args.backend in ("postgres", "both"):
        with ExitStack() as stack:
            url = args.postgres_url or stack.enter_context(temporary_postgres())
            db = stack.enter_context(StateDB.connect(url, schema_name="bench_state"))
            results["PostgreSQL"] = exercise(db, frame, hashes)
    names = list(results)
    print(f"{'operation':<42}" + "".join(f"{name:>12}" for name in names))
    for label in next(iter(results.values())):
        print(f"{label:<42}" + "".join(f"{results[n][label]:>10.2f} s" for n in names))


if __name__ == "__main__":
    main()
