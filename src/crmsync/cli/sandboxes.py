"""`crmsync sandbox` and `crmsync redmine-sandbox`: local Rally and Redmine CRM servers to
rehearse against, with their shared option groups."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

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


@click.command()
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


@click.command("redmine-sandbox")
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
