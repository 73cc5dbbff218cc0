"""The GPs' demography of a CPTS (coordination, observers): ages, GPs per 10,000 inhabitants by
commune, departures declared in the next 12/24/36 months, installations planned and the
projection over 36 months by commune — as of today. The tables are the offer
indicators themselves (one definition, one masking rule: `cells`)."""

from __future__ import annotations

import datetime

from django.shortcuts import render
from django.utils import timezone

from accesmt.accounts.access import cpts_role_required

from . import catalogue
from .access import REPORTING_ROLES, scope_for
from .periods import Period
from .views_indicators import computed

DEMOGRAPHY = (
    "offer.age_bands",
    "offer.by_commune",
    "offer.departures",
    "offer.installations",
    "offer.projection_communes",
    "offer.projection",
)


def today_period() -> Period:
    """Today alone: the offer indicators taken "at the end of the period" count the GPs now."""
    today = timezone.localdate()
    return Period("custom", today, today + datetime.timedelta(days=1))


@cpts_role_required(*REPORTING_ROLES)
def demography(http_request, cpts_slug: str):
    scope = scope_for(http_request)
    indicators = [catalogue.get(code) for code in DEMOGRAPHY]
    return render(
        http_request,
        "reporting/demography.html",
        {
            "cpts": http_request.cpts,
            "masked": scope.masked,
            "today": timezone.localdate(),
            "results": computed(indicators, scope, today_period()),
        },
    )
