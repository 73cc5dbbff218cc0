"""Browser tests drive the Debian chromium through Playwright (no browser download).

They are skipped, with the reason, only when /usr/bin/chromium is missing outside CI; on CI
(CI=true) a missing chromium fails the run: `bash scripts/install_system_deps.sh` installs it.
"""

import os
from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = Path(os.environ.get("ACCESMT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def browser(monkeypatch):
    if not CHROMIUM.exists():
        message = (
            f"{CHROMIUM} introuvable : lancez `bash scripts/install_system_deps.sh` "
            "(paquet Debian chromium)."
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true : {message}")
        pytest.skip(message)
    # Playwright's sync API runs an event loop in this thread: let the ORM work beside it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()
            # ORM calls made while Playwright's loop runs get their own connections (asgiref
            # locals are per context): close them, or PostgreSQL cannot drop the test database.
            connections.close_all()
