"""The running dashboard (``sentimon dashboard``) in headless Chromium: charts render, the
sector table and the drill-down's companies per post are drawn, the ticker table has its
stories column, the drill-down of the wire story's ticker shows its copies as one story,
the page refreshes itself without re-mounting them, picking a story in "Why this score?"
highlights its words (the tiny model loaded on demand), no Streamlit error element, the
alert the pipeline fired is on the Alerts tab; screenshots go to ``tests/artifacts/``."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.stack import Env
from tests.integration.dashboard_feed import BURST, WIRE
from tests.paths import ARTIFACTS, ROOT

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROME_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--disable-dev-shm-usage", "--window-size=1600,2400",
]  # fmt: skip
ERROR = '[data-testid="stException"]'
CHART = '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg'
#: The data grid draws on a canvas; its accessibility table holds the visible cells' text.
CELL = '[data-testid="stDataFrame"] td[role="gridcell"]'
HEADER = '[data-testid="stDataFrame"] th'
#: The words of a picked story that pushed its score, coloured (dashboard/panels/explanation.py).
EXPLAINED = ".st-key-feed_explanation .why-text span.why-up, .st-key-feed_explanation .why-text span.why-down"
ENTITY = re.compile(r"[A-Z][A-Z.]* (positive|neutral|negative) · [01]\.\d")


@pytest.fixture(scope="module")
def server(live: Env, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from sentimon.stack.services import free_port

    port = free_port()
    log_path = tmp_path_factory.mktemp("dashboard") / "dashboard.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sentimon.cli.main", "dashboard", "--port", str(port), "--headless"],
            env=live.env(), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, log_path)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_healthy(
    url: str, proc: subprocess.Popen[Any], log_path: Path, timeout_s: float = 60
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"dashboard exited {proc.returncode}:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"dashboard not healthy after {timeout_s}s:\n{log_path.read_text()}")


@pytest.fixture
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file() or not CHROMEDRIVER.is_file() or shutil.which(str(CHROMIUM)) is None:
        pytest.skip("headless Chromium not installed (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tempfile.mkdtemp(prefix="sentimon-chromium-")
    for flag in [*CHROME_FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_dashboard_renders_in_chromium(server: str, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.get(server)
    wait = WebDriverWait(browser, 60)
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, CHART)) >= 2)  # market + ticker
    wait.until(lambda d: "As of" in d.find_element(By.TAG_NAME, "body").text)
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "Market" in body and "Tickers" in body and BURST in body
    assert "alert(s) firing" in body
    assert "Sectors" in body and "Most active: Information Technology" in body
    wait.until(lambda d: "Information Technology" in cells(d))  # the sector table
    wait.until(lambda d: any(ENTITY.fullmatch(c.split(", ")[0]) for c in cells(d)))  # companies
    time.sleep(1.0)  # let the grid and sparklines paint before the screenshot
    assert not browser.find_elements(By.CSS_SELECTOR, ERROR)
    wait.until(lambda d: "Stories 1h" in cells(d, HEADER))  # the ticker table's column
    browser.save_screenshot(str(ARTIFACTS / "dashboard.png"))
    drill_into(browser, WIRE)
    story = re.compile(r"4 copies, first by Newswire at \d\d:\d\d")
    wait.until(lambda d: any(story.fullmatch(c) for c in cells(d)))  # one row, four copies
    time.sleep(1.0)
    assert not browser.find_elements(By.CSS_SELECTOR, ERROR)
    browser.save_screenshot(str(ARTIFACTS / "dashboard-stories.png"))

    chart = browser.find_elements(By.CSS_SELECTOR, CHART)[0]
    stamp = refreshed(browser)
    wait.until(lambda d: refreshed(d) not in ("", stamp))  # the fragment re-ran by itself
    assert chart.is_displayed()  # updated in place, not re-mounted (else: stale element)

    explain_first_story(browser)
    words = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, EXPLAINED))
    assert all(w.get_attribute("data-weight") for w in words)
    assert "occlusion" in browser.find_element(By.CSS_SELECTOR, ".st-key-feed_explanation").text
    assert not browser.find_elements(By.CSS_SELECTOR, ERROR)
    browser.save_screenshot(str(ARTIFACTS / "dashboard-explanation.png"))

    tab = next(
        t for t in browser.find_elements(By.CSS_SELECTOR, "[role=tab]") if t.text == "Alerts"
    )
    browser.execute_script(
        "arguments[0].scrollIntoView({block: 'center'})", tab
    )  # not under the header
    tab.click()
    wait.until(lambda d: "dash-negative-share" in d.find_element(By.TAG_NAME, "body").text)
    assert not browser.find_elements(By.CSS_SELECTOR, ERROR)
    browser.save_screenshot(str(ARTIFACTS / "dashboard-alerts.png"))

    open_tab(browser, "Pipeline")  # the model-health panel the consumer's summary feeds
    wait.until(lambda d: "Model health" in d.find_element(By.TAG_NAME, "body").text)
    wait.until(lambda d: "PSI of the label mix" in cells(d))
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "Mean confidence" in body and "Escalated (cascade)" in body and "Last " in body
    assert not browser.find_elements(By.CSS_SELECTOR, ERROR)
    browser.save_screenshot(str(ARTIFACTS / "dashboard-pipeline.png"))


def open_tab(driver: Any, name: str) -> None:
    from selenium.webdriver.common.by import By

    tab = next(t for t in driver.find_elements(By.CSS_SELECTOR, "[role=tab]") if t.text == name)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", tab)
    tab.click()


def drill_into(driver: Any, symbol: str) -> None:
    """Pick ``symbol`` in the drill-down's selectbox (type it, press Enter)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    box = next(
        b
        for b in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stSelectbox"]')
        if "Drill down into" in b.text
    )
    field = box.find_element(By.TAG_NAME, "input")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", field)
    field.click()
    field.send_keys(symbol)
    field.send_keys(Keys.ENTER)


def explain_first_story(driver: Any) -> None:
    """Open the latest-stories feed's "Why this score?" picker and take its first story."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    panel = driver.find_element(By.CSS_SELECTOR, ".st-key-feed_panel")
    box = next(
        b
        for b in panel.find_elements(By.CSS_SELECTOR, '[data-testid="stSelectbox"]')
        if "Why this score?" in b.text
    )
    field = box.find_element(By.TAG_NAME, "input")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", field)
    field.click()
    field.send_keys(Keys.ENTER)


def cells(driver: Any, selector: str = CELL) -> list[str]:
    """The text of every data-grid cell (or header: ``HEADER``) on the page, in one call
    ([] while re-rendering)."""
    from selenium.common.exceptions import WebDriverException

    script = "return Array.from(document.querySelectorAll(arguments[0])).map(c => c.textContent)"
    try:
        return list(driver.execute_script(script, selector))
    except WebDriverException:
        return []


def refreshed(driver: Any) -> str:
    """The ``refreshed HH:MM:SS UTC`` stamp of the page header ('' while re-rendering)."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By

    try:
        text = driver.find_element(By.TAG_NAME, "body").text
    except WebDriverException:
        return ""
    start = text.find("refreshed ")
    return text[start : start + 40] if start >= 0 else ""
