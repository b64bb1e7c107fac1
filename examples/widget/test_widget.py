"""A browser test an integrator can copy: the front end embeds the Flow Widget, a person passes
the flow inside it, and the page shows what the backend read from the result API.

Needs `pip install pytest selenium`, Chromium and its driver (Debian: `apt install chromium
chromium-driver`), and a running mock: BKZ_MOCK_URL=http://127.0.0.1:8080 (the mock's own
`cargo run --release -- serve`, or its Docker image). Run:

    BKZ_MOCK_URL=http://127.0.0.1:8080 python3 -m pytest -q examples/widget

Against the real vendor the same test needs a person in front of a camera; against the mock the
page's buttons play the person, and the scenario (here set through the admin API) decides the outcome.
"""

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

HERE = Path(__file__).resolve().parent
PHOTO = HERE.parent.parent / "fixtures" / "photos" / "face.jpg"
MOCK = os.environ.get("BKZ_MOCK_URL", "http://127.0.0.1:8080").rstrip("/")


@pytest.fixture(scope="module")
def host():
    """The integrator's backend and page (examples/widget/backend.py) on a free port."""
    env = dict(os.environ, BKZ_MOCK_URL=MOCK, PORT="0")
    process = subprocess.Popen([sys.executable, str(HERE / "backend.py")], stdout=subprocess.PIPE, text=True, env=env)
    line = process.stdout.readline().strip()
    assert line.startswith("listening on "), line
    yield line.removeprefix("listening on ")
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=420,900"]:
        options.add_argument(flag)
    chromium = os.environ.get("BKZ_MOCK_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium:
        options.binary_location = chromium
    driver_path = os.environ.get("BKZ_MOCK_CHROMEDRIVER") or shutil.which("chromedriver")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    yield driver
    driver.quit()


def by_testid(name):
    return (By.CSS_SELECTOR, f"[data-testid='{name}']")


def start_verification(browser, host):
    """Opens the shop's page, presses its button and moves into the widget's iframe."""
    wait = WebDriverWait(browser, 10)
    browser.get(host)
    browser.find_element(By.ID, "start").click()
    wait.until(ready.frame_to_be_available_and_switch_to_it((By.CSS_SELECTOR, "#flow-widget iframe")))
    wait.until(ready.presence_of_element_located(by_testid("step-LDHP")))
    browser.switch_to.default_content()
    return browser.find_element(By.TAG_NAME, "body").get_attribute("data-session-id")


def outcome_shown(browser):
    """Back on the host page: what it shows once the backend has read the result."""
    browser.switch_to.default_content()
    wait = WebDriverWait(browser, 10)
    wait.until(lambda b: b.find_element(By.ID, "outcome").get_attribute("data-state") in ("FINISHED", "FAILED"))
    return browser.find_element(By.ID, "outcome").get_attribute("data-state")


def test_a_person_passes_the_flow_in_the_widget(host, browser):
    start_verification(browser, host)
    browser.switch_to.frame(browser.find_element(By.CSS_SELECTOR, "#flow-widget iframe"))
    wait = WebDriverWait(browser, 10)
    browser.find_element(*by_testid("submit")).click()  # liveness, as scripted: passed
    wait.until(ready.presence_of_element_located(by_testid("photo-input"))).send_keys(str(PHOTO))
    browser.find_element(*by_testid("submit")).click()  # face match
    wait.until(ready.presence_of_element_located(by_testid("done")))
    assert outcome_shown(browser) == "FINISHED"


def test_a_failing_liveness_ends_the_flow_and_the_host_shows_failed(host, browser):
    session_id = start_verification(browser, host)
    # The mock's admin API picks the outcome; a real suite could use a magic IIN instead.
    request = urllib.request.Request(f"{MOCK}/__admin/sessions/{session_id}/scenario", method="PUT",
                                     data=json.dumps({"scenario": "liveness-fails"}).encode(),
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).close()
    browser.switch_to.frame(browser.find_element(By.CSS_SELECTOR, "#flow-widget iframe"))
    browser.find_element(*by_testid("submit")).click()
    WebDriverWait(browser, 10).until(ready.presence_of_element_located(by_testid("done")))
    assert outcome_shown(browser) == "FAILED"
