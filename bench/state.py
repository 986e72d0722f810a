"""Speed of the state database's bulk paths and of payload hashing, on a million rows.

Prints, for ROWS contacts-like rows of 12 columns: payload_hashes (canonical JSON + SHA-256 per
row), put_hashes into a fresh file and again as an update, get_hashes back into a frame, and
get_ids for a tenth of the keys. Goals (issue 7): payload_hashes about 2 s, get_hashes well
under 2 s, so an unchanged rerun of a million rows stays under 10 s end to end.

    .venv/bin/python bench/state.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import polars as pl

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


def timed(label: str, action: Callable[[], T]) -> T:
    start = time.perf_counter()
    result = action()
    print(f"{label:<40} {time.perf_counter() - start:6.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    rows = parser.parse_args().rows
    frame = contacts(rows)
    print(f"{rows:,} rows x {frame.width} columns")
    hashes = timed("payload_hashes", lambda: payload_hashes(frame, frame.columns))
    triples = list(zip(frame["email"], hashes, frame["companyId"], strict=True))
    with tempfile.TemporaryDirectory() as folder, StateDB.open(Path(folder) / "s.db") as db:
        timed("put_hashes (new file)", lambda: db.hashes.put("contacts", triples))
        timed("put_hashes (all keys known: update)", lambda: db.hashes.put("contacts", triples))
        stored = timed("get_hashes", lambda: db.hashes.get("contacts"))
        assert stored.height == rows
        pairs = list(zip(frame["email"], frame["companyId"], strict=True))
        timed("put_ids", lambda: db.ids.put("contacts", "email", pairs))
        wanted = frame["email"].gather_every(10).to_list()
        found = timed(
            f"get_ids ({len(wanted):,} keys)", lambda: db.ids.get("contacts", "email", wanted)
        )
        assert len(found) == len(wanted)
        size = (Path(folder) / "s.db").stat().st_size + (Path(folder) / "s.db-wal").stat().st_size
        print(f"{'database + WAL size':<40} {size / 1e6:6.0f} MB")


if __name__ == "__main__":
    main()
