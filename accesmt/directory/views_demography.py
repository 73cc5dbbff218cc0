"""Demography of the territory's GPs (coordinator, observer): by age band and commune,
declared departures in the next 12/24/36 months, GPs per 10,000 inhabitants by commune.
For an observer, counts from 1 to 4 are masked ("< 5") so that no GP can be singled out."""

from __future__ import annotations

import datetime
from collections import Counter

from django.shortcuts import render
from django.utils import timezone

from accesmt.accounts.access import cpts_role_required
from accesmt.accounts.models import Role
from accesmt.common.masking import is_small, masked_count
from accesmt.territory.models import Commune

from .models import AgeBand, AvailabilityDeclaration, PracticeSite, Practitioner


def demography_figures(cpts, *, masked: bool) -> dict:
    today = timezone.localdate()
    practitioners = list(Practitioner.objects.present().in_cpts(cpts))
    bands = Counter(p.age_band_on(today) or "" for p in practitioners)
    by_band = [
        (label, masked_count(bands[value], masked=masked)) for value, label in AgeBand.choices
    ]
    by_band.append(("inconnu", masked_count(bands[""], masked=masked)))
    communes = Commune.objects.filter(territory__cpts=cpts).order_by("name")
    per_commune = Counter(
        PracticeSite.objects.present()
        .in_cpts(cpts)
        .filter(practitioner__is_gone=False)
        .values_list("commune_id", "practitioner_id")
        .distinct()
        .values_list("commune_id", flat=True)
    )
    commune_rows = []
    for commune in communes:
        count = per_commune[commune.pk]
        density = round(count * 10000 / commune.population, 1) if commune.population else None
        if masked and is_small(count):
            density = None
        commune_rows.append((commune, masked_count(count, masked=masked), density))
    departures = AvailabilityDeclaration.objects.current().filter(
        cpts=cpts, practitioner__is_gone=False, planned_departure_date__gte=today
    )
    horizons = []
    for months in (12, 24, 36):
        limit = today + datetime.timedelta(days=round(months * 365.25 / 12))
        count = departures.filter(planned_departure_date__lte=limit).count()
        horizons.append((months, masked_count(count, masked=masked)))
    return {
        "total": len(practitioners),
        "by_band": by_band,
        "communes": commune_rows,
        "departures": horizons,
    }


@cpts_role_required(Role.COORDINATOR, Role.OBSERVER)
def demography(request, cpts_slug):
    masked = request.membership is not None and request.membership.role == Role.OBSERVER
    return render(
        request,
        "directory/demography.html",
        {"cpts": request.cpts, "masked": masked, **demography_figures(request.cpts, masked=masked)},
    )
