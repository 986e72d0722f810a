"""The command line: parse, call the library, print. No logic lives here."""

from __future__ import annotations

import os
import signal
import sys

import click

from crmsync import __version__
from crmsync.cli.history import report, runs
from crmsync.cli.options import one_tenant, tenant_choice
from crmsync.cli.sandboxes import redmine_sandbox, sandbox
from crmsync.errors import EXIT_CANNOT_START, EXIT_INTERNAL, CrmsyncError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="crmsync")
def cli() -> None:
    """Move customer records from files and other systems into Rally CRM."""


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
@tenant_choice
def run(
    pipeline_file: str,
    dry_run: bool,
    report_dir: str | None,
    limit: int | None,
    full: bool,
    log_format: str,
    tenants: tuple[str, ...],
    all_tenants: bool,
    destination_env: tuple[str, ...],
) -> None:
    """Run a pipeline file: extract, map, validate, dedupe, load, report. A file with
    tenants runs for those chosen, one after another, each its own run."""
    from pathlib import Path

    from crmsync.cli.tenants import chosen_tenants
    from crmsync.config import Pipeline, load_pipeline
    from crmsync.run import RunOptions, run_pipeline
    from crmsync.run.tenants import resolve_tenant, tenant_options

    options = RunOptions(
        dry_run=dry_run,
        full=full,
        limit=limit,
        report_dir=Path(report_dir) if report_dir else None,
    )

    def load() -> tuple[Pipeline, list[str]]:
        """The file, and its tenants to run for: none for a file without tenants."""
        pipeline = load_pipeline(
            pipeline_file, destination_optional=dry_run, env_tenants=destination_env
        )
        return pipeline, chosen_tenants(pipeline, tenants, destination_env, all_tenants=all_tenants)

    if log_format == "json":
        from crmsync.cli.json_log import JsonLogObserver, capturing_logs

        logger = JsonLogObserver()
        try:
            pipeline, chosen = load()
            if len(chosen) > 1:
                from crmsync.cli.tenants import run_logged

                sys.exit(run_logged(pipeline, chosen, options, logger))
            if chosen:
                pipeline = resolve_tenant(pipeline, chosen[0], options, logger)
                options = tenant_options(options, chosen[0])
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

    from crmsync.cli.console import ConsoleObserver, echoing_logs, run_closing

    pipeline, chosen = load()
    tty = sys.stdout.isatty()
    if len(chosen) > 1:
        from crmsync.cli.tenants import run_shown

        sys.exit(run_shown(pipeline, chosen, options, tty=tty))
    observer = ConsoleObserver(tty=tty)
    if chosen:
        pipeline = resolve_tenant(pipeline, chosen[0], options, observer)
        options = tenant_options(options, chosen[0])
    with echoing_logs(observer=observer):
        result = run_pipeline(pipeline, options, observer)
    run_closing(result, single=pipeline.single_step, tty=tty)
    sys.exit(result.exit_code)


@cli.command()
@click.argument("pipeline_file", type=click.Path(dir_okay=False))
@click.argument("run_id", type=int)
@click.option("--dry-run", is_flag=True, help="Look at Rally and say what would be undone.")
@click.option(
    "--force",
    is_flag=True,
    help="Undo even records later runs wrote again (fields changed since are still kept).",
)
@click.option(
    "--report-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Where undo-RUN_ID/undo.csv goes (default: the pipeline's report.dir).",
)
@one_tenant
def undo(
    pipeline_file: str,
    run_id: int,
    dry_run: bool,
    force: bool,
    report_dir: str | None,
    tenant: str | None,
    destination_env: str | None,
) -> None:
    """Undo a run: delete what it created, put back what it updated, except what people
    changed since (left alone, and listed in undo.csv). RUN_ID is the number `crmsync runs`
    lists. Running it again after an interruption finishes the undo."""
    from pathlib import Path

    from crmsync.cli.console import ConsoleObserver, undo_lines
    from crmsync.cli.tenants import for_one_tenant
    from crmsync.config import load_pipeline
    from crmsync.run.undo import UndoOptions, undo_run

    prefixes = [destination_env] if destination_env else []
    pipeline = for_one_tenant(
        load_pipeline(pipeline_file, env_tenants=prefixes), tenant, destination_env
    )
    folder = Path(report_dir) if report_dir else None
    if folder is not None and pipeline.tenant is not None:
        folder /= pipeline.tenant  # as a run's: a folder per tenant
    options = UndoOptions(dry_run=dry_run, force=force, report_dir=folder)
    result = undo_run(pipeline, run_id, options, ConsoleObserver(tty=sys.stdout.isatty()))
    click.echo()
    click.echo(undo_lines(result.summaries, dry_run=dry_run))
    click.echo(f"report: {result.files['undo']}")
    if result.interrupted:
        click.echo("Interrupted: run the same undo again to finish it.", err=True)
    sys.exit(result.exit_code)


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
@click.option(
    "--companies",
    "companies_file",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Companies export the contacts point at by id (Salesforce's Account.csv for "
    "AccountId): a companies step reads it and the contacts are linked to it (default: a CSV "
    "file beside SOURCE_FILE holding those ids, when there is one).",
)
@click.option("--force", is_flag=True, help="Overwrite the output file if it exists.")
def init(
    source_file: str, object_name: str, output: str | None, companies_file: str | None, force: bool
) -> None:
    """Write a starter pipeline file with a mapping suggested from SOURCE_FILE's headers."""
    from pathlib import Path

    from crmsync.report.wording import counted
    from crmsync.starter import write_starter

    source = Path(source_file)
    target = Path(output) if output else source.with_name(f"{source.stem}.pipeline.yaml")
    if target.exists() and not force:
        raise click.ClickException(f"{target} exists; use --force to overwrite it")
    named = Path(companies_file) if companies_file else None
    starter = write_starter(source, object_name=object_name, output=target, companies=named)
    suggestion, info = starter.suggestion, starter.info
    click.echo(f"wrote {target}")
    if suggestion.product:
        click.echo(f"read as {suggestion.product.label}")
    if info.subheader_line:
        click.echo(
            f"header: lines {info.header_line} and {info.subheader_line} (two header rows: "
            "a column is named by its label in the second, else by the first)"
        )
    elif info.header_line and info.header_line > 1:
        click.echo(f"header: line {info.header_line} (the lines above it are skipped)")
    for left in info.left_out:
        click.echo(f"note: {left.said}")
    for written, given in info.renamed:
        click.echo(f"warning: more than one column is named {written!r}; one is read as {given!r}")
    companies = suggestion.companies
    if starter.link is not None and starter.parents is not None:
        link, parents = starter.link, starter.parents
        several = f"; {counted(link.several, 'cell')} of several: the first" if link.several else ""
        click.echo(f"{link.said} ({link.found} of {link.referenced} different ids found{several})")
        click.echo(f"companies step: {link.companies.name}, each company loaded once")
        for left in starter.parents_info.left_out if starter.parents_info else ():
            click.echo(f"  note: {left.said}")
        click.echo(f"  {'source_id':<20} <- {link.id_column}")
        _echo_mapping(parents.mapping)
        if parents.missing_required:
            click.echo(f"  required, not found: {', '.join(parents.missing_required)}")
        click.echo(f"{object_name} step, linked to their company by companyId:")
    elif companies and info.records:
        click.echo(
            f"companies step: the file's {companies.rows} records ({companies.names} "
            "different names), each company loaded once"
        )
        _echo_mapping(companies.mapping)
        click.echo(
            f'{object_name} step: the people in each record\'s "{info.records}" (records: '
            f"{info.records}, {counted(info.rows, 'row')}), linked to their record's company by "
            "companyId:"
        )
    elif companies:
        click.echo(
            f"companies step: {counted(companies.names, 'company')} named in "
            f"{companies.company!r}, "
            "each loaded once"
        )
        _echo_mapping(companies.mapping)
        click.echo(f"{object_name} step, linked to their company by companyId:")
    if suggestion.source_id:
        click.echo(f"  {'source_id':<20} <- {suggestion.source_id.columns[0]}")
    _echo_mapping(suggestion.mapping, suggestion.by_label)
    if suggestion.missing_required:
        click.echo(f"required, not found: {', '.join(suggestion.missing_required)} (edit the file)")
    read = companies.columns if companies else set()
    unmapped = [column for column in suggestion.unmapped_columns if column not in read]
    if unmapped:
        click.echo(f"not mapped: {', '.join(unmapped)}")
    region = suggestion.region
    if region.region:
        click.echo(f"default_region: {region.region} ({region.reason})")
    for hint in suggestion.hints:
        click.echo(f"note: {hint}")
    missing = starter.unmapped_required
    if missing:
        said = "; ".join(f"{', '.join(fields)} ({step})" for step, fields in missing.items())
        click.echo(
            f"{target} cannot run yet: required, and no column maps them: {said}. Edit it: "
            'under mapping:, replace each "# <field>: ???" line by "<field>: <column>" (or '
            f'"<field>: {{constant: <value>}}"), then: crmsync run {target} --dry-run',
            err=True,
        )
        sys.exit(EXIT_CANNOT_START)
    click.echo(f"next: crmsync run {target} --dry-run")


def _echo_mapping(
    mapping: dict[str, str | list[str]], by_label: frozenset[str] = frozenset()
) -> None:
    for field, columns in mapping.items():
        if isinstance(columns, str):
            shown = columns
        elif field in by_label:
            shown = " or ".join(columns) + ", by each row's label"
        else:
            shown = ", then ".join(columns)
        click.echo(f"  {field:<20} <- {shown}")


cli.add_command(runs)
cli.add_command(report)
cli.add_command(sandbox)
cli.add_command(redmine_sandbox)


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
