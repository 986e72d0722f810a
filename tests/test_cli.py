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


LOOPED = {
    "source": ("src.csv", "is a symbolic link to nothing"),
    "report": ("ok.csv\nreport: {dir: looped}", "cannot write the report there"),
    "state": ("ok.csv\nstate: {path: looped}", "cannot open state database"),
}


@pytest.mark.parametrize("where", sorted(LOOPED))
def test_a_symlink_loop_is_a_clear_error_not_a_crash(tmp_path: Path, where: str) -> None:
    (tmp_path / "ok.csv").write_text("First,Last,Email\nAda,Lovelace,ada@example.com\n")
    (tmp_path / "src.csv").symlink_to("src.csv")
    (tmp_path / "looped").symlink_to("looped")
    source, expected = LOOPED[where]
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(
        "name: x\nobject: contacts\n"
        "mapping: {firstName: First, lastName: Last, email: Email}\n"
        'destination: {base_url: "${RALLY_BASE_URL}", api_key: "${RALLY_API_KEY}"}\n'
        f"source:\n  kind: csv\n  path: {source}\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "crmsync", "run", str(pipeline), "--dry-run"],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 2, done.stderr
    assert expected in done.stderr
    assert "Traceback" not in done.stderr and "a bug" not in done.stderr
