"""Browser fixtures: Debian's headless Chromium driven by Playwright against pytest-django's live server.

The live server runs in another thread, so every browser test uses a transactional database that is
emptied (flushed) after each test, taking with it the rows our data migrations create.
"""

import json
import os
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

# Playwright's sync API drives the browser from an asyncio event loop running in the test thread, so
# Django sees "an async context" and refuses ORM calls with SynchronousOnlyOperation. The test code is
# plain synchronous code all the same (the loop only waits on the browser), so the guard is lifted here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
VIEWPORT = {"width": 1366, "height": 768}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

expect.set_options(timeout=5_000)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server) -> Page:
    """A fresh browser tab on the live server, 1366x768.

    Fails the test on any uncaught JavaScript error and on any Content-Security-Policy violation the
    browser reports in the console (a blocked inline script or style, an eval, a foreign source).
    """
    context = browser.new_context(viewport=VIEWPORT, base_url=live_server.url, locale="en-US")
    page = context.new_page()
    js_errors, csp_violations = [], []
    page.on("pageerror", lambda error: js_errors.append(error))
    page.on("console", lambda message: csp_violations.append(f"{page.url}: {message.text}")
            if is_csp_violation(message.text) else None)
    yield page
    context.close()
    assert not js_errors, f"JavaScript errors on the page: {js_errors}"
    assert not csp_violations, f"Content-Security-Policy violations: {csp_violations}"


def is_csp_violation(text: str) -> bool:
    return "Content Security Policy" in text or "Content-Security-Policy" in text


def log_in(page: Page, username: str, password: str) -> None:
    page.goto("/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


@pytest.fixture
def rita_page(page, receptionist) -> Page:
    """Rita, a receptionist of the Moscow branch, logged in through the real form and looking at the queue."""
    log_in(page, "rita", "pass-rita")
    page.wait_for_url("**/queue/")
    return page


@pytest.fixture
def screenshot():
    """Save the page as test-artifacts/screenshots/<name>.png, for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(page: Page, name: str, **options) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=path, **options)
        return path

    return save


@pytest.fixture
def send_web_inquiry(live_server):
    """Leave an inquiry the way the clinic's website does: POST JSON to the public endpoint."""

    def send(**fields) -> dict:
        payload = {"consent": True, **fields}
        request = urllib.request.Request(
            live_server.url + "/api/v1/public/inquiries", data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201, response.status
            return json.load(response)

    return send

