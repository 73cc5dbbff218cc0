import datetime

import pytest
from django.utils import timezone

from tests.accounts.factories import MembershipFactory
from tests.intake.factories import HouseholdMemberFactory
from tests.matching.territories import gp_at, two_cpts, waiting_request


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


@pytest.fixture
def o(db, settings):
    settings.PUBLIC_BASE_URL = "https://accesmt.example"
    return Orientation()
