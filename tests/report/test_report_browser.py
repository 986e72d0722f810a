"""report.html in a real browser: headless Chromium (Debian's /usr/bin/chromium, driven by
its chromedriver through selenium) opens the file with JavaScript off, the tests read the
page through the DOM, and a screenshot is kept in test-artifacts/ for a person to look at."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from .conftest import HOSTILE, IMG, Runs

pytestmark = pytest.mark.slow

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", Path(__file__).parents[2] / "test-artifacts"))
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1200,2400",
)
JAVASCRIPT_BLOCKED = {"profile.managed_default_content_settings.javascript": 2}


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} or {CHROMEDRIVER} is missing: .ci/run installs them")
        pytest.skip("apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.add_experimental_option("prefs", JAVASCRIPT_BLOCKED)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def cells(browser: webdriver.Chrome, selector: str) -> list[list[str]]:
    rows = browser.find_elements(By.CSS_SELECTOR, f"{selector} tr")
    return [[c.text for c in row.find_elements(By.CSS_SELECTOR, "th, td")] for row in rows]


def test_the_browser_runs_no_script(browser: webdriver.Chrome, tmp_path: Path) -> None:
    control = tmp_path / "control.html"
    control.write_text(
        '<p id="x">off</p><script>document.getElementById("x").textContent = "on"</script>'
    )
    browser.get(control.as_uri())
    assert browser.find_element(By.ID, "x").text == "off"


def test_the_counts_and_failures_read_in_the_browser_with_javascript_off(
    browser: webdriver.Chrome, runs: Runs
) -> None:
    browser.get(runs.page.as_uri())
    assert browser.title == "crmsync: run 2 of page-people"
    header, *rows = cells(browser, "#outcomes-table")
    row = dict(zip(header, rows[0], strict=True))
    assert (row["read"], row["created"], row["unchanged"], row["failed"]) == ("48", "10", "30", "7")
    _, *samples = cells(browser, "table.failures-sample")
    assert samples[0][5] == HOSTILE and samples[1][5] == IMG  # text, not markup
    assert not browser.find_elements(By.CSS_SELECTOR, "script, img, iframe")
    assert browser.find_element(By.ID, "run-status").text == "partial"
    history = cells(browser, "#history-table")
    assert [r[0] for r in history[1:]] == ["2", "1"]
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg")) >= 4  # outcomes, load, history


def test_a_screenshot_of_the_page_is_kept(browser: webdriver.Chrome, runs: Runs) -> None:
    browser.get(runs.page.as_uri())
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    assert browser.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 10_000  # a page, not a blank
