"""The CLI layer: every command documented, errors become exit codes, never tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from crmsync.cli import cli


def commands(group: click.Group) -> list[str]:
    return sorted(group.commands)


@pytest.mark.parametrize("name", commands(cli))
def test_every_command_has_help(name: str) -> None:
    command = cli.commands[name]
    assert command.help and len(command.help) > 20
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"{name} {param.opts} has no help"
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0


def test_bad_pipeline_exits_2_without_traceback(tmp_path: Path) -> None:
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text("name: x\nobject: contacts\n")
    done = subprocess.run(
        [sys.executable, "-m", "crmsync", "run", str(pipeline)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "source: required key is missing" in done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_option_exits_2() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "crmsync", "run", "--nope"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "No such option" in done.stderr
