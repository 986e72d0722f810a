"""The tenant options of the commands: what is refused before anything runs, exit 2, and the
history of a file with tenants. Runs against Rally are in tests/e2e/test_tenants.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmsync.cli import main

ACME_KEY = "rk_live_acme-cli-5d0e81"
PIPELINE = """\
name: contacts
object: contacts
source: {kind: csv, path: people.csv}
mapping: {firstName: First, lastName: Last, email: Email}
destination: {base_url: "http://127.0.0.1:9"}
tenants:
  acme: {api_key: "${ACME_RALLY_API_KEY}"}
  globex: {api_key: "${GLOBEX_RALLY_API_KEY}"}
"""


@pytest.fixture
def pipeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "people.csv").write_text("First,Last,Email\nAda,L,ada@example.com\n")
    path = tmp_path / "pipeline.yaml"
    path.write_text(PIPELINE)
    monkeypatch.setenv("ACME_RALLY_API_KEY", ACME_KEY)
    for name in ("GLOBEX_RALLY_API_KEY", "INITECH_RALLY_BASE_URL", "INITECH_RALLY_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return path


def crmsync(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exit:
        code = int(exit.code or 0)
    out = capsys.readouterr()
    assert ACME_KEY[:8] not in out.out + out.err
    return code, out.out + out.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "runs for tenants (acme, globex): choose with --tenant NAME or --all-tenants"),
        (["--tenant", "acmee"], "no tenant 'acmee' (did you mean 'acme'?)"),
        (["--all-tenants", "--tenant", "acme"], "--all-tenants runs every tenant"),
        (
            ["--tenant", "globex"],
            "tenant globex cannot run: tenants.globex.api_key: "
            "environment variable GLOBEX_RALLY_API_KEY is not set",
        ),
        (
            ["--destination-env", "INITECH"],
            "--destination-env INITECH: environment variable INITECH_RALLY_BASE_URL is not set; "
            "--destination-env INITECH: environment variable INITECH_RALLY_API_KEY is not set",
        ),
        (["--destination-env", "9"], "'9' is no environment variable prefix"),
    ],
    ids=["no choice", "unknown", "all and one", "key not set", "env not set", "bad prefix"],
)
def test_a_run_that_cannot_choose_its_tenants_exits_2(
    pipeline: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, said = crmsync(capsys, "run", str(pipeline), *args)
    assert code == 2
    assert message in said
    assert "Traceback" not in said
    assert not (pipeline.parent / ".crmsync").exists()  # nothing ran


def test_undo_of_a_file_with_tenants_names_one(
    pipeline: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, said = crmsync(capsys, "undo", str(pipeline), "1")
    assert code == 2 and "runs for tenants: name one with --tenant NAME" in said
    code, said = crmsync(capsys, "undo", str(pipeline), "1", "--tenant", "acme")
    assert code == 2 and "no run 1 of pipeline 'contacts@acme'" in said
    code, said = crmsync(
        capsys, "undo", str(pipeline), "1", "--tenant", "acme", "--destination-env", "GLOBEX"
    )
    assert code == 2 and "--tenant and --destination-env name different tenants" in said


def test_the_history_of_a_file_with_tenants_is_theirs(
    pipeline: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, said = crmsync(capsys, "runs", str(pipeline))
    assert code == 0 and said.startswith("no runs of contacts's tenants (acme, globex) yet")
    code, said = crmsync(capsys, "runs", str(pipeline), "--tenant", "initech")
    assert code == 0 and said.startswith("no runs of contacts@initech yet")
    code, said = crmsync(capsys, "runs", str(pipeline), "--tenant", "Acme")
    assert code == 2 and "--tenant: 'Acme' cannot name a tenant" in said
    code, said = crmsync(capsys, "report", str(pipeline), "1", "--tenant", "acme")
    assert code == 2 and "no run 1 in" in said
