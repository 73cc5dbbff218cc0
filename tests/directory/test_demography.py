"""Demography page: counts, departures, density, masking for observers."""

import datetime

from django.urls import reverse
from django.utils import timezone

from tests.accounts.factories import MembershipFactory

from .factories import AvailabilityDeclarationFactory, PracticeSiteFactory


def test_demography_counts_and_masks_for_observers(client, cpts, communes):
    communes["lievin"].population = 30000
    communes["lievin"].save()
    for _ in range(6):
        PracticeSiteFactory(commune=communes["lievin"])
    site = PracticeSiteFactory(commune=communes["avion"])
    AvailabilityDeclarationFactory(
        practitioner=site.practitioner,
        cpts=cpts,
        planned_departure_date=timezone.localdate() + datetime.timedelta(days=400),
    )
    url = reverse("directory:demography", kwargs={"cpts_slug": cpts.slug})
    client.force_login(MembershipFactory(cpts=cpts, role="coordinator").user)
    html = client.get(url).content.decode()
    assert "Dans les 12 prochains mois : 0" in html
    assert "Dans les 24 prochains mois : 1" in html
    assert "<td>2,0</td>" in html or "<td>2.0</td>" in html  # 6 GPs for 30,000 inhabitants
    client.force_login(MembershipFactory(cpts=cpts, role="observer").user)
    html = client.get(url).content.decode()
    assert "Dans les 24 prochains mois : &lt; 5" in html
    assert "<td>6</td>" in html


def test_referrer_cannot_see_demography(client, cpts):
    client.force_login(MembershipFactory(cpts=cpts, role="referrer").user)
    url = reverse("directory:demography", kwargs={"cpts_slug": cpts.slug})
    assert client.get(url).status_code == 404
