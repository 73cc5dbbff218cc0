"""Indicator pages: one page per section (demand, outcomes, offer, ACI, satisfaction) for a
period chosen in the query string (default: the current ACI contract year), each table with its
chart and the previous period; the catalogue of every indicator's definition."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from accesmt.accounts.access import cpts_role_required

from . import catalogue, charts
from .access import REPORTING_ROLES, scope_for
from .models import ReportingSettings
from .periods import KINDS, PeriodError, period_from_query


def period_of(http_request):
    """(period, error): the period of the query string, or the current contract year and the
    error to show next to the field."""
    settings = ReportingSettings.for_cpts(http_request.cpts)
    try:
        return period_from_query(http_request.GET, contract_start=settings.aci_contract_start), None
    except PeriodError as error:
        fallback = period_from_query({}, contract_start=settings.aci_contract_start)
        return fallback, error


def computed(indicators, scope, period) -> list[dict]:
    """Each indicator's table, its chart and its definition, for the templates."""
    results = []
    for item in indicators:
        table = item.compute(scope, period)
        results.append(
            {
                "indicator": item,
                "table": table,
                "rows": table.shown_rows(scope.masked),
                "chart": charts.render(table, masked=scope.masked),
            }
        )
    return results


@cpts_role_required(*REPORTING_ROLES)
def indicators(http_request, cpts_slug: str, section_slug: str = "demande"):
    section = catalogue.SECTION_OF_SLUG.get(section_slug)
    if section is None:
        raise Http404("Page introuvable.")
    period, error = period_of(http_request)
    scope = scope_for(http_request)
    return render(
        http_request,
        "reporting/indicators.html",
        {
            "cpts": http_request.cpts,
            "section": section,
            "section_title": catalogue.SECTIONS[section],
            "sections": [
                (catalogue.SECTION_SLUGS[code], title) for code, title in catalogue.SECTIONS.items()
            ],
            "section_slug": section_slug,
            "period": period,
            "previous": period.previous(),
            "period_error": error,
            "kinds": KINDS,
            "query": http_request.GET.urlencode(),
            "period_query": period.as_query(),
            "masked": scope.masked,
            "results": computed(catalogue.of_section(section, scope), scope, period),
            "today": timezone.localdate(),
        },
    )


@cpts_role_required(*REPORTING_ROLES)
def indicator_catalogue(http_request, cpts_slug: str):
    return render(
        http_request,
        "reporting/catalogue.html",
        {
            "cpts": http_request.cpts,
            "sections": [
                (title, catalogue.of_section(code)) for code, title in catalogue.SECTIONS.items()
            ],
        },
    )
