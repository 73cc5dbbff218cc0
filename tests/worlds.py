"""Small worlds in the database shared by the matching, orientation, core and browser tests:
a GP at a point, a household waiting at a point, two neighbouring CPTS, the orientation world."""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

from django.utils import timezone

from accesmt.orientation.services import solicitations_send
from tests.accounts.factories import MembershipFactory
from tests.directory.factories import (
    AvailabilityDeclarationFactory,
    PracticeSiteFactory,
    territory_with,
)
from tests.intake.factories import HouseholdMemberFactory, RequestFactory
from tests.matching.factories import MatchingSettingsFactory
from tests.territory.factories import CommuneFactory, CPTSFactory

ORIGIN = (47.2, -1.55)  # Nantes


def point_at(km_north: float = 0.0, km_east: float = 0.0, origin=ORIGIN) -> tuple[float, float]:
    """A point roughly `km_north` / `km_east` of `origin` (small offsets)."""
    lat = origin[0] + km_north / 111.195
    lon = origin[1] + km_east / (111.195 * math.cos(math.radians(origin[0])))
    return lat, lon


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
        MatchingSettingsFactory(cpts=cpts, max_distance_km=max_distance_km)
    return World(cpts, other, here, there)


class Orientation:
    """CPTS A with five GPs 1 to 5 km north of a waiting household of two persons, each with an
    e-mail and room for two patients this month (that household); a coordinator and a referrer
    of A."""

    def __init__(self):
        self.world = two_cpts()
        self.cpts = self.world.cpts
        self.cpts.phone = "03 21 00 00 00"
        self.cpts.email = "coordination@cpts-alpha.example"
        self.cpts.save()
        self.sites = []
        for km in (1, 2, 3, 4, 5):
            site = gp_at(self.cpts, self.world.here, north=km, capacity=2)
            site.phone = f"03 21 44 55 0{km}"
            site.address_line2 = f"{km} rue du Marché"
            site.save()
            site.practitioner.email = f"dr{km}@exemple.fr"
            site.practitioner.last_name = f"MEDECIN{km}"
            site.practitioner.save()
            self.sites.append(site)
        self.gps = [s.practitioner for s in self.sites]
        self.coordinator = MembershipFactory(cpts=self.cpts, role="coordinator").user
        self.referrer = MembershipFactory(cpts=self.cpts, role="referrer").user
        self.request = waiting_request(
            self.cpts,
            self.world.here,
            channel="referral",
            referrer=self.referrer,
            referrer_attested_consent=True,
            email="foyer@exemple.fr",
            phone="+33612345678",
        )
        self.member = self.request.members.get()
        self.member.last_name = "Secret-Dupont"
        self.member.first_name = "Jeanne"
        self.member.save()
        HouseholdMemberFactory(
            request=self.request,
            first_name="Léo",
            last_name="Secret-Dupont",
            birth_date=timezone.localdate() - datetime.timedelta(days=3 * 365),
            is_contact_person=False,
        )

    def ask(self, *gps, by=None):
        """Ask these GPs for the household (solicitations_send), by the coordinator unless told."""
        return solicitations_send(
            request=self.request, practitioner_ids=[g.pk for g in gps], by=by or self.coordinator
        )
