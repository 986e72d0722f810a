"""The transform benchmark runs end to end on a small file and its library counts add up."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parent.parent / "bench" / "transform.py"
LIBRARY_LINE = re.compile(
    r"^\s+(phonenumbers|email-validator)\s+([\d,]+) values, ([\d,]+) decided by expressions, "
    r"([\d,]+) left for the library: ([\d,]+) calls"
)


def _number(text: str) -> int:
    return int(text.replace(",", ""))


@pytest.mark.slow  # three child processes
def test_the_transform_benchmark_reports_its_library_calls() -> None:
    command = [sys.executable, str(BENCH), "--rows", "3000", "--baseline-rows", "300"]
    output = subprocess.run(
        [*command, "--repeat", "1"], check=True, capture_output=True, text=True, timeout=120
    ).stdout
    assert "vs floor" in output
    found = {m[1]: m for line in output.splitlines() if (m := LIBRARY_LINE.match(line))}
    assert set(found) == {"phonenumbers", "email-validator"}
    phones = found["phonenumbers"]
    values, decided, left, calls = (_number(phones[index]) for index in range(2, 6))
    assert values == decided + left and 0 < calls <= left  # each distinct value asked once
    emails = found["email-validator"]
    assert _number(emails[3]) <= _number(emails[2]) <= 3000  # decided <= values <= rows
