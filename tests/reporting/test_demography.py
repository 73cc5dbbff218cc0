"""The GPs' demography page (moved from the directory to reporting): ages, GPs per 10,000
inhabitants by commune, departures declared, as of today; small counts masked for observers."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accesmt.accounts.models import Role
from accesmt.reporting.periods import add_months
from tests.accounts.factories import MembershipFactory
from tests.directory.factories import (
    AvailabilityDeclarationFactory,
    PracticeSiteFactory,
    PractitionerFactory,
    territory_with,
)
from tests.territory.factories import CommuneFactory, CPTSFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    lievin = CommuneFactory(name="Liévin", population=30000)
    avion = CommuneFactory(name="Avion", population=17000)
    cpts = territory_with(CPTSFactory(), lievin, avion)
    year = timezone.localdate().year
    for age in (30, 45, 55, 61, 70, 72):
        PracticeSiteFactory(practitioner=PractitionerFactory(birth_year=year - age), commune=lievin)
    PracticeSiteFactory(practitioner=PractitionerFactory(gone=True), commune=lievin)
    site = PracticeSiteFactory(commune=avion, practitioner__age_band="60_64")
    today = timezone.localdate()
    AvailabilityDeclarationFactory(
        practitioner=site.practitioner,
        cpts=cpts,
        planned_departure_date=today + datetime.timedelta(days=400),
    )
    expired = PracticeSiteFactory(commune=lievin).practitioner
    AvailabilityDeclarationFactory(
        practitioner=expired,
        cpts=cpts,
        expired=True,
        planned_departure_date=add_months(today, 2),
    )
    return cpts


def page(client, cpts, role):
    client.force_login(MembershipFactory(cpts=cpts, role=role).user)
    return client.get(reverse("reporting:demography", kwargs={"cpts_slug": cpts.slug}))


def tables(response):
    return {
        result["indicator"].code: {str(row[0]): row[1:] for row in result["rows"]}
        for result in response.context["results"]
    }


def test_coordinator_sees_every_count(client, world):
    response = page(client, world, Role.COORDINATOR)
    assert response.status_code == 200
    found = tables(response)
    # Liévin: six aged GPs and the GP without age (the one gone is not counted); Avion: one.
    assert found["offer.age_bands"] == {
        "moins de 40 ans": [1, 12.5],
        "40 à 49 ans": [1, 12.5],
        "50 à 59 ans": [1, 12.5],
        "60 à 64 ans": [2, 25.0],
        "65 ans et plus": [2, 25.0],
        "âge non renseigné": [1, 12.5],
        "ensemble des médecins": [8, 100.0],
    }
    assert found["offer.by_commune"] == {
        "Avion": [17000, 1, 0.59, 17000],
        "Liévin": [30000, 7, 2.33, 4286],
        "ensemble du territoire": [47000, 8, 1.7, 5875],
    }
    # The departure in 400 days, and the one in two months of an expired declaration: a
    # declared date stays the GP's last word until they change it (issue 11).
    assert found["offer.departures"] == {
        "dans les 12 prochains mois": [1, 12.5],
        "dans les 24 prochains mois": [2, 25.0],
        "dans les 36 prochains mois": [2, 25.0],
    }
    body = response.content.decode()
    assert body.count("<svg") == 4  # with the projection's
    assert "Démographie des médecins généralistes" in body


def test_observer_sees_small_counts_masked(client, world):
    found = tables(page(client, world, Role.OBSERVER))
    assert found["offer.by_commune"]["Avion"] == [17000, "< 5", "—", "—"]
    assert found["offer.by_commune"]["Liévin"] == [30000, 7, 2.33, 4286]
    assert found["offer.departures"]["dans les 24 prochains mois"] == ["< 5", "—"]
    assert found["offer.age_bands"]["ensemble des médecins"] == [8, 100.0]


@pytest.mark.parametrize("role", [Role.REFERRER, Role.GP, Role.CPAM_MEDIATOR])
def test_other_roles_cannot_see_demography(client, world, role):
    assert page(client, world, role).status_code == 404


def test_the_cpts_home_links_to_the_page_at_the_same_address(client, world):
    url = reverse("reporting:demography", kwargs={"cpts_slug": world.slug})
    assert url == f"/espace/{world.slug}/demographie/"
    client.force_login(MembershipFactory(cpts=world, role=Role.COORDINATOR).user)
    home = client.get(reverse("reporting:cpts_home", kwargs={"cpts_slug": world.slug}))
    assert url in home.content.decode()
