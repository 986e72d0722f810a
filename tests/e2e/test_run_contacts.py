"""The real CLI against a real sandbox on 127.0.0.1: the contacts pipeline end to end."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from email_validator import EmailNotValidError, validate_email

from crmsync.sandbox.testing import SandboxHandle, running_sandbox

pytestmark = pytest.mark.slow  # real servers and the CLI in subprocesses

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "contacts.csv"
PIPELINE = ROOT / "pipelines" / "contacts_csv.yaml"
KEY = "e2e-secret-key-4242"


def own_pipeline(folder: Path) -> Path:
    """The contacts pipeline written into `folder`, reading the sample where it is: its state
    (beside the pipeline file) is then this test's own, never that of another test running
    the same pipeline on another worker at the same time."""
    text = PIPELINE.read_text().replace("../sample_data/contacts.csv", str(SAMPLE))
    (folder / "pipeline").mkdir(exist_ok=True)
    path = folder / "pipeline" / PIPELINE.name
    path.write_text(text.replace("../reports/contacts-csv", "reports"))
    return path


def crmsync(
    *args: str, base_url: str, key: str = KEY, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RALLY_BASE_URL": base_url, "RALLY_API_KEY": key}
    return subprocess.run(
        [sys.executable, "-m", "crmsync", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=240,
        check=False,
    )


def expected_sample() -> tuple[set[str], set[int], int]:
    """Valid unique emails, the lines of invalid rows, and the number of rows, read with the
    csv module and email-validator: an independent reading of the sample."""
    emails: set[str] = set()
    invalid: set[int] = set()
    rows = 0
    with SAMPLE.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        line = reader.line_num + 1
        for record in reader:
            rows += 1
            email = (record["E-mail Address"] or "").strip().lower()
            score = record["Lead Score"].strip()
            ok = bool(record["First Name"].strip() and record["Last Name"].strip() and email)
            if ok:
                try:
                    validate_email(email, check_deliverability=False)
                except EmailNotValidError:
                    ok = False
            if score and not (score.isdigit() and 0 <= int(score) <= 100):
                ok = False
            if ok:
                emails.add(email)
            else:
                invalid.add(line)
            line = reader.line_num + 1
    return emails, invalid, rows


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def assert_no_secret(key: str, *texts: str) -> None:
    for text in texts:
        assert key not in text


def check_sandbox_holds_exactly(sandbox: SandboxHandle, emails: set[str]) -> None:
    stored = Counter(record["email"].lower() for record in sandbox.records("contacts", KEY))
    duplicates = {email: n for email, n in stored.items() if n > 1}
    assert not duplicates
    assert set(stored) == emails


def test_faulty_sandbox_ends_with_every_valid_email_once(tmp_path: Path) -> None:
    emails, invalid_lines, rows = expected_sample()
    with running_sandbox(
        api_keys=(KEY,), fail_rate=0.2, commit_then_fail_rate=0.1, rate_limit=50, seed=7
    ) as sandbox:
        done = crmsync(
            "run",
            str(own_pipeline(tmp_path)),
            "--report-dir",
            str(tmp_path),
            base_url=sandbox.base_url,
        )
        assert done.returncode == 1, done.stderr  # the sample has invalid rows by design
        check_sandbox_holds_exactly(sandbox, emails)

    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["rows_read"] == rows
    assert summary["rows_read"] == (
        summary["created"]
        + summary["updated"]
        + summary["unchanged"]
        + summary["merged"]
        + summary["failed"]
    )
    assert summary["created"] + summary["updated"] == len(emails)
    assert summary["failed"] == len(invalid_lines)
    assert summary["retries"] > 0

    errors = read_csv(tmp_path / "errors.csv")
    assert {int(row["row"]) for row in errors} == invalid_lines
    assert all(row["stage"] == "validate" and row["field"] and row["error"] for row in errors)
    assert list(errors[0])[:5] == ["source", "row", "stage", "field", "error"]
    assert "E-mail Address" in errors[0]  # original columns ride along for the fix-and-rerun
    merged = read_csv(tmp_path / "merged.csv")
    assert len(merged) == summary["merged"] > 0
    written = [path.read_text() for path in tmp_path.iterdir() if path.is_file()]
    assert_no_secret(KEY, done.stdout, done.stderr, *written)


def test_fixed_errors_file_feeds_back_through_the_same_pipeline(tmp_path: Path) -> None:
    with running_sandbox(api_keys=(KEY,)) as sandbox:
        first = crmsync(
            "run",
            str(own_pipeline(tmp_path)),
            "--report-dir",
            str(tmp_path / "r1"),
            base_url=sandbox.base_url,
        )
        assert first.returncode == 1
        errors = read_csv(tmp_path / "r1" / "errors.csv")
        fixed = []
        for row in {r["row"]: r for r in errors}.values():
            row = dict(row)
            row["E-mail Address"] = f"fixed{row['row']}@example.com"
            row["First Name"] = row["First Name"] or "Fixed"
            row["Last Name"] = row["Last Name"] or "Fixed"
            row["Lead Score"] = ""
            fixed.append(row)
        refeed_dir = tmp_path / "refeed"
        refeed_dir.mkdir()
        with (refeed_dir / "contacts.csv").open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(fixed[0]))
            writer.writeheader()
            writer.writerows(fixed)
        text = PIPELINE.read_text().replace("../sample_data/contacts.csv", "contacts.csv")
        (refeed_dir / "pipeline.yaml").write_text(text)
        second = crmsync(
            "run",
            str(refeed_dir / "pipeline.yaml"),
            "--report-dir",
            str(tmp_path / "r2"),
            base_url=sandbox.base_url,
        )
        assert second.returncode == 0, second.stdout + second.stderr
        summary = json.loads((tmp_path / "r2" / "summary.json").read_text())
        assert summary["created"] == len(fixed)


def test_dry_run_sends_nothing_and_says_what_it_would_send(tmp_path: Path) -> None:
    emails, _, _ = expected_sample()
    with running_sandbox(api_keys=(KEY,)) as sandbox:
        done = crmsync(
            "run",
            str(own_pipeline(tmp_path)),
            "--dry-run",
            "--report-dir",
            str(tmp_path),
            base_url=sandbox.base_url,
        )
        assert done.returncode == 1
        assert sandbox.write_requests() == 0
    payloads = [
        json.loads(line) for line in (tmp_path / "payloads.ndjson").read_text().splitlines()
    ]
    assert {p["email"] for p in payloads} == emails
    assert "would create" in done.stdout and "would update" in done.stdout


def test_upsert_mode_sends_only_what_changed_without_duplicates(tmp_path: Path) -> None:
    emails, _, _ = expected_sample()
    source = tmp_path / "contacts.csv"
    shutil.copy(SAMPLE, source)
    pipeline = tmp_path / "upsert.yaml"
    text = PIPELINE.read_text().replace("mode: auto", "mode: upsert")
    text += "sync: {unreadable: rewrite}\n"  # its updates may rewrite what Rally never shows
    pipeline.write_text(text.replace("../sample_data/contacts.csv", str(source)))
    with running_sandbox(api_keys=(KEY,), rate_limit=400) as sandbox:

        def run(report: str) -> dict[str, int]:
            done = crmsync(
                "run",
                str(pipeline),
                "--limit",
                "120",
                "--report-dir",
                str(tmp_path / report),
                base_url=sandbox.base_url,
            )
            assert done.returncode in (0, 1), done.stderr
            return json.loads((tmp_path / report / "summary.json").read_text())

        first = run("r1")
        assert first["created"] == first["rows_read"] - first["merged"] - first["failed"]
        writes = sandbox.write_requests()
        second = run("r2")  # nothing changed: nothing sent
        assert second["unchanged"] == first["created"]
        assert sandbox.write_requests() == writes
        lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
        lines[1] = (
            lines[1].replace(",customer,", ",opportunity,", 1).replace(",lead,", ",customer,", 1)
        )
        source.write_text("".join(lines), encoding="utf-8")
        third = run("r3")  # one row changed: one upsert, answered "updated"
        assert third["updated"] == 1
        assert third["unchanged"] == first["created"] - 1
        assert sandbox.write_requests() == writes + 1
        stored = Counter(r["email"] for r in sandbox.records("contacts", KEY))
        assert max(stored.values()) == 1
        assert set(stored) <= emails


def test_refused_key_exits_2_without_traceback_or_key(tmp_path: Path) -> None:
    with running_sandbox(api_keys=("the-real-key",)) as sandbox:
        done = crmsync(
            "run",
            str(own_pipeline(tmp_path)),
            "--report-dir",
            str(tmp_path),
            base_url=sandbox.base_url,
            key=KEY,
        )
        assert sandbox.write_requests() == 0
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "401" in done.stderr or "refused" in done.stderr.lower()
    assert_no_secret(KEY, done.stdout, done.stderr)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda t: t.replace("path: contacts.csv", "path: missing.csv"), "missing.csv"),
        (lambda t: t.replace("email: E-mail Address", "email: Email Addr"), "mapping.email"),
        (lambda t: t.replace("batch_size: 100", "batch_sise: 100"), "did you mean 'batch_size'"),
    ],
    ids=["missing-source", "unknown-column", "typo-key"],
)
def test_cannot_start_exits_2_with_a_clear_message(tmp_path: Path, edit, expected: str) -> None:  # type: ignore[no-untyped-def]
    pipeline = tmp_path / "p.yaml"
    shutil.copy(SAMPLE, tmp_path / "contacts.csv")
    text = PIPELINE.read_text().replace("../sample_data/contacts.csv", "contacts.csv")
    pipeline.write_text(edit(text))
    with running_sandbox(api_keys=(KEY,)) as sandbox:  # a reachable Rally: the file is at fault
        done = crmsync("run", str(pipeline), base_url=sandbox.base_url, cwd=tmp_path)
        assert sandbox.write_requests() == 0
    assert done.returncode == 2, done.stdout + done.stderr
    assert expected in done.stderr
    assert "Traceback" not in done.stderr


def test_interrupted_run_exits_3_and_accounts_for_every_row(tmp_path: Path) -> None:
    pipeline = own_pipeline(tmp_path)
    with running_sandbox(api_keys=(KEY,), latency_ms=400, rate_limit=2) as sandbox:
        env = {**os.environ, "RALLY_BASE_URL": sandbox.base_url, "RALLY_API_KEY": KEY}
        process = subprocess.Popen(
            [sys.executable, "-m", "crmsync", "run", str(pipeline), "--report-dir", str(tmp_path)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        for line in process.stdout:
            if "load:" in line:
                break
        deadline = time.monotonic() + 60
        while sandbox.stats()["writes"] == 0:  # wait until the first batch is on the wire
            assert process.poll() is None, "the run ended before it wrote anything"
            assert time.monotonic() < deadline, "no write within 60 s"
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
        records = sandbox.records("contacts", KEY)
        stored = {r["id"] for r in records}
        emails = {str(r["email"]).lower() for r in records}
    assert process.returncode == 3, out + err
    assert "Traceback" not in err
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["interrupted"] is True
    assert summary["rows_read"] == summary["created"] + summary["merged"] + summary["failed"]
    assert summary["failed_by_stage"]["load"] > 0
    assert summary["created"] <= len(stored)
    unknown = [r for r in read_csv(tmp_path / "errors.csv") if r["stage"] == "load"]
    assert len(unknown) == summary["failed_by_stage"]["load"]
    in_doubt = [r for r in unknown if "may or may not be in Rally" in r["error"]]
    unsent = [r for r in unknown if "interrupted before it was sent" in r["error"]]
    assert len(in_doubt) + len(unsent) == len(unknown)
    # what the report says was never sent is not in Rally
    assert not {str(r["E-mail Address"]).strip().lower() for r in unsent} & emails
