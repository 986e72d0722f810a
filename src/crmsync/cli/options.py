"""Options several commands share, as decorators (click only: imported when the CLI starts).

crmsync run PIPELINE [--tenant NAME]... [--all-tenants] [--destination-env PREFIX]...
crmsync undo PIPELINE RUN_ID [--tenant NAME | --destination-env PREFIX]
crmsync runs|report PIPELINE [--tenant NAME]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])
TENANT_HELP = (
    "Run for this tenant of the file (repeatable): its own runs, lock, resume and report "
    "folder. A tenant from --destination-env is named by its prefix in lower case."
)
ENV_HELP = (
    "A tenant from the environment, named by PREFIX in lower case: PREFIX_RALLY_BASE_URL and "
    "PREFIX_RALLY_API_KEY (repeatable; replaces a tenant of that name in the file)."
)


def tenant_choice(command: F) -> F:
    """--tenant, --all-tenants and --destination-env, for `crmsync run`."""
    command = click.option(
        "--destination-env", "destination_env", multiple=True, metavar="PREFIX", help=ENV_HELP
    )(command)
    command = click.option(
        "--all-tenants",
        is_flag=True,
        help="Run for every tenant the file declares (and those of --destination-env), one "
        "after another; a tenant that fails does not stop the others.",
    )(command)
    return click.option("--tenant", "tenants", multiple=True, metavar="NAME", help=TENANT_HELP)(
        command
    )


def one_tenant(command: F) -> F:
    """--tenant or --destination-env, for a command that acts as one tenant (undo)."""
    command = click.option(
        "--destination-env",
        "destination_env",
        metavar="PREFIX",
        default=None,
        help="The tenant from the environment: PREFIX_RALLY_BASE_URL, PREFIX_RALLY_API_KEY.",
    )(command)
    return click.option(
        "--tenant", metavar="NAME", default=None, help="The tenant of the file whose run it is."
    )(command)


def history_tenant(command: F) -> F:
    """--tenant, for the history commands, which read no variable."""
    return click.option(
        "--tenant",
        metavar="NAME",
        default=None,
        help="That tenant's runs (for --destination-env PREFIX: prefix in lower case); "
        "without it, a file with tenants shows all of theirs.",
    )(command)
