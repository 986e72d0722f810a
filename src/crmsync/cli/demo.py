"""`make demo`: the whole product against embedded sandboxes on 127.0.0.1.

1. pipelines/contacts_csv.yaml: 500 contacts from a messy CSV export,
2. pipelines/migration.yaml: companies -> contacts -> activities, linked,
3. pipelines/redmine_to_rally.yaml: a Redmine CRM (its sandbox) migrated into Rally.

The Rally sandbox keeps its records in .crmsync/demo-sandbox.db on a fixed port, so a second
`make demo` shows change detection at work: nothing changed, nothing is sent.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import click

from crmsync.cli.console import ConsoleObserver, steps_table, summary_table
from crmsync.config import load_pipeline
from crmsync.errors import EXIT_OK, EXIT_ROWS_FAILED, CrmsyncError
from crmsync.run import RunOptions, run_pipeline
from crmsync.sandbox.testing import running_redmine, running_sandbox

DEMO_KEY = "demo-key"
RALLY_PORT = 8765
REDMINE_PORT = 8766
ROOT = Path(__file__).resolve().parents[3]
PIPELINES = ("contacts_csv.yaml", "migration.yaml", "redmine_to_rally.yaml")
DEMO_DB = ROOT / ".crmsync" / "demo-sandbox.db"


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def _run(name: str) -> int:
    click.echo(click.style(f"\n== crmsync run pipelines/{name}", bold=True))
    pipeline = load_pipeline(ROOT / "pipelines" / name)
    result = run_pipeline(pipeline, RunOptions(), ConsoleObserver(tty=sys.stdout.isatty()))
    click.echo()
    if pipeline.single_step:
        click.echo(summary_table(result.summary))
    else:
        click.echo(steps_table([step.summary for step in result.steps]))
    for step in result.steps:
        click.echo(f"report: {step.files['errors'].parent}")
    return result.exit_code


def main() -> int:
    DEMO_DB.parent.mkdir(parents=True, exist_ok=True)
    rally_port = RALLY_PORT if _port_free(RALLY_PORT) else None
    redmine_port = REDMINE_PORT if _port_free(REDMINE_PORT) else None
    with (
        running_sandbox(
            api_keys=(DEMO_KEY,),
            latency_ms=50,
            rate_limit=20,
            db_path=str(DEMO_DB),
            port=rally_port,
        ) as rally,
        running_redmine(port=redmine_port) as redmine,
    ):
        os.environ.update(
            RALLY_BASE_URL=rally.base_url,
            RALLY_API_KEY=DEMO_KEY,
            REDMINE_URL=redmine.base_url,
            REDMINE_API_KEY=redmine.api_key,
        )
        click.echo(f"Rally sandbox:   {rally.base_url} (50 ms latency, 20 requests/s, {DEMO_DB})")
        click.echo(f"Redmine sandbox: {redmine.base_url} (sample_data/redmine/contacts.json)")
        writes_before = rally.write_requests()
        codes = []
        try:
            for name in PIPELINES:
                codes.append(_run(name))
        except CrmsyncError as exc:
            click.echo(f"Error: {exc}", err=True)
            return exc.exit_code
        records = {
            obj: len(rally.records(obj, DEMO_KEY))
            for obj in ("companies", "contacts", "activities")
        }
        writes = rally.write_requests() - writes_before
    click.echo(click.style("\n== in the Rally sandbox now", bold=True))
    click.echo(", ".join(f"{n} {obj}" for obj, n in records.items()))
    click.echo(
        f"write requests this demo: {writes} (run `make demo` again: unchanged rows send none)"
    )
    click.echo("The samples hold bad rows on purpose: each report's errors.csv lists them.")
    # rows failing by design are the demo's point, not a failure of the demo
    return EXIT_OK if all(code in (EXIT_OK, EXIT_ROWS_FAILED) for code in codes) else max(codes)


if __name__ == "__main__":
    sys.exit(main())
