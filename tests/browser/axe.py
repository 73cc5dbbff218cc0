"""axe-core on every page the browser tests reach (issue 13, point 9; ADR 0018).

The `browser` fixture (conftest) hands the tests a `RecordingBrowser`: each context it opens
records the URL of every page its main frames showed after a GET (HTML, status 200). When the
test ends, while the live server still runs, each distinct URL is opened again in a new page of
the same context (same cookies: same user), at phone and desktop widths, and axe-core (shipped
by axe-playwright-python) checks it; any violation of impact "serious" or "critical" fails the
test, listed by rule, impact, target selector, page path and width.

Only GET pages are opened again: the signed links of the project are not consumed by a GET
(timestamped tokens), so re-opening them is harmless. A page shown as the answer to a POST
(a form with its errors) is checked by calling `check_now(page)` in the test; a test that opens
many pages checks each at once with `context.check_page(page)` (not opened again at the end).

`@pytest.mark.axe_exempt(rule="…", path=r"regex", reason="…")` skips one rule on the pages whose
path matches, and only with a written reason."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from axe_playwright_python.sync_playwright import Axe

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
FAILING_IMPACTS = {"serious", "critical"}
# WCAG 2.1 A/AA, plus axe's best practices (only their serious/critical findings fail).
OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}
# When set, every violation found (any impact) is appended there as JSON lines (for reports).
LOG = os.environ.get("ACCESMT_AXE_LOG")

_axe = Axe()


@dataclass(frozen=True)
class Exemption:
    rule: str
    path: str  # a regular expression searched in the page's path
    reason: str


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _settle(page) -> None:
    """Wait until the page's own scripts have drawn it (the map fetches its markers)."""
    page.wait_for_load_state("networkidle")
    if page.locator("[data-map]").count():
        page.locator("[data-map-ready], [data-map][hidden]").first.wait_for(state="attached")


def violations_of(page, width: str, exemptions=()) -> list[str]:
    """The serious/critical violations axe finds on `page` as it is now, one line per node."""
    path = _path(page.url)
    found = _axe.run(page, options=OPTIONS).response["violations"]
    lines = []
    for violation in found:
        exempt = any(e.rule == violation["id"] and re.search(e.path, path) for e in exemptions)
        for node in violation["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            if LOG:
                with open(LOG, "a", encoding="utf-8") as log:
                    row = {"rule": violation["id"], "impact": violation["impact"]}
                    row |= {"path": path, "width": width, "target": target, "exempt": exempt}
                    log.write(json.dumps(row) + "\n")
            if violation["impact"] in FAILING_IMPACTS and not exempt:
                lines.append(f"{violation['id']} ({violation['impact']}) {path} @{width}: {target}")
    return lines


def check_now(page, exemptions=()) -> None:
    """Fail now if the page, as it is (e.g. the answer to a POST), has serious violations at
    either width."""
    _settle(page)
    problems = _at_both_widths(page, exemptions)
    assert not problems, "axe-core :\n" + "\n".join(problems)


def _at_both_widths(page, exemptions) -> list[str]:
    """axe at desktop then phone width, on one load of the page (resized between the runs)."""
    problems = []
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")  # relaid out
        problems += violations_of(page, str(size["width"]), exemptions)
    return problems


class RecordingContext:
    """A Playwright BrowserContext that remembers the GET pages its main frames showed, and is
    closed for real only once they have been checked."""

    def __init__(self, context, origin: str, twin=None):
        self._context = context
        self._origin = origin
        # axe is a script: a context without JavaScript has its pages checked in a twin context
        # with it (same options and cookies), `twin(storage_state)`; evaluating there would hang.
        self._twin = twin
        self.urls: list[str] = []
        self.checked: set[str] = set()
        self.problems: list[str] = []
        context.on("response", self._record)

    def _record(self, response) -> None:
        # Runs in Playwright's event dispatch: only read local properties, call nothing.
        request = response.request
        frame = response.frame
        url = response.url.split("#")[0]
        if (
            request.method == "GET"
            and request.is_navigation_request()
            and frame.parent_frame is None
            and response.status == 200
            and url.startswith(self._origin)
            and "text/html" in response.headers.get("content-type", "")
            and url not in self.urls
        ):
            self.urls.append(url)

    def check_page(self, page, exemptions=()) -> None:
        """Check the page shown now, at both widths (its violations fail the test at its end)."""
        _settle(page)
        self.problems += _at_both_widths(page, exemptions)
        self.checked.add(page.url.split("#")[0])

    def close(self, **kwargs) -> None:  # the fixture closes it after the checks
        pass

    def check(self, exemptions=()) -> list[str]:
        problems = list(self.problems)
        urls = [url for url in self.urls if url not in self.checked]
        if not urls:
            return problems
        context = self._context if self._twin is None else self._twin(self._context.storage_state())
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            for url in urls:
                response = page.goto(url)
                if response is None or not response.ok:
                    # A step page the test went past (e.g. an import preview once confirmed)
                    # no longer exists: nothing left to check.
                    continue
                _settle(page)
                problems += _at_both_widths(page, exemptions)
        finally:
            page.close()
            if context is not self._context:
                context.close()
        return problems

    def __getattr__(self, name):
        return getattr(self._context, name)


class RecordingBrowser:
    """The Playwright Browser given to the tests: its contexts record the pages shown."""

    def __init__(self, browser, origin: str):
        self._browser = browser
        self._origin = origin
        self.contexts_opened: list[RecordingContext] = []

    def new_context(self, **kwargs) -> RecordingContext:
        twin = None
        if kwargs.get("java_script_enabled") is False:

            def twin(state):
                return self._browser.new_context(
                    **{**kwargs, "java_script_enabled": True, "storage_state": state}
                )

        context = RecordingContext(self._browser.new_context(**kwargs), self._origin, twin)
        self.contexts_opened.append(context)
        return context

    def new_page(self, **kwargs):
        return self.new_context(**kwargs).new_page()

    def check(self, exemptions=()) -> list[str]:
        problems = [p for context in self.contexts_opened for p in context.check(exemptions)]
        return list(dict.fromkeys(problems))

    def close_all(self) -> None:
        for context in self.contexts_opened:
            context._context.close()

    def __getattr__(self, name):
        return getattr(self._browser, name)
