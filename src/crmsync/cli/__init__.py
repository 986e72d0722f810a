"""The command line and the terminal: the only package that imports click.

app       the commands: parse, call the library, print; errors into exit codes
console   a run on a terminal: progress, closing tables, history tables
json_log  --log-format json: one JSON object per event, for log collectors
demo      `make demo`: the product against embedded sandboxes
"""

from crmsync.cli.app import cli, main

__all__ = ["cli", "main"]
