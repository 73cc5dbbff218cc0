"""A journey through the product in a real browser, measured (issue 13's "Done when").

`Journey` wraps a Playwright page: the test drives it through `click`, `fill`, `check`,
`select` and `press`, which count what the user does (a tap on a button, link, box or choice is
a click; a value typed or chosen in a list is a field), and every new document is measured:
its path (signed tokens and references replaced by placeholders), its load time (Navigation
Timing: from the request, redirect included, to the end of the load event), its height in
screens and its width. Times are printed, never asserted: the machine's load makes them noisy.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

FIGURES = Path(__file__).resolve().parents[2] / "var" / "journeys.json"
# Signed tokens follow a fixed word of the URL; references look like MT-ABCD-1234.
TOKEN = re.compile(r"/(orientation|suivi|enquete)/[^/]+/")
REFERENCE = re.compile(r"MT-[0-9A-Z]{4}-[0-9A-Z]{4}")
MEASURE = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const root = document.documentElement;
  return {
    ms: nav ? Math.round(nav.duration) : null,
    height: root.scrollHeight,
    width: root.scrollWidth,
    screen: innerHeight,
  };
}"""


def placeholder_path(url: str) -> str:
    path = urlsplit(url).path
    path = TOKEN.sub(lambda m: f"/{m.group(1)}/<jeton>/", path)
    return REFERENCE.sub("<réf>", path)


@dataclass
class Screen:
    """One document the user saw: measured on arrival, and again before each action on it."""

    path: str
    ms: int | None
    screens: float
    width: int
    clicks: int = 0
    fields: int = 0


@dataclass
class Journey:
    name: str
    viewport: dict
    page: object
    pages: list[Screen] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # script errors, CSP refusals
    marks: dict = field(default_factory=dict)  # landmarks measured by the test, in screens

    # --- what the user does -------------------------------------------------------------
    def goto(self, url: str) -> None:
        self.page.goto(url)
        self._arrive()

    def click(self, locator, *, to: str | re.Pattern | None = None) -> None:
        """A tap on a button or link; `to` (a URL pattern) when it loads another page."""
        self._act(lambda: locator.click(), to)

    def check(self, locator) -> None:
        self._before_action()
        self.pages[-1].clicks += 1
        locator.check()

    def fill(self, locator, value: str) -> None:
        self._before_action()
        self.pages[-1].fields += 1
        locator.fill(value)

    def select(self, locator, value: str) -> None:
        self._before_action()
        self.pages[-1].fields += 1
        locator.select_option(value)

    def press(self, locator, key: str, *, to: str | re.Pattern | None = None) -> None:
        """A key that acts like a tap (« Entrée » in a search box sends the form)."""
        self._act(lambda: locator.press(key), to)

    # --- measures ----------------------------------------------------------------------
    def _measure(self) -> dict:
        return self.page.evaluate(MEASURE)

    def _arrive(self) -> None:
        self.page.wait_for_load_state("load")
        m = self._measure()
        self.pages.append(
            Screen(
                path=placeholder_path(self.page.url),
                ms=m["ms"],
                screens=round(m["height"] / m["screen"], 2),
                width=m["width"],
            )
        )

    def _before_action(self) -> None:
        """The page as the user scrolls it now (questions shown by script count too)."""
        m = self._measure()
        current = self.pages[-1]
        current.screens = max(current.screens, round(m["height"] / m["screen"], 2))
        current.width = max(current.width, m["width"])

    def _act(self, action, to) -> None:
        self._before_action()
        self.pages[-1].clicks += 1
        if to is None:
            action()
            return
        # Waits for the navigation itself: a form may post and come back to the same URL.
        with self.page.expect_navigation(url=to):
            action()
        self._arrive()

    def screens_to(self, locator, name: str) -> float:
        """How many screens the user scrolls to reach the bottom of this element (kept as a
        landmark of the journey under `name`)."""
        bottom = locator.evaluate("el => el.getBoundingClientRect().bottom + scrollY")
        self.marks[name] = round(bottom / self.viewport["height"], 2)
        return self.marks[name]

    # --- figures -------------------------------------------------------------------------
    @property
    def current(self) -> Screen:
        return self.pages[-1]

    def page_named(self, pattern: str) -> Screen:
        return next(p for p in self.pages if re.search(pattern, p.path))

    def totals(self) -> dict:
        return {
            "viewport": f"{self.viewport['width']}×{self.viewport['height']}",
            "pages": len(self.pages),
            "clicks": sum(p.clicks for p in self.pages),
            "fields": sum(p.fields for p in self.pages),
            "ms": sum(p.ms or 0 for p in self.pages),
            "max_screens": max(p.screens for p in self.pages),
            "max_width": max(p.width for p in self.pages),
        }

    def as_dict(self) -> dict:
        return {**self.totals(), "marks": self.marks, "steps": [asdict(p) for p in self.pages]}


def table(journeys: list[Journey]) -> str:
    """The figures, one line per page and one per journey, in plain text (`pytest -s`)."""
    head = f"{'parcours / page':<58} {'ms':>6} {'écrans':>6} {'clics':>5} {'champs':>6}"
    lines = [head, "-" * len(head)]
    for journey in journeys:
        t = journey.totals()
        lines.append(f"{journey.name} ({t['viewport']})")
        for p in journey.pages:
            ms = "" if p.ms is None else p.ms
            lines.append(f"  {p.path:<56} {ms:>6} {p.screens:>6.2f} {p.clicks:>5} {p.fields:>6}")
        total = f"  = {t['pages']} pages"
        lines.append(f"{total:<58} {t['ms']:>6} {'':>6} {t['clicks']:>5} {t['fields']:>6}")
        for name, screens in journey.marks.items():
            lines.append(f"  {name} : à {screens} écran(s)")
    return "\n".join(lines)


def save(journeys: list[Journey], path: Path = FIGURES) -> None:
    """Merge these journeys' figures into var/journeys.json (other journeys are kept)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    figures = json.loads(path.read_text()) if path.exists() else {}
    figures.update({j.name: j.as_dict() for j in journeys})
    path.write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n")
