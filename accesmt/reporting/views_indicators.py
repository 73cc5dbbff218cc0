"""Indicator pages: one page per section (demand, outcomes, offer, ACI, satisfaction) for a
period chosen in the query string (default: the current ACI contract year), each table with its
chart and the previous period; the catalogue of every indicator's definition."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from accesmt.accounts.access import cpts_role_required

from . import catalogue, charts
from .access import REPORTING_ROLES, scope_for
from .models import ReportingSettings
from .periods import KINDS, PeriodError, period_from_query
from .tables import PAGE_ROWS


def period_or_default(query, contract_start):
    """(period, error): the period of the query string, or the current contract year and the
    error to show next to the field."""
    try:
        return period_from_query(query, contract_start=contract_start), None
    except PeriodError as error:
        return period_from_query({}, contract_start=contract_start), error


def computed(indicators, scope, period, tables=None) -> list[dict]:
    """Each indicator's table, its chart and its definition, for the templates; `tables` are
    the tables already computed (a snapshot of the region), in the order of `indicators`. A
    table longer than PAGE_ROWS (the communes of a region) shows its first rows and its total."""
    results = []
    precomputed = {table.code: table for table in tables or ()}
    for item in indicators:
        table = precomputed.get(item.code) or item.compute(scope, period)
        left_out = max(0, len(table.rows) - PAGE_ROWS) + table.more_rows
        rows = [[cell.shown(scope.masked) for cell in row] for row in table.rows[:PAGE_ROWS]]
        if table.total is not None:
            rows.append([cell.shown(scope.masked) for cell in table.total])
        results.append(
            {
                "indicator": item,
                "table": table,
                "rows": rows,
                "rows_left_out": left_out,
                "chart": charts.render(table, masked=scope.masked),
            }
        )
    return results


@dataclass(frozen=True)
class Place:
    """Whose indicators a page shows (a CPTS, the region) and where its links lead: the
    templates take these URLs instead of building them from `cpts.slug`."""

    name: str
    home_url: str
    indicators_url: str
    catalogue_url: str
    section_url: Callable[[str], str]


def cpts_place(cpts) -> Place:
    def url(name: str, **kwargs) -> str:
        return reverse(f"reporting:{name}", kwargs={"cpts_slug": cpts.slug, **kwargs})

    return Place(
        name=cpts.name,
        home_url=url("cpts_home"),
        indicators_url=url("indicators"),
        catalogue_url=url("catalogue"),
        section_url=lambda slug: url("indicators_section", section_slug=slug),
    )


def section_page(
    http_request, section_slug: str, *, scope, contract_start, place, cpts=None, precomputed=None
):
    """The page of one section for `scope` (a CPTS, a mairie's communes, the region), for the
    period of the query string (default: the contract year starting on `contract_start`'s
    anniversary)."""
    section = catalogue.SECTION_OF_SLUG.get(section_slug)
    if section is None:
        raise Http404("Page introuvable.")
    period, error = period_or_default(http_request.GET, contract_start)
    # (tables, computed_at) already computed for this section and period, or None
    snapshot = precomputed(section, period) if precomputed else None
    return render(
        http_request,
        "reporting/indicators.html",
        {
            "cpts": cpts,
            "place": place,
            "section": section,
            "section_title": catalogue.SECTIONS[section],
            "sections": [
                (slug, title, place.section_url(slug))
                for slug, title in (
                    (catalogue.SECTION_SLUGS[code], title)
                    for code, title in catalogue.SECTIONS.items()
                )
            ],
            "section_slug": section_slug,
            "period": period,
            "previous": period.previous(),
            "period_error": error,
            "kinds": KINDS,
            "query": http_request.GET.urlencode(),
            "period_query": period.as_query(),
            "masked": scope.masked,
            "results": computed(
                catalogue.of_section(section, scope),
                scope,
                period,
                tables=snapshot[0] if snapshot else None,
            ),
            "computed_at": snapshot[1] if snapshot else None,
            "today": timezone.localdate(),
        },
    )


def catalogue_page(http_request, *, place: Place, cpts=None):
    return render(
        http_request,
        "reporting/catalogue.html",
        {
            "cpts": cpts,
            "place": place,
            "sections": [
                (title, catalogue.of_section(code)) for code, title in catalogue.SECTIONS.items()
            ],
        },
    )


@cpts_role_required(*REPORTING_ROLES)
def indicators(http_request, cpts_slug: str, section_slug: str = "demande"):
    cpts = http_request.cpts
    return section_page(
        http_request,
        section_slug,
        scope=scope_for(http_request),
        contract_start=ReportingSettings.for_cpts(cpts).aci_contract_start,
        place=cpts_place(cpts),
        cpts=cpts,
    )


@cpts_role_required(*REPORTING_ROLES)
def indicator_catalogue(http_request, cpts_slug: str):
    return catalogue_page(http_request, place=cpts_place(http_request.cpts), cpts=http_request.cpts)
