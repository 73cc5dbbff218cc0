"""The catalogue of indicators: each is defined once, here, by the function that computes it
(in `indicators/`), with its name, formula, unit and the population it counts. The catalogue
page (`reporting:catalogue`) is generated from these definitions; pages, exports and the API
call the same functions.

An indicator function takes (scope, period) and returns a `tables.Table`. Register it with

    @indicator("demand.channels", section="demand", title="…", formula="…", unit="…",
               population="…")
    def channels(scope, period): ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .tables import Table

SECTIONS = {
    "demand": "Demande",
    "outcomes": "Résultats",
    "offer": "Offre de soins",
    "aci": "Contrat ACI",
    "satisfaction": "Satisfaction",
}
# The URL of each section's page (French, as every URL of the product).
SECTION_SLUGS = {
    "demand": "demande",
    "outcomes": "resultats",
    "offer": "offre",
    "aci": "aci",
    "satisfaction": "satisfaction",
}
SECTION_OF_SLUG = {slug: code for code, slug in SECTION_SLUGS.items()}


@dataclass(frozen=True)
class Indicator:
    code: str
    section: str
    title: str
    formula: str
    unit: str
    population: str
    compute: Callable[..., Table]
    order: int
    coordination_only: bool = False

    @property
    def anchor(self) -> str:
        return self.code.replace(".", "-")


_REGISTRY: dict[str, Indicator] = {}


def indicator(
    code: str,
    *,
    section: str,
    title: str,
    formula: str,
    unit: str,
    population: str,
    coordination_only: bool = False,
):
    if section not in SECTIONS:
        raise ValueError(f"unknown section {section!r}")

    def register(func):
        if code in _REGISTRY:
            raise ValueError(f"indicator {code} defined twice")
        _REGISTRY[code] = Indicator(
            code=code,
            section=section,
            title=title,
            formula=formula,
            unit=unit,
            population=population,
            compute=func,
            order=len(_REGISTRY),
            coordination_only=coordination_only,
        )
        return func

    return register


def _load() -> None:
    from . import indicators  # noqa: F401  (registers every indicator module)


def all_indicators() -> list[Indicator]:
    _load()
    return sorted(_REGISTRY.values(), key=lambda i: (list(SECTIONS).index(i.section), i.order))


def of_section(section: str, scope=None) -> list[Indicator]:
    """The indicators of `section`; given a `scope`, only those it may see (an indicator for
    the coordination only — the free comments of the satisfaction survey — is left out of every
    masked page, export and API answer)."""
    return [i for i in all_indicators() if i.section == section and visible(i, scope)]


def visible(item: Indicator, scope) -> bool:
    return scope is None or not (item.coordination_only and scope.masked)


def get(code: str) -> Indicator:
    _load()
    return _REGISTRY[code]
