"""A real browser: Debian's chromium driven by Playwright, at a 360x740 phone viewport.

A missing browser fails these tests; `make test` installs chromium when it is absent.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("SURVEY_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# The phone's clock runs from a day of the campaign's default window (10-25/8/2020), so "today"
# on the phone is a day a household may be visited.
CAMPAIGN_DAY = dt.datetime(2020, 8, 15, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def chromium():
    """One browser process for the session."""
    from playwright.sync_api import sync_playwright
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make test does it)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(chromium):
    """A fresh browser context the size of a small phone, Vietnamese locale."""
    context = chromium.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN",
                                   is_mobile=True, has_touch=True, device_scale_factor=2)
    context.clock.install(time=CAMPAIGN_DAY)
    yield context
    context.close()


@pytest.fixture
def shot(request):
    """Save a screenshot of a page under test-artifacts/<test name>/<step>.png."""
    folder = ARTIFACTS / request.node.name.replace("/", "_")
    folder.mkdir(parents=True, exist_ok=True)

    def take(page, step: str) -> Path:
        path = folder / f"{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path
    return take
