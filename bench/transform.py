"""Benchmark: read -> normalize -> validate -> dedupe on a million contacts, beside the floor
of what polars can do (read, lower-case, a regex check and a dedupe of the email column alone)
and a row-by-row baseline doing the same steps per row (csv module; trim, lower-case, tags,
lead score and phonenumbers per value; ContactCreate.model_validate; a dict to merge
duplicates).

    .venv/bin/python bench/transform.py [--rows 1000000] [--baseline-rows 100000]
        [--unicode-share 0.25]   # an international export: a quarter of the emails accented

Each pipeline runs in its own child process so its peak memory (ru_maxrss) is its own.
Prints figures; asserts nothing. The machine has 2 shared cores: figures move with the load.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import resource
import statistics
import string
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path
from typing import Any

DEFAULT_ROWS = 1_000_000
DEFAULT_BASELINE_ROWS = 100_000
DEFAULT_REPEAT = 3
DUPLICATE_SHARE = 0.05  # rows repeating an earlier email in another case
INVALID_SHARE = 0.02  # rows with a broken email or lead score
UNICODE_EMAIL_SHARE = 0.005  # "josé.müller@..." addresses: email-validator decides those
SEED = 20250715
KIB = 1024

COLUMNS = [
    "firstName", "lastName", "email", "phone", "mobile", "title", "department", "city",
    "state", "country", "companyId", "lifecycleStage", "leadSource", "leadScore", "tags",
]  # fmt: skip
FIRST = [
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "Zoë", "José", "Chloé", "Søren", "Aiko", "Wei", "Fatima", "Olga", "Raj", "Ngozi",
]  # fmt: skip
LAST = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Martínez",
    "Nguyen", "O'Brien", "van der Berg", "Müller", "Kowalski", "Tanaka", "Okafor", "Rossi",
]  # fmt: skip
ACCENTED = ["jürgen", "josé", "zoë", "chloé", "søren", "françois", "björn", "maría", "łukasz"]
DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "acme.com", "globex.co.uk", "initech.io"]
TITLES = ["VP of Engineering", "  Sales   Manager ", "CTO", "Account Executive", "", "Founder"]
DEPARTMENTS = ["Engineering", "Sales", "Marketing", "Finance", ""]
CITIES = [("San Francisco", "CA", "US"), ("Austin", "TX", "US"), ("London", "", "GB")]
STAGES = ["lead", "customer", "opportunity", ""]
SOURCES = ["website", "referral", "event", ""]
TAGS = ["enterprise", "tech", "vip", "smb", "partner", "newsletter"]
SEPARATORS = [",", ";", "|", ", ", " ; "]


def _nanp(rng: random.Random) -> str:
    area, exchange, line = rng.randint(201, 989), rng.randint(200, 999), rng.randint(0, 9999)
    shapes = [
        f"({area}) {exchange}-{line:04d}",
        f"{area}-{exchange}-{line:04d}",
        f"{area}.{exchange}.{line:04d}",
        f"+1 {area} {exchange} {line:04d}",
        f"1-{area}-{exchange}-{line:04d}",
        f"{area}{exchange}{line:04d}",
    ]
    return rng.choice(shapes)


def _international(rng: random.Random) -> str:
    digits = "".join(rng.choice(string.digits) for _ in range(8))
    shapes = [
        f"+44 20 {digits[:4]} {digits[4:]}",
        f"+49 30 {digits[:6]}",
        f"0049 89 {digits[:7]}",
        f"+33 1 {digits[:2]} {digits[2:4]} {digits[4:6]} {digits[6:]}",
        f"+61 2 {digits[:4]} {digits[4:]}",
        f"+44 (0)20 {digits[:4]} {digits[4:]}",
    ]
    return rng.choice(shapes)


def _phone(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.80:
        return _nanp(rng)
    if roll < 0.95:
        return _international(rng)
    if roll < 0.97:
        return f"{rng.randint(200, 999)}-{rng.randint(0, 9999):04d}"  # local, no area code
    if roll < 0.99:
        return _nanp(rng) + f" x{rng.randint(1, 999)}"
    return rng.choice(["n/a", "call me", "", "tbd"])


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _email(rng: random.Random, first: str, last: str, index: int, unicode_share: float) -> str:
    """Mostly ASCII, as mailboxes are ("josé" signs up as "jose"); a share of them accented
    (an accented given name where the person's has none: "jürgen.obrien12@...")."""
    local = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
    if rng.random() >= unicode_share:
        local = _ascii(local)
    elif local.isascii():
        local = f"{ACCENTED[index % len(ACCENTED)]}.{local.split('.', 1)[1]}"
    return f"{local}{index}@{rng.choice(DOMAINS)}"


def _broken_email(rng: random.Random, email: str) -> str:
    local, domain = email.split("@")
    return rng.choice(
        [email.replace("@", "."), f"{local}..x@{domain}", f"{email}.", f"{local}@", "n/a"]
    )


def _other_case(rng: random.Random, email: str) -> str:
    return rng.choice([email.upper(), email.title(), f"  {email.capitalize()} "])


def generate(
    path: Path, rows: int, seed: int = SEED, unicode_share: float = UNICODE_EMAIL_SHARE
) -> None:
    """Realistic contacts with duplicates (other case) and some invalid values; a share of
    the emails keeps the accents of the name (only names that have some can)."""
    rng = random.Random(seed)
    emails: list[str] = []
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for index in range(rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            if emails and rng.random() < DUPLICATE_SHARE:
                email = _other_case(rng, rng.choice(emails))
            else:
                email = _email(rng, first, last, index, unicode_share)
                emails.append(email)
            score = str(rng.randint(0, 100))
            if rng.random() < INVALID_SHARE:
                if rng.random() < 0.5:
                    email = _broken_email(rng, email)
                else:
                    score = rng.choice(["abc", "150", "-5", "12.5"])
            city, state, country = rng.choice(CITIES)
            tags = rng.choice(SEPARATORS).join(rng.sample(TAGS, rng.randint(0, 3)))
            company = f"{rng.getrandbits(128):032x}" if rng.random() < 0.3 else ""
            company_id = (
                f"{company[:8]}-{company[8:12]}-{company[12:16]}-{company[16:20]}-{company[20:]}"
                if company
                else ""
            )
            writer.writerow(
                [
                    f" {first} " if index % 7 == 0 else first,
                    last,
                    email,
                    _phone(rng),
                    _nanp(rng) if rng.random() < 0.3 else "",
                    rng.choice(TITLES),
                    rng.choice(DEPARTMENTS),
                    city,
                    state,
                    country,
                    company_id,
                    rng.choice(STAGES),
                    rng.choice(SOURCES),
                    score,
                    tags,
                ]
            )


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / KIB  # Linux: KiB


def checked_stages(frame: Any, obj: Any, times: dict[str, Any]) -> tuple[Any, Any, Any]:
    """normalize -> validate -> dedupe of a read `frame` as a step of `obj` runs them, each
    stage's seconds into `times`: (the dedupe's result, normalize's issues, the failed rows).
    Shared by the transform and companies benchmarks."""
    import polars as pl

    from crmsync.transform import NormalizeOptions, dedupe, normalize, validate

    mark = time.perf_counter()
    normalized, normalize_issues = normalize(frame, obj, NormalizeOptions(default_region="US"))
    times["normalize"] = time.perf_counter() - mark
    mark = time.perf_counter()
    issues = validate(normalized, obj)
    times["validate"] = time.perf_counter() - mark
    mark = time.perf_counter()
    errors = pl.concat([normalize_issues, issues]).filter(pl.col("severity") == "error")
    failed = errors.select("_source", "_row").unique()
    result = dedupe(normalized, exclude=failed)  # failed rows left out without a frame copy
    times["dedupe"] = time.perf_counter() - mark
    return result, normalize_issues, failed


def run_vectorized(path: Path) -> dict[str, Any]:
    import polars as pl

    from crmsync.schema import OBJECTS
    from crmsync.transform import NormalizeOptions

    contacts = OBJECTS["contacts"]
    times: dict[str, Any] = {}
    start = time.perf_counter()
    try:
        from crmsync.extract import read_source

        frame = read_source("csv", path).frame
        times["reader"] = 1.0  # crmsync.extract.read_source
    except ImportError:
        frame = pl.read_csv(path, infer_schema=False).with_columns(
            pl.lit(str(path)).alias("_source"), pl.int_range(2, pl.len() + 2).alias("_row")
        )
        times["reader"] = 0.0  # pl.read_csv fallback
    times["read"] = time.perf_counter() - start
    result, normalize_issues, failed = checked_stages(frame, contacts, times)
    times["total"] = time.perf_counter() - start
    times["rows"] = frame.height
    times["failed_rows"] = failed.height
    times["warnings"] = normalize_issues.filter(pl.col("severity") == "warning").height
    times["kept"] = result.kept.height
    times["merged"] = result.merged.height
    times["peak_mib"] = _peak_mib()
    from library_use import library_use  # bench/library_use.py, after the timed run

    times["library"] = library_use(frame, contacts, NormalizeOptions(default_region="US"))
    return times


def run_floor(path: Path) -> dict[str, float]:
    """What polars itself takes for the least a transform does: read the file, lower-case and
    trim the email column, check it with a regex, drop duplicates."""
    import polars as pl

    start = time.perf_counter()
    frame = pl.read_csv(path, infer_schema=False)
    email = pl.col("email").str.strip_chars().str.to_lowercase()
    checked = frame.with_columns(email.alias("email")).filter(
        pl.col("email").str.contains(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")
    )
    kept = checked.unique(subset="email", keep="first", maintain_order=True)
    total = time.perf_counter() - start
    return {"total": total, "rows": frame.height, "kept": kept.height, "peak_mib": _peak_mib()}


def _baseline_record(row: dict[str, str], phonenumbers: Any) -> tuple[dict[str, object], int]:
    """One row normalized the way a hand-written script would: (record, values refused)."""
    record: dict[str, object] = {}
    refused = 0
    for field, raw in row.items():
        text = " ".join(raw.split()) if raw else ""
        if not text:
            continue
        if field == "email":
            record[field] = text.lower().removeprefix("mailto:")
        elif field == "tags":
            tags: dict[str, str] = {}
            for tag in re.split(r"[,;|]", text):
                tag = tag.strip()
                if tag:
                    tags.setdefault(tag.lower(), tag)
            if tags:
                record[field] = ",".join(tags.values())
        elif field == "leadScore":
            try:
                record[field] = int(text.replace(",", ""))
            except ValueError:
                refused += 1
        elif field in ("phone", "mobile"):
            try:
                number = phonenumbers.parse(text, "US")
                record[field] = phonenumbers.format_number(
                    number, phonenumbers.PhoneNumberFormat.E164
                )
            except phonenumbers.NumberParseException:
                record[field] = text
        else:
            record[field] = text
    return record, refused


def run_baseline(path: Path, limit: int) -> dict[str, float]:
    """What a row-at-a-time script does: the same steps, one dict per row."""
    import phonenumbers
    from pydantic import ValidationError

    from crmsync.schema import ContactCreate

    start = time.perf_counter()
    seen: dict[str, dict[str, object]] = {}
    failed = merged = rows = 0
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if rows >= limit:
                break
            rows += 1
            record, refused = _baseline_record(row, phonenumbers)
            try:
                contact = ContactCreate.model_validate(record)
            except ValidationError:
                failed += 1
                continue
            if refused:
                failed += 1
            elif contact.email in seen:
                merged += 1
                kept = seen[contact.email]
                for field, value in record.items():
                    kept.setdefault(field, value)
            else:
                seen[contact.email] = record
    total = time.perf_counter() - start
    return {
        "rows": rows,
        "total": total,
        "failed_rows": failed,
        "merged": merged,
        "peak_mib": _peak_mib(),
    }


def run_child(mode: str, path: Path, limit: int = 0) -> dict[str, Any]:
    """One pipeline ("floor", "vectorized" or "baseline") on `path` in a fresh process: its
    figures (total seconds, peak MiB, ...)."""
    command = [sys.executable, __file__, "--child", mode, "--file", str(path)]
    command += ["--baseline-rows", str(limit)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def _best(mode: str, path: Path, limit: int, repeat: int) -> tuple[dict[str, Any], list[float]]:
    """The fastest of `repeat` runs (each a fresh process), and every run's total."""
    runs = [run_child(mode, path, limit) for _ in range(repeat)]
    return min(runs, key=lambda run: run["total"]), [run["total"] for run in runs]


def _paired(path: Path, limit: int, repeat: int) -> tuple[list[dict[str, Any]], ...]:
    """`repeat` runs of the floor and of the vectorized pipeline, taken in turns (each a
    fresh process): on a shared machine the two of a pair meet the same load, so their
    ratio moves less than the best of each taken minutes apart."""
    floors, fasts = [], []
    for _ in range(repeat):
        floors.append(run_child("floor", path, limit))
        fasts.append(run_child("vectorized", path, limit))
    return floors, fasts


def _report(
    args: argparse.Namespace,
    fast: dict[str, Any],
    slow: dict[str, Any] | None,
    floor: dict[str, Any],
) -> None:
    from library_use import describe  # bench/library_use.py

    reader = "crmsync.extract.read_source" if fast["reader"] else "pl.read_csv"
    rate = fast["rows"] / fast["total"]
    print("\nfloor (pl.read_csv, lower-case, regex check, dedupe of the email column):")
    print(f"  total      {floor['total']:7.2f} s, peak RSS {floor['peak_mib']:,.0f} MiB")
    print(f"\nvectorized ({reader} -> normalize -> validate -> dedupe), {fast['rows']:,.0f} rows:")
    for stage in ("read", "normalize", "validate", "dedupe", "total"):
        print(f"  {stage:<10} {fast[stage]:7.2f} s")
    print(f"  rows/s     {rate:,.0f}")
    print(f"  peak RSS   {fast['peak_mib']:,.0f} MiB (whole child process, reader included)")
    print(
        f"  outcome    {fast['kept']:,.0f} kept, {fast['merged']:,.0f} merged, "
        f"{fast['failed_rows']:,.0f} failed, {fast['warnings']:,.0f} warnings"
    )
    print(
        f"  vs floor   {fast['total'] / floor['total']:.1f}x the time, "
        f"{fast['peak_mib'] / floor['peak_mib']:.2f}x the memory"
    )
    print("  libraries  (a second, untimed pass, their per-value caches emptied first)")
    print("\n".join(describe(fast["library"])))
    if slow is None:
        return
    base_rate = slow["rows"] / slow["total"]
    scaled = args.rows / base_rate
    print(f"\nrow-by-row baseline on the first {slow['rows']:,.0f} rows, scaled:")
    print(f"  total      {slow['total']:7.2f} s  -> ~{scaled:,.0f} s for {args.rows:,} rows")
    print(f"  rows/s     {base_rate:,.0f}")
    print(f"  peak RSS   {slow['peak_mib']:,.0f} MiB")
    print(f"\nspeed-up     {rate / base_rate:,.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument(
        "--baseline-rows", type=int, default=DEFAULT_BASELINE_ROWS, help="0: no baseline"
    )
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT, help="runs; best is shown")
    parser.add_argument("--unicode-share", type=float, default=UNICODE_EMAIL_SHARE)
    parser.add_argument("--child", choices=["vectorized", "baseline", "floor"])
    parser.add_argument("--file", type=Path)
    args = parser.parse_args()
    if args.child == "vectorized":
        print(json.dumps(run_vectorized(args.file)))
        return
    if args.child == "floor":
        print(json.dumps(run_floor(args.file)))
        return
    if args.child == "baseline":
        print(json.dumps(run_baseline(args.file, args.baseline_rows)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "contacts.csv"
        mark = time.perf_counter()
        generate(path, args.rows, unicode_share=args.unicode_share)
        size_mib = path.stat().st_size / KIB / KIB
        took = time.perf_counter() - mark
        print(f"generated {args.rows:,} rows ({size_mib:.0f} MiB) in {took:.1f} s")
        floors, fasts = _paired(path, args.baseline_rows, args.repeat)
        floor = min(floors, key=lambda run: run["total"])
        fast = min(fasts, key=lambda run: run["total"])
        floor_runs = [run["total"] for run in floors]
        fast_runs = [run["total"] for run in fasts]
        pairs = sorted(b["total"] / a["total"] for a, b in zip(floors, fasts, strict=True))
        slow: dict[str, Any] | None = None  # --baseline-rows 0: no row-by-row baseline
        slow_runs: list[float] = []
        if args.baseline_rows > 0:
            slow, slow_runs = _best("baseline", path, args.baseline_rows, args.repeat)
    print(
        f"runs (total s): floor {floor_runs}, vectorized {fast_runs}, baseline {slow_runs}; "
        "best of each below"
    )
    _report(args, fast, slow, floor)
    print(
        "pairs      each run over the floor's run just before it: "
        + ", ".join(f"{ratio:.1f}x" for ratio in pairs)
        + f" (median {statistics.median(pairs):.1f}x)"
    )


if __name__ == "__main__":
    main()
