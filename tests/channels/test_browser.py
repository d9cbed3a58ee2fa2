"""The chat page in a real browser: Debian's Chromium driven by Playwright for Python.

It opens the page (rasa-webchat, signed in as the demo buyer by the page's token endpoint), asks "why is there
no cancel button", clicks an order button, checks the dated answer, reloads the page and sees the
conversation again, and saves a screenshot to results/widget.png. The page may not fetch anything outside
loopback (no CDN, no web fonts): any such request fails the test.

The browser is the system one (`ORDERDESK_CHROMIUM`, default /usr/bin/chromium; `apt-get install chromium`,
which `.ci/run` does): Playwright's own download cannot work here. Without it the test is skipped, except in
CI (CI=true), where it fails.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

from channelkit import ROOT

CHROMIUM = os.environ.get("ORDERDESK_CHROMIUM", "/usr/bin/chromium")
DATED = re.compile(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} [A-Z][a-z]{2}( \d{4})?, \d\d:\d\d UTC")
SCREENSHOT = ROOT / "results" / "widget.png"
TIMEOUT_MS = 90_000


@pytest.fixture(scope="module")
def browser():
    why = None
    if not Path(CHROMIUM).exists():
        why = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        why = "Playwright for Python is not installed"
    if why:
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--disable-dev-shm-usage"])
        yield browser
        browser.close()


def test_the_widget_answers_with_buttons_and_dates_and_keeps_the_conversation_on_reload(channels_server, browser):
    context = browser.new_context(viewport={"width": 760, "height": 1000})
    outside: list[str] = []

    def only_loopback(route):
        host = urlparse(route.request.url).hostname
        if host in ("127.0.0.1", "localhost"):
            return route.continue_()
        outside.append(route.request.url)
        return route.abort()

    context.route("**/*", only_loopback)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(channels_server["page"])
        page.get_by_text("Signed in as the demo buyer").wait_for()
        page.locator(".rw-response", has_text="Hi!").first.wait_for()  # the greeting: connected

        box = page.locator(".rw-new-message")
        box.fill("why is there no cancel button")
        box.press("Enter")
        button = page.locator(".rw-reply", has_text="8100000000000002")
        button.wait_for()
        assert page.locator(".rw-reply").count() >= 2
        button.click()
        answer = page.locator(".rw-response", has_text="payment is still being checked")
        answer.wait_for()
        assert DATED.search(answer.inner_text()), answer.inner_text()

        page.reload()
        page.locator(".rw-response", has_text="payment is still being checked").wait_for()
        page.locator(".rw-client", has_text="why is there no cancel button").wait_for()
        # still the same conversation on the server: the bot answers a follow-up for the same buyer
        answered = "document.querySelectorAll('.rw-response:not(:has(.rw-dot))').length"
        before = page.evaluate(answered)
        box = page.locator(".rw-new-message")
        box.fill("thanks")
        box.press("Enter")
        page.wait_for_function(f"{answered} > {before} && !document.querySelector('.rw-dot')")
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
    finally:
        context.close()
    assert outside == [], f"the page fetched from outside: {outside}"
    assert errors == []
