"""Browser tests drive the Debian chromium through Playwright (no browser download).

They are skipped, with the reason, only when /usr/bin/chromium is missing outside CI; on CI
(CI=true) a missing chromium fails the run: `bash scripts/install_system_deps.sh` installs it.

Every page a test reaches is checked with axe-core at phone and desktop widths when the test
ends (see tests/browser/axe.py): a serious or critical violation fails the test.
"""

import os
from pathlib import Path

import pytest
from django.db import connections

from .axe import Exemption, RecordingBrowser

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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item: the axe check is skipped after a failed test."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


def _exemptions(node):
    exemptions = []
    for marker in node.iter_markers("axe_exempt"):
        rule, path, reason = (marker.kwargs.get(k, "") for k in ("rule", "path", "reason"))
        if not (rule and path and reason.strip()):
            pytest.fail("axe_exempt demande rule=, path= et reason= (une raison écrite).")
        exemptions.append(Exemption(rule, path, reason))
    return exemptions


@pytest.fixture
def browser(request, monkeypatch, settings, live_server):
    # `settings` and `live_server` are requested here so that they outlive the axe check.
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
        recording = RecordingBrowser(chromium, live_server.url)
        exemptions = _exemptions(request.node)
        try:
            yield recording
            call = getattr(request.node, "report_call", None)
            if call is not None and call.passed:
                problems = recording.check(exemptions)
                if problems:
                    pytest.fail(
                        "axe-core : violations graves ou critiques\n" + "\n".join(problems),
                        pytrace=False,
                    )
        finally:
            recording.close_all()
            chromium.close()
            # ORM calls made while Playwright's loop runs get their own connections (asgiref
            # locals are per context): close them, or PostgreSQL cannot drop the test database.
            connections.close_all()
