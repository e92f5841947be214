"""Browser journeys in Debian's Chromium against the app served by pytest-django's live server.

Never downloads a browser: it must be at /usr/bin/chromium (scripts/chromium.sh installs it),
or wherever CHROMIUM points.
"""

import importlib
import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# (building data, checking what was saved) are still plain synchronous code.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from .browser import Journey  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(autouse=True)
def reference_data(transactional_db):
    """Put back the reference data migrations load (the pathway catalogue).

    The live server needs committed data, so these tests run in transactions that are
    flushed afterwards, and so is any earlier transactional test's data, catalogue included.
    """
    from django.apps import apps

    importlib.import_module("pathways.migrations.0002_seed_pathways").seed_pathways(apps, None)
    importlib.import_module("panels.migrations.0004_panel_types").seed_panel_types(apps, None)


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/chromium.sh (or set CHROMIUM) for the browser tests")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def journey(chromium, live_server):
    """Open a journey: `journey("name", javascript=False, keyboard=True)`; closed after the test."""
    contexts = []

    def open_journey(name, *, javascript=True, keyboard=False):
        options = {"base_url": live_server.url, "locale": "en-GB", "timezone_id": "Europe/London",
                   "viewport": {"width": 1280, "height": 900}}
        context = chromium.new_context(java_script_enabled=javascript, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        axe_page = None
        if not javascript:
            checker = chromium.new_context(**options)
            contexts.append(checker)
            axe_page = checker.new_page()
        return Journey(context.new_page(), name, base_url=live_server.url, keyboard=keyboard, axe_page=axe_page)

    yield open_journey
    for context in contexts:
        context.close()
