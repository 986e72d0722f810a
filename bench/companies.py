"""Benchmark: read -> normalize -> validate -> dedupe on a companies file, beside the floor of
what polars can do with its domains (read, lower-case, cut the host out of the website with
one regex, drop duplicates) and a row-by-row baseline (tldextract per website, a dict to
merge duplicates).

    .venv/bin/python bench/companies.py [--rows 200000] [--baseline-rows 20000]

Companies differ from contacts where it costs: nearly every row has its own domain, so the
registrable domain of each website is a value no cache has seen. Prints the figures and how
many distinct hosts the suffix sets decided and how many the library read; asserts nothing.
The machine has 2 shared cores: figures move with the load.
"""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
import time
from pathlib import Path

DEFAULT_ROWS = 200_000
DEFAULT_BASELINE_ROWS = 20_000
SEED = 20251129
DUPLICATE_SHARE = 0.05  # rows repeating an earlier company's website in another spelling
WORDS = [
    "acme", "globex", "initech", "umbrella", "stark", "wayne", "wonka", "hooli", "pied",
    "piper", "vandelay", "soylent", "tyrell", "cyberdyne", "massive", "dynamic",
]  # fmt: skip
SUFFIXES = ["com", "com", "com", "co.uk", "de", "io", "net", "org", "com.au", "fr"]
ODD_SHARE = 0.01  # hosts only the library reads: an international name, a wildcard suffix
ODD_HOSTS = ["bücher{}.de", "shop{}.co.ck", "xn--mnchen-3ya{}.de", "a{}.city.kawasaki.jp"]
INDUSTRIES = ["Software", "Retail", "Finance", "", "Manufacturing"]
SIZES = ["11-50", "200", "1,000", "", "51-200"]  # a band is left out with a warning


def generate(path: Path, rows: int) -> None:
    """Companies with their own domains, written as people write them: a bare domain, a URL
    with "www." and a path, an address; a share of rows repeat an earlier company."""
    rng = random.Random(SEED)
    written: list[str] = []
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["name", "domain", "website", "industry", "employeeCount", "city", "country"])
        for index in range(rows):
            if written and rng.random() < DUPLICATE_SHARE:
                host = rng.choice(written)
                website = f"HTTPS://WWW.{host.upper()}/"
            else:
                if rng.random() < ODD_SHARE:
                    host = rng.choice(ODD_HOSTS).format(index)
                else:
                    host = f"{rng.choice(WORDS)}{index}.{rng.choice(SUFFIXES)}"
                written.append(host)
                website = rng.choice([host, f"https://www.{host}/about", f"http://{host}"])
            domain = rng.choice(["", host, f"info@{host}"])
            name = f"{rng.choice(WORDS).title()} {rng.choice(['Inc', 'GmbH', 'Ltd', ''])}"
            out.writerow(
                [name.strip(), domain, website, rng.choice(INDUSTRIES), rng.choice(SIZES),
                 rng.choice(["Berlin", "London", "Austin", ""]), rng.choice(["DE", "GB", "US"])]
            )  # fmt: skip


def floor(path: Path) -> float:
    """Polars alone: read, lower-case the website, cut its host out, drop duplicates."""
    import polars as pl

    start = time.perf_counter()
    frame = pl.read_csv(path, infer_schema=False)
    host = pl.col("website").str.to_lowercase().str.extract(r"^(?:[a-z]+://)?(?:www\.)?([^/]+)")
    frame.with_columns(host.alias("host")).unique(subset="host", keep="first")
    return time.perf_counter() - start


def pipeline(path: Path) -> dict[str, float]:
    """crmsync's transform of the file as a step of companies runs it."""
    from crmsync.extract import read_source
    from crmsync.schema import OBJECTS
    from transform import checked_stages  # bench/transform.py: `python bench/companies.py`

    times: dict[str, float] = {}
    start = time.perf_counter()
    frame = read_source("csv", path).frame
    times["read"] = time.perf_counter() - start
    result, _, _ = checked_stages(frame, OBJECTS["companies"], times)
    times["total"] = time.perf_counter() - start
    times["kept"], times["merged"] = result.kept.height, result.merged.height
    return times


def hosts_decided(path: Path) -> tuple[int, int] | None:
    """(distinct website hosts the suffix sets decided, those the library read); None for a
    crmsync that asks the library about every host."""
    import polars as pl

    try:
        from crmsync.transform.normalizers.domain import _matched, host_of
    except ImportError:
        return None

    hosts = pl.read_csv(path, infer_schema=False).select(host_of(pl.col("website")))
    matched = _matched(hosts.to_series().drop_nulls().unique())
    asked = int(matched["asked"].sum())
    return matched.height - asked, asked


def baseline(path: Path, limit: int) -> float:
    """Row by row: tldextract per website, a dict of domains to merge duplicates."""
    import tldextract

    extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    start = time.perf_counter()
    seen: dict[str, dict[str, str]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for index, row in enumerate(csv.DictReader(handle)):
            if index >= limit:
                break
            domain = extract(row["website"].strip().lower()).top_domain_under_public_suffix
            seen.setdefault(domain, row)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--baseline-rows", type=int, default=DEFAULT_BASELINE_ROWS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "companies.csv"
        generate(path, args.rows)
        floor_s = floor(path)
        times = pipeline(path)
        hosts = hosts_decided(path)
        slow = baseline(path, min(args.baseline_rows, args.rows))
    scaled = slow * args.rows / max(1, min(args.baseline_rows, args.rows))
    print(f"{args.rows:,} companies, nearly every one with its own domain")
    print(f"floor (pl.read_csv, lower-case, host regex, unique): {floor_s:.2f} s")
    stages = ", ".join(f"{name} {times[name]:.2f} s" for name in ("read", "normalize"))
    print(f"crmsync: {times['total']:.2f} s = {times['total'] / floor_s:.1f}x the floor ({stages}, "
          f"validate {times['validate']:.2f} s, dedupe {times['dedupe']:.2f} s); "
          f"{times['kept']:,.0f} kept, {times['merged']:,.0f} merged")  # fmt: skip
    if hosts is not None:
        decided, asked = hosts
        print(f"website hosts: {decided:,} decided by the suffix sets, {asked:,} by tldextract")
    print(f"row-by-row baseline: ~{scaled:.1f} s ({slow:.2f} s for the first rows, scaled)")


if __name__ == "__main__":
    main()
