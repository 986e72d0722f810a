"""The companies benchmark runs end to end on a small file and accounts for every row."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parent.parent / "bench" / "companies.py"


@pytest.mark.slow  # a child process generating and reading a file
def test_the_companies_benchmark_accounts_for_every_row() -> None:
    command = [sys.executable, str(BENCH), "--rows", "3000", "--baseline-rows", "300"]
    output = subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)
    text = output.stdout
    assert "x the floor" in text
    kept, merged = (int(n.replace(",", "")) for n in re.findall(r"([\d,]+) (?:kept|merged)", text))
    assert kept + merged == 3000  # every company is a row kept or merged: none fails
    hosts = re.search(r"([\d,]+) decided by the suffix sets, ([\d,]+) by tldextract", text)
    assert hosts is not None
    decided, asked = (int(n.replace(",", "")) for n in hosts.groups())
    assert decided > asked > 0  # most hosts by the sets, the odd ones by the library
