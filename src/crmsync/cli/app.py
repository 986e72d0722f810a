"""The command line: parse, call the library, print. No logic lives here."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from typing import Any

import click

from crmsync import __version__
from crmsync.errors import EXIT_CANNOT_START, EXIT_INTERNAL, CrmsyncError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="crmsync")
def cli() -> None:
    """Move customer records from files and other systems into Rally CRM."""


# -- the sandboxes' shared option groups ---------------------------------------------------------

_Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def _options(*decorators: _Decorator) -> _Decorator:
    """Several click options as one decorator; the first given is the first in --help."""

    def apply(function: Callable[..., Any]) -> Callable[..., Any]:
        for decorator in reversed(decorators):
            function = decorator(function)
        return function

    return apply


def _listen_options(*, port: int, db_help: str) -> _Decorator:
    """--host, --port (default `port`) and --db: where a sandbox answers and keeps its data."""
    return _options(
        click.option(
            "--host", default="127.0.0.1", show_default=True, help="Interface to listen on."
        ),
        click.option(
            "--port", default=port, show_default=True, type=int, help="Port to listen on."
        ),
        click.option(
            "--db", "db_path", default=None, type=click.Path(dir_okay=False), help=db_help
        ),
    )


def _api_key_option(help: str) -> _Decorator:
    """--api-key, repeatable, into `api_keys`."""
    return click.option("--api-key", "api_keys", multiple=True, help=help)


def _fault_options(*, fail_rate_help: str, more: tuple[_Decorator, ...] = ()) -> _Decorator:
    """--latency-ms, --fail-rate, a sandbox's own faults (`more`), --seed and --quiet."""
    return _options(
        click.option("--latency-ms", default=0, type=int, help="Delay added to every API answer."),
        click.option("--fail-rate", default=0.0, type=float, help=fail_rate_help),
        *more,
        click.option(
            "--seed", default=None, type=int, help="Seed that makes the injected faults repeatable."
        ),
        click.option("--quiet", is_flag=True, help="Do not log each request."),
    )


@cli.command()
@_listen_options(
    port=8765,
    db_help="SQLite file that keeps the records between restarts. Default: in memory, "
    "gone when the server stops.",
)
@_api_key_option(
    "An accepted X-Api-Key; repeat for more. Each key is its own tenant. "
    "Default: the key in RALLY_API_KEY, else 'sandbox-key'."
)
@_fault_options(
    fail_rate_help="Share of requests answered 500/502/503 before doing anything.",
    more=(
        click.option(
            "--commit-then-fail-rate",
            default=0.0,
            type=float,
            help="Share of writes performed, then answered 500 or cut off: the ambiguous write.",
        ),
        click.option(
            "--rate-limit",
            default=0,
            type=int,
            help="Requests per second per key; past it, 429 with Retry-After. 0: no limit.",
        ),
    ),
)
def sandbox(**options: Any) -> None:
    """Run a local Rally CRM API to rehearse imports against."""
    from crmsync.sandbox.server import SandboxSettings, serve

    serve(SandboxSettings.from_cli(**options))


@cli.command("redmine-sandbox")
@_listen_options(
    port=8766,
    db_help="SQLite file that keeps the contacts between restarts (seeded only when empty). "
    "Default: in memory.",
)
@click.option(
    "--seed-file",
    default=None,
    type=click.Path(dir_okay=False, exists=True),
    help='Contacts to serve: JSON {"contacts": [...]} with notes inside each contact, or the '
    "XML list. Default: sample_data/redmine/contacts.json.",
)
@_api_key_option(
    "An accepted Redmine API key; repeat for more. "
    "Default: the key in REDMINE_API_KEY, else 'redmine-key'."
)
@_fault_options(fail_rate_help="Share of requests answered 500/502/503.")
def redmine_sandbox(**options: Any) -> None:
    """Run a local Redmine CRM contacts API to rehearse a migration from."""
    from crmsync.sandbox.redmine.server import RedmineSettings, serve

    serve(RedmineSettings.from_cli(**options))


@cli.command()
@click.argument("pipeline_file", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Do everything but write; save what would be sent.")
@click.option(
    "--report-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Where errors.csv, merged.csv and summary.json go (default: the pipeline's report.dir).",
)
@click.option("--limit", type=click.IntRange(min=0), default=None, help="Only the first N rows.")
@click.option(
    "--full",
    is_flag=True,
    help="Ignore what earlier runs stored: read API sources from the start and send every "
    "record, changed or not.",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: lines for people (a progress bar on a terminal); json: one JSON object per "
    "event on stdout, for log collectors, and nothing else on stdout.",
)
def run(
    pipeline_file: str,
    dry_run: bool,
    report_dir: str | None,
    limit: int | None,
    full: bool,
    log_format: str,
) -> None:
    """Run a pipeline file: extract, map, validate, dedupe, load, report."""
    from pathlib import Path

    from crmsync.config import load_pipeline
    from crmsync.run import RunOptions, run_pipeline

    options = RunOptions(
        dry_run=dry_run,
        full=full,
        limit=limit,
        report_dir=Path(report_dir) if report_dir else None,
    )
    if log_format == "json":
        from crmsync.cli.json_log import JsonLogObserver, capturing_logs

        logger = JsonLogObserver()
        try:
            pipeline = load_pipeline(pipeline_file)
            logger.pipeline = pipeline.name
            with capturing_logs(logger):
                result = run_pipeline(pipeline, options, logger)
        except Exception as exc:  # said as an event too; main() still prints it and exits
            logger.error(exc)
            raise
        if result.stopped:
            from crmsync.errors import StoppedError

            logger.error(StoppedError(f"stopped after sending records: {result.stopped}"))
        sys.exit(result.exit_code)

    from crmsync.cli.console import ConsoleObserver, steps_table, summary_table

    pipeline = load_pipeline(pipeline_file)
    observer = ConsoleObserver(tty=sys.stdout.isatty())
    result = run_pipeline(pipeline, options, observer)
    click.echo()
    if pipeline.single_step:
        click.echo(summary_table(result.summary))
        click.echo(f"report: {_report_folder(result.files)}")
    else:
        click.echo(steps_table([step.summary for step in result.steps]))
        for step in result.steps:
            click.echo(f"report {step.summary.name}: {_report_folder(step.files)}")
    if result.stopped:
        click.echo(f"Stopped after sending records: {result.stopped}", err=True)
    elif result.interrupted:
        click.echo("Interrupted: rows whose outcome is unknown are in errors.csv.", err=True)
    sys.exit(result.exit_code)


def _report_folder(files: dict[str, Any]) -> str:
    return str(files["errors"].parent) if "errors" in files else "not written"


@cli.command()
@click.argument("pipeline_file", type=click.Path(dir_okay=False))
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Show the latest N runs.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a table.")
def runs(pipeline_file: str, limit: int, as_json: bool) -> None:
    """List the pipeline's past runs, newest first, from its state database.

    Reads only the file's name and state.path, so the destination's environment variables
    need not be set.
    """
    import json

    from crmsync.cli.console import runs_table
    from crmsync.report.history import list_runs, pipeline_state, run_row

    where = pipeline_state(pipeline_file)
    rows = [run_row(record) for record in list_runs(where, limit=limit)]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    elif not rows:
        click.echo(f"no runs of {where.pipeline} yet (state database: {where.state_path})")
    else:
        click.echo(runs_table(rows))


@cli.command()
@click.argument("pipeline_file", type=click.Path(dir_okay=False))
@click.argument("run_id", type=int)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the run and its step summaries as JSON."
)
def report(pipeline_file: str, run_id: int, as_json: bool) -> None:
    """Print one past run's summary again: status, the closing tables, the report files.

    RUN_ID is the number `crmsync runs` lists. Reads only the file's name and state.path.
    """
    import json

    from crmsync.cli.console import run_report
    from crmsync.report.history import find_run, pipeline_state, run_row, step_summaries

    where = pipeline_state(pipeline_file)
    record = find_run(where, run_id)
    if record is None:
        raise _cannot_start(
            f"no run {run_id} in {where.state_path}; `crmsync runs {pipeline_file}` lists them"
        )
    if record.pipeline != where.pipeline:
        raise _cannot_start(
            f"run {run_id} is a run of pipeline {record.pipeline!r}, not of {where.pipeline!r}"
        )
    row = run_row(record)
    if as_json:
        click.echo(json.dumps(row | {"steps": record.steps}, indent=2, ensure_ascii=False))
        return
    summaries = step_summaries(record)
    single = len(summaries) == 1 and summaries[0].name == record.pipeline
    click.echo(run_report(row, summaries, single=single))


class _CannotStart(click.ClickException):
    """A usage problem that exits 2 (EXIT_CANNOT_START), like a bad pipeline file."""

    exit_code = EXIT_CANNOT_START


def _cannot_start(message: str) -> click.ClickException:
    return _CannotStart(message)


@cli.command()
@click.argument("source_file", type=click.Path(dir_okay=False, exists=True))
@click.option(
    "--object",
    "object_name",
    type=click.Choice(["contacts", "companies", "activities"]),
    default="contacts",
    show_default=True,
    help="Rally object the rows become.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Pipeline file to write (default: <source name>.pipeline.yaml beside the source).",
)
@click.option("--force", is_flag=True, help="Overwrite the output file if it exists.")
def init(source_file: str, object_name: str, output: str | None, force: bool) -> None:
    """Write a starter pipeline file with a mapping suggested from SOURCE_FILE's headers."""
    from pathlib import Path

    from crmsync.starter import write_starter

    source = Path(source_file)
    target = Path(output) if output else source.with_name(f"{source.stem}.pipeline.yaml")
    if target.exists() and not force:
        raise click.ClickException(f"{target} exists; use --force to overwrite it")
    starter = write_starter(source, object_name=object_name, output=target)
    suggestion, info = starter.suggestion, starter.info
    click.echo(f"wrote {target}")
    if suggestion.product:
        click.echo(f"read as {suggestion.product.label}")
    if info.header_line and info.header_line > 1:
        click.echo(f"header: line {info.header_line} (the lines above it are skipped)")
    for written, given in info.renamed:
        click.echo(f"warning: more than one column is named {written!r}; one is read as {given!r}")
    if suggestion.source_id:
        click.echo(f"  {'source_id':<20} <- {suggestion.source_id.columns[0]}")
    for field, columns in suggestion.mapping.items():
        shown = columns if isinstance(columns, str) else ", then ".join(columns)
        click.echo(f"  {field:<20} <- {shown}")
    if suggestion.missing_required:
        click.echo(f"required, not found: {', '.join(suggestion.missing_required)} (edit the file)")
    if suggestion.unmapped_columns:
        click.echo(f"not mapped: {', '.join(suggestion.unmapped_columns)}")
    region = suggestion.region
    if region.region:
        click.echo(f"default_region: {region.region} ({region.reason})")
    for hint in suggestion.hints:
        click.echo(f"note: {hint}")
    click.echo(f"next: crmsync run {target} --dry-run")


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM (a scheduler stopping the job) ends the run like Ctrl-C: settled rows are
    kept, the report is written, exit 3."""
    raise KeyboardInterrupt


def main(args: list[str] | None = None) -> None:
    """Console entry point: turn crmsync's errors into a message and an exit code. `args`
    default to the command line's."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        cli.main(args=args, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Interrupted.", err=True)
        sys.exit(3)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2 if exc.exit_code == 2 else exc.exit_code)
    except CrmsyncError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(3)
    except Exception as exc:  # a bug: one clear line, the traceback only on request
        if os.environ.get("CRMSYNC_DEBUG"):
            raise
        click.echo(
            f"crmsync hit an unexpected error (a bug, please report it): "
            f"{type(exc).__name__}: {exc}\nRun again with CRMSYNC_DEBUG=1 to see the traceback.",
            err=True,
        )
        sys.exit(EXIT_INTERNAL)
