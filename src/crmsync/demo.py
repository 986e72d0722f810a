"""`make demo`: start an embedded sandbox, run pipelines/contacts_csv.yaml into it, show the result.

The sandbox is the same server `crmsync sandbox` runs, started on a free loopback port and
stopped afterwards, so the demo touches nothing outside this machine.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from crmsync.config import load_pipeline
from crmsync.console import ConsoleObserver, summary_table
from crmsync.errors import CrmsyncError
from crmsync.pipeline import RunOptions, run_pipeline
from crmsync.sandbox.testing import running_sandbox

DEMO_KEY = "demo-key"
ROOT = Path(__file__).resolve().parents[2]
DEMO_PIPELINE = ROOT / "pipelines" / "contacts_csv.yaml"


def main() -> int:
    with running_sandbox(api_keys=(DEMO_KEY,), latency_ms=50, rate_limit=20) as sandbox:
        os.environ["RALLY_BASE_URL"] = sandbox.base_url
        os.environ["RALLY_API_KEY"] = DEMO_KEY
        click.echo(f"sandbox: Rally CRM on {sandbox.base_url} (50 ms latency, 20 requests/s)")
        try:
            pipeline = load_pipeline(DEMO_PIPELINE)
            result = run_pipeline(pipeline, RunOptions(), ConsoleObserver(tty=sys.stdout.isatty()))
        except CrmsyncError as exc:
            click.echo(f"Error: {exc}", err=True)
            return exc.exit_code
        stored = len(sandbox.records("contacts"))
    click.echo()
    click.echo(summary_table(result.summary))
    click.echo(f"contacts now in the sandbox: {stored}")
    click.echo(f"report: {result.files['errors'].parent}")
    for name in ("errors", "merged", "summary"):
        click.echo(f"  {name:<8} {result.files[name]}")
    return result.exit_code if result.exit_code != 1 else 0


if __name__ == "__main__":
    sys.exit(main())
