"""The tenants a command is for (options.py reads them), and a run for several tenants on a
terminal: each tenant's run as a single run shows it, then a table of them all.

Which tenants exist and what each one is lives in the library (config/tenants.py).
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

import click

from crmsync.cli.console import ConsoleObserver, aligned, echoing_logs, run_closing
from crmsync.cli.json_log import JsonLogObserver, capturing_logs
from crmsync.config import Pipeline
from crmsync.config.tenants import env_tenant, select_tenants
from crmsync.errors import EXIT_INTERNAL, ConfigError
from crmsync.run import RunOptions, RunResult, TenantRun, run_tenants, worst_exit_code

TABLE_COLUMNS = ("read", "created", "updated", "unchanged", "failed")


def chosen_tenants(
    pipeline: Pipeline, names: Sequence[str], prefixes: Sequence[str], *, all_tenants: bool
) -> list[str]:
    """The tenants `crmsync run` runs for: the named ones and those from the environment."""
    if all_tenants and names:
        raise ConfigError("--all-tenants runs every tenant: leave out --tenant")
    from_env = [env_tenant(prefix)[0] for prefix in prefixes]
    return select_tenants(pipeline, [*names, *from_env], all_tenants=all_tenants)


def for_one_tenant(pipeline: Pipeline, tenant: str | None, prefix: str | None) -> Pipeline:
    """The pipeline as the tenant chosen runs it, or the file's own when it has no tenants."""
    names = {name for name in (tenant, prefix and env_tenant(prefix)[0]) if name}
    if len(names) > 1:
        raise ConfigError("--tenant and --destination-env name different tenants")
    if names:
        return pipeline.for_tenant(names.pop())
    if pipeline.tenants:
        raise ConfigError(
            f"pipeline {pipeline.name!r} runs for tenants: name one with --tenant NAME"
        )
    return pipeline


class TenantsConsole(ConsoleObserver):
    """A run for several tenants on a terminal: each tenant's run as a single run shows it,
    under a line naming the tenant; a tenant that could not run says why on stderr."""

    def __init__(self, pipeline: Pipeline, *, tty: bool) -> None:
        super().__init__(tty=tty)
        self.single = pipeline.single_step

    def tenant_started(self, tenant: str, pipeline: str, index: int, total: int) -> None:
        if index:
            self._echo("")
        self._echo(f"== tenant {tenant} ({index + 1}/{total})")

    def tenant_finished(self, run: TenantRun) -> None:
        if run.result is not None:
            run_closing(run.result, single=self.single, tty=self.tty)
        elif run.exit_code == EXIT_INTERNAL and run.error is not None:  # as main() says a bug
            name = type(run.error).__name__
            click.echo(
                f"crmsync hit an unexpected error (a bug, please report it): {name}: {run.message}",
                err=True,
            )
            if os.environ.get("CRMSYNC_DEBUG"):
                traceback.print_exception(run.error)
            else:
                click.echo("Run again with CRMSYNC_DEBUG=1 to see the traceback.", err=True)
        else:
            click.echo(f"Error: {run.message}", err=True)


def tenants_table(runs: Sequence[TenantRun]) -> str:
    """One line per tenant: how its run ended, its counts and its run id."""
    header = ["tenant", "status", "exit", *TABLE_COLUMNS, "run"]
    rows = [
        [
            run.tenant,
            run.status,
            str(run.exit_code) if run.started else "-",
            *_counts(run.result),
            str(run.result.run_id) if run.result else "-",
        ]
        for run in runs
    ]
    return "\n".join(aligned(header, rows, left={0, 1}))


def _counts(result: RunResult | None) -> list[str]:
    if result is None:
        return ["-"] * len(TABLE_COLUMNS)
    summaries = result.summaries
    dry = any(s.dry_run for s in summaries)
    created = sum(s.planned - s.would_update if dry else s.created for s in summaries)
    updated = sum(s.would_update if dry else s.updated for s in summaries)
    counts = [sum(s.rows_read for s in summaries), created, updated]
    counts += [sum(s.unchanged for s in summaries), sum(s.failed for s in summaries)]
    return [str(n) for n in counts]


def closing_lines(runs: Sequence[TenantRun]) -> None:
    """After every tenant: the table, then (on stderr) why each that could not run did not."""
    click.echo()
    click.echo(tenants_table(runs))
    for run in runs:
        if run.message is not None:
            click.echo(f"{run.tenant}: {run.message}", err=True)
    if any(not run.started for run in runs):
        click.echo("Interrupted: the tenants not run were not started.", err=True)
    sys.stdout.flush()


def run_shown(pipeline: Pipeline, tenants: Sequence[str], options: RunOptions, *, tty: bool) -> int:
    """`crmsync run` for several tenants on a terminal (or in plain lines); the exit code."""
    console = TenantsConsole(pipeline, tty=tty)
    with echoing_logs(observer=console):
        runs = run_tenants(pipeline, tenants, options, console)
    closing_lines(runs)
    return worst_exit_code(run.exit_code for run in runs)


def run_logged(
    pipeline: Pipeline, tenants: Sequence[str], options: RunOptions, logger: JsonLogObserver
) -> int:
    """`crmsync run --log-format json` for several tenants; the exit code."""
    with capturing_logs(logger):
        runs = run_tenants(pipeline, tenants, options, logger)
    return logger.tenants_finished(runs)
