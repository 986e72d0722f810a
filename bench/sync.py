"""Benchmark: change detection on a million contacts, the way `crmsync run` plans (no HTTP).

    .venv/bin/python bench/sync.py [--rows 1000000] [--changed 10] [--keep DIR]

Three runs of one contacts step over the same realistic CSV (bench/transform.py's generator:
duplicates in other case, invalid emails and scores, messy phones), each in its own child
process so its peak memory (ru_maxrss) is its own, each timing read, transform (map, normalize,
validate, dedupe), state (what Rally accepted) and plan (payload hashes, join, actions) separately:

    first      plan against an empty state DB: the planning overhead of a first run; then the
               planned hashes are stored the way a load settles acknowledged batches
    unchanged  the same file again: the records to send must be 0 (goal: under 10 s in all)
    changed    `--changed` kept rows get another title: exactly that many to send

The phases are the step's own stages (crmsync.run.stages: extract, transform, plan), so the
figures are those of a real run minus the HTTP. Prints figures; asserts nothing. The machine has 2
shared cores: figures move with the load of other processes.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DEFAULT_ROWS = 1_000_000
DEFAULT_CHANGED = 10
CANDIDATE_ROWS = 1_000
KIB = 1024
PIPELINE_NAME = "bench-sync"
STEP_NAME = "contacts"
FAKE_DESTINATION = {"RALLY_BASE_URL": "http://127.0.0.1:9", "RALLY_API_KEY": "bench-sync-key"}
CHANGED_FIELD = "title"
PIPELINE_YAML = """\
name: {name}
object: contacts
source: {{kind: csv, path: contacts.csv}}
mapping: {{{mapping}}}
normalize: {{default_region: US}}
sync: {{unreadable: rewrite}}
destination: {{base_url: "${{RALLY_BASE_URL}}", api_key: "${{RALLY_API_KEY}}"}}
state: {{path: state.db}}
load: {{mode: auto}}
report: {{dir: reports}}
"""
PHASES = ("read", "transform", "state", "plan", "total")


def _generator() -> Any:
    """bench/transform.py as a module, for its `generate` and `COLUMNS` (bench is no package)."""
    spec = importlib.util.spec_from_file_location(
        "bench_transform", Path(__file__).with_name("transform.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def prepare(folder: Path, rows: int) -> None:
    """The CSV (generated once per folder) and a pipeline mapping every column to itself."""
    generator = _generator()
    source = folder / "contacts.csv"
    if not source.exists():
        start = time.perf_counter()
        generator.generate(source, rows)
        print(f"generated {rows:,} rows in {time.perf_counter() - start:.1f} s: {source}")
    mapping = ", ".join(f"{column}: {column}" for column in generator.COLUMNS)
    (folder / "pipeline.yaml").write_text(
        PIPELINE_YAML.format(name=PIPELINE_NAME, mapping=mapping), encoding="utf-8"
    )


# -- one run, in a child process -------------------------------------------------------------


def run_phase(folder: Path, phase: str) -> dict[str, Any]:
    """Read -> transform -> plan with the step's own stages; `first` then stores the planned
    hashes the way a load settles them."""
    import polars as pl

    from crmsync.config import load_pipeline
    from crmsync.extract.sources import open_source
    from crmsync.run.artifacts import ACTION, HASH, KEY
    from crmsync.run.destination import Destination
    from crmsync.run.stages.extract import select
    from crmsync.run.stages.plan import plan
    from crmsync.run.stages.transform import source_columns, transform
    from crmsync.state import StateDB, StepState

    pipeline = load_pipeline(folder / "pipeline.yaml", env=FAKE_DESTINATION)
    step = pipeline.steps[0]
    figures: dict[str, Any] = {"phase": phase}
    with StateDB.open(folder / "state.db") as db:
        run_id = db.runs.start(PIPELINE_NAME)
        scope = Destination.of(pipeline.destination).scope
        state = StepState(db, destination=scope, step=step.name, run_id=run_id, dry_run=False)
        source = open_source(step.source, pipeline.base_dir)
        start = time.perf_counter()
        extracted = select(source.read(), limit=None, where=step.where, source=source.name)
        figures["read"] = time.perf_counter() - start
        mark = time.perf_counter()
        columns = source_columns(step, extracted, source.name)
        kept = transform(extracted, step, columns, pipeline.base_dir).frame
        figures["transform"] = time.perf_counter() - mark
        mark = time.perf_counter()
        previous = state.accepted()
        figures["state"] = time.perf_counter() - mark
        mark = time.perf_counter()
        planned = plan(kept, step.rally_object, previous).frame
        actions = dict(planned.group_by(ACTION).len().iter_rows())
        figures["plan"] = time.perf_counter() - mark
        figures["total"] = time.perf_counter() - start
        figures["rows"] = extracted.frame.height
        figures["kept"] = kept.height
        figures["stored"] = previous.height
        figures["to_send"] = kept.height - actions.get("unchanged", 0)
        figures["actions"] = actions
        figures["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / KIB
        if phase == "first":
            mark = time.perf_counter()
            triples = planned.select(
                KEY, HASH, pl.format("rally-{}", pl.col("_row")).alias("rally_id")
            )
            state.settle(step.object, triples.iter_rows(), {})
            figures["put_hashes"] = time.perf_counter() - mark
            # candidates for the rows the changed run edits: kept rows spread over the file
            stride = max(kept.height // CANDIDATE_ROWS, 1)
            figures["kept_rows"] = kept["_row"].gather_every(stride).to_list()
        db.runs.finish(run_id, status="succeeded", summary={}, report_dir=None)
    return figures


def change_rows(source: Path, rows: list[int]) -> None:
    """Give each of `rows` (source line numbers) another title; nothing else moves."""
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    header = next(csv.reader([lines[0]]))
    column = header.index(CHANGED_FIELD)
    for row in rows:
        values = next(csv.reader([lines[row - 1]]))
        values[column] = f"Changed title {row}"
        out = io.StringIO()
        csv.writer(out).writerow(values)
        lines[row - 1] = out.getvalue()
    source.write_text("".join(lines), encoding="utf-8")


def child(folder: Path, phase: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", phase, "--keep", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"the {phase} run failed:\n{done.stderr}")
    figures: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return figures


# -- report ----------------------------------------------------------------------------------


def report(runs: list[dict[str, Any]]) -> None:
    header = f"{'run':<10}" + "".join(f"{p + ' s':>13}" for p in PHASES)
    print(header + f"{'to send':>10}{'peak MiB':>10}")
    for figures in runs:
        times = "".join(f"{figures[p]:>13.2f}" for p in PHASES)
        print(f"{figures['phase']:<10}{times}{figures['to_send']:>10,}{figures['peak_mib']:>10.0f}")
    first = runs[0]
    print(
        f"\n{first['rows']:,} rows read, {first['kept']:,} kept after validate and dedupe;"
        f" put_hashes of the first run's {first['kept']:,} hashes: {first['put_hashes']:.2f} s"
    )
    for figures in runs:
        print(f"{figures['phase']:<10} plan: {figures['actions']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--changed", type=int, default=DEFAULT_CHANGED)
    parser.add_argument("--keep", type=Path, help="work folder kept between runs (CSV reused)")
    parser.add_argument(
        "--child", choices=["first", "unchanged", "changed"], help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_phase(args.keep, args.child)))
        return
    with tempfile.TemporaryDirectory() as scratch:
        folder: Path = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        prepare(folder, args.rows)
        for suffix in ("", "-wal", "-shm"):
            (folder / f"state.db{suffix}").unlink(missing_ok=True)
        runs = [child(folder, "first"), child(folder, "unchanged")]
        source = folder / "contacts.csv"
        original = source.read_bytes()
        try:
            candidates = runs[0]["kept_rows"]
            spacing = max(len(candidates) // max(args.changed, 1), 1)
            change_rows(source, candidates[::spacing][: args.changed])
            runs.append(child(folder, "changed"))
        finally:
            source.write_bytes(original)
    report(runs)


if __name__ == "__main__":
    main()
