"""A small two-CPTS world in the database for the allocation run tests."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from tests.directory.factories import (
    AvailabilityDeclarationFactory,
    CommuneFactory,
    CPTSFactory,
    PracticeSiteFactory,
    territory_with,
)
from tests.intake.factories import HouseholdMemberFactory, RequestFactory

from .helpers import point_at

NOW = timezone.now()


def waiting_request(cpts, commune, *, north=0.0, east=0.0, days=10, priority=False, **fields):
    lat, lon = point_at(north, east)
    request = RequestFactory(
        cpts=cpts,
        commune=commune,
        status="waiting",
        latitude=lat,
        longitude=lon,
        waiting_since=NOW - datetime.timedelta(days=days),
        is_priority=priority,
        priority_rule_count=1 if priority else 0,
        **fields,
    )
    HouseholdMemberFactory(request=request, birth_date=datetime.date(1980, 5, 17))
    return request


def gp_at(cpts, commune, *, north=0.0, east=0.0, capacity=1, **declaration):
    lat, lon = point_at(north, east)
    site = PracticeSiteFactory(commune=commune, latitude=lat, longitude=lon)
    fields = {
        "accepts_children_under_6": True,
        "accepts_aged_70_plus": True,
        "accepts_ald": True,
        "accepts_css_ame": True,
        "accepts_households": True,
    }
    fields.update(declaration)
    AvailabilityDeclarationFactory(
        practitioner=site.practitioner, cpts=cpts, monthly_capacity=capacity, **fields
    )
    return site


@dataclass
class World:
    cpts: object
    other: object
    here: object
    there: object


def two_cpts(max_distance_km: int | None = None) -> World:
    """CPTS A around ORIGIN (Nantes) and CPTS B whose commune touches it (2 km away): a GP of B
    is often the nearest to a household of A, which must never be offered to it."""
    cpts = CPTSFactory(name="CPTS Alpha-Test")
    other = CPTSFactory(name="CPTS Bêta-Test")
    lat, lon = point_at(0, 0)
    here = CommuneFactory(latitude=lat, longitude=lon)
    lat, lon = point_at(2, 0)
    there = CommuneFactory(latitude=lat, longitude=lon)
    territory_with(cpts, here)
    territory_with(other, there)
    if max_distance_km is not None:
        from accesmt.matching.models import MatchingSettings

        MatchingSettings.objects.create(cpts=cpts, max_distance_km=max_distance_km)
    return World(cpts, other, here, there)
