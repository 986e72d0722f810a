"""`crmsync runs` and `crmsync report`: a pipeline's past runs, from its state database.

Both read only the file's name, state and the names of its tenants, so the
destination's environment variables need not be set (a shell, a monitoring check).
"""

from __future__ import annotations

from typing import Any

import click

from crmsync.cli.options import history_tenant
from crmsync.errors import EXIT_CANNOT_START


@click.command()
@click.argument("pipeline_file", type=click.Path(dir_okay=False))
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Show the latest N runs.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a table.")
@history_tenant
def runs(pipeline_file: str, limit: int, as_json: bool, tenant: str | None) -> None:
    """List the pipeline's past runs, newest first, from its state database (a file with
    tenants: those of --tenant, or of every tenant it declares).

    Reads only the file's name, state and tenants, so the destination's environment
    variables need not be set.
    """
    import json

    from crmsync.cli.console import runs_table
    from crmsync.report.history import list_runs, pipeline_state, run_row

    where = pipeline_state(pipeline_file, tenant=tenant)
    rows = [run_row(record) for record in list_runs(where, limit=limit)]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    elif not rows:
        click.echo(f"no runs of {where.described} yet (state database: {where.state})")
    else:
        click.echo(runs_table(rows, tenants=bool(where.tenants)))


@click.command()
@click.argument("pipeline_file", type=click.Path(dir_okay=False))
@click.argument("run_id", type=int)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the run and its step summaries as JSON."
)
@click.option(
    "--html",
    "as_html",
    is_flag=True,
    help="Write the run's report.html again, from the state database, and print its path.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False),
    default=None,
    help="The folder report.html goes to with --html (default: the run's report folder).",
)
@history_tenant
def report(
    pipeline_file: str,
    run_id: int,
    as_json: bool,
    as_html: bool,
    output: str | None,
    tenant: str | None,
) -> None:
    """Print one past run's summary again: status, the closing tables, the report files;
    with --html, write its page (report.html) again.

    RUN_ID is the number `crmsync runs` lists. Reads only the file's name and state.
    """
    import json

    from crmsync.cli.console import run_report
    from crmsync.config.tenants import TENANT_SEPARATOR
    from crmsync.report.history import find_run, pipeline_state, run_row, step_summaries

    where = pipeline_state(pipeline_file, tenant=tenant)
    record = find_run(where, run_id)
    if record is None:
        raise _cannot_start(
            f"no run {run_id} in {where.state}; `crmsync runs {pipeline_file}` lists them"
        )
    if record.pipeline not in where.pipelines:
        whose = where.described if where.tenants else repr(where.pipeline)
        raise _cannot_start(
            f"run {run_id} is a run of pipeline {record.pipeline!r}, not of {whose}"
        )
    if as_html:
        click.echo(f"wrote {_write_page(where.state, run_id, output or record.report_dir)}")
        return
    row = run_row(record)
    if as_json:
        click.echo(json.dumps(row | {"steps": record.steps}, indent=2, ensure_ascii=False))
        return
    summaries = step_summaries(record)
    own_name = record.pipeline.rpartition(TENANT_SEPARATOR)[0]  # a tenant's: its file's name
    single = len(summaries) == 1 and summaries[0].name in {record.pipeline, own_name}
    click.echo(run_report(row, summaries, single=single))


def _write_page(state: Any, run_id: int, folder: str | None) -> Any:
    from pathlib import Path

    from crmsync.report.page import write_run_page

    if not folder:
        raise _cannot_start(f"run {run_id} recorded no report folder: give one with --output")
    try:
        with state.open() as db:
            return write_run_page(db, run_id, Path(folder))
    except OSError as exc:
        problem = exc.strerror or exc
        raise _cannot_start(f"cannot write report.html to {folder}: {problem}") from None


class _CannotStart(click.ClickException):
    """A usage problem that exits 2 (EXIT_CANNOT_START), like a bad pipeline file."""

    exit_code = EXIT_CANNOT_START


def _cannot_start(message: str) -> click.ClickException:
    return _CannotStart(message)
