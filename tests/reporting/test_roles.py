"""Who reaches the indicators and what they count: the observer (its CPTS, masked), the mairie
(its own communes only, masked), the platform admin (the region, every CPTS, unmasked)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import RequestFactory as HttpRequestFactory
from django.urls import reverse
from django.utils import timezone

from accesmt.accounts.models import Membership, Role
from accesmt.reporting.access import REPORTING_ROLES, scope_for
from accesmt.reporting.catalogue import SECTION_SLUGS
from accesmt.reporting.models import ReportingSettings
from accesmt.territory.services import cpts_create
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.intake.factories import HouseholdMemberFactory, RequestFactory
from tests.territory.factories import CommuneFactory, CPTSFactory, TerritoryCommuneFactory

pytestmark = pytest.mark.django_db
ZONE = timezone.get_current_timezone()
WHEN = datetime.datetime(2026, 5, 12, 10, tzinfo=ZONE)
MONTH = {"periode": "month", "debut": "2026-05-01"}


def households(cpts, commune, count, persons=1, when=WHEN):
    for _ in range(count):
        request = RequestFactory(cpts=cpts, commune=commune, created_at=when)
        for _ in range(persons):
            HouseholdMemberFactory(request=request)


@pytest.fixture
def lievin():
    """A CPTS of two communes: Liévin (7 households of 2 persons in May 2026, 3 in April) and
    Angres (9 households of 1 person in May 2026)."""
    cpts = CPTSFactory(name="CPTS de Liévin", slug="cpts-lievin")
    ReportingSettings.objects.create(cpts=cpts, aci_contract_start=datetime.date(2025, 4, 1))
    town = TerritoryCommuneFactory(cpts=cpts, commune__name="Liévin").commune
    other = TerritoryCommuneFactory(cpts=cpts, commune__name="Angres").commune
    households(cpts, town, 7, persons=2)
    households(cpts, town, 3, persons=2, when=datetime.datetime(2026, 4, 3, 9, tzinfo=ZONE))
    households(cpts, other, 9)
    cpts.town, cpts.other = town, other
    return cpts


def mairie_of(cpts, *communes):
    membership = MembershipFactory(cpts=cpts, role=Role.MAIRIE)
    membership.communes.set(communes)
    return membership


def summary(client, user, cpts, **query):
    client.force_login(user)
    url = reverse("reporting:indicators", kwargs={"cpts_slug": cpts.slug})
    response = client.get(url, query or MONTH)
    assert response.status_code == 200
    for result in response.context["results"]:
        if result["indicator"].code == "demand.summary":
            return {row[0]: row[1:3] for row in result["rows"]}
    raise AssertionError("no demand.summary")


def test_the_mairie_counts_the_households_of_its_communes_only(client, lievin):
    mairie = mairie_of(lievin, lievin.town)
    rows = summary(client, mairie.user, lievin)
    assert rows["Foyers inscrits"] == [7, "< 5"]  # April: 3 households in Liévin
    assert rows["Personnes inscrites"] == [14, 6]
    observer = MembershipFactory(cpts=lievin, role=Role.OBSERVER)
    rows = summary(client, observer.user, lievin)
    assert rows["Foyers inscrits"] == [16, "< 5"]
    assert rows["Personnes inscrites"] == [23, 6]


def test_the_mairie_of_the_other_commune_sees_its_own(client, lievin):
    rows = summary(client, mairie_of(lievin, lievin.other).user, lievin)
    assert rows["Foyers inscrits"] == [9, 0]
    both = mairie_of(lievin, lievin.town, lievin.other)
    assert summary(client, both.user, lievin)["Foyers inscrits"] == [16, "< 5"]


def test_a_mairie_without_communes_sees_nothing_rather_than_everything(client, lievin):
    rows = summary(client, mairie_of(lievin).user, lievin)
    assert rows["Foyers inscrits"] == [0, 0]


def test_scope_for_a_mairie_is_its_communes_always_masked(lievin):
    membership = mairie_of(lievin, lievin.town)
    http_request = HttpRequestFactory().get("/")
    http_request.cpts, http_request.membership = lievin, membership
    scope = scope_for(http_request)
    assert (scope.cpts, scope.communes, scope.masked) == (lievin, (lievin.town.pk,), True)
    assert list(scope.territory_communes()) == [lievin.town]
    http_request.membership = MembershipFactory(cpts=lievin, role=Role.COORDINATOR)
    assert scope_for(http_request).communes is None
    assert not scope_for(http_request).masked


def test_reporting_roles():
    assert set(REPORTING_ROLES) == {Role.COORDINATOR, Role.OBSERVER, Role.MAIRIE}


def indicator_urls(cpts):
    kwargs = {"cpts_slug": cpts.slug}
    return [
        reverse("reporting:indicators", kwargs=kwargs),
        reverse("reporting:catalogue", kwargs=kwargs),
        *(
            reverse("reporting:indicators_section", kwargs={**kwargs, "section_slug": slug})
            for slug in SECTION_SLUGS.values()
        ),
    ]


@pytest.mark.parametrize("role", [Role.OBSERVER, Role.MAIRIE])
def test_observer_and_mairie_reach_every_indicator_page_of_their_cpts_only(client, lievin, role):
    membership = MembershipFactory(cpts=lievin, role=role)
    if role == Role.MAIRIE:
        membership.communes.set([lievin.town])
    client.force_login(membership.user)
    for url in indicator_urls(lievin):
        response = client.get(url)
        assert response.status_code == 200, url
        if "results" in response.context:
            assert response.context["masked"] is True
    other = CPTSFactory()
    for url in indicator_urls(other):
        assert client.get(url).status_code == 404, url


def test_the_cpts_home_of_a_mairie_links_to_its_indicators_without_the_cpts_figures(client, lievin):
    client.force_login(mairie_of(lievin, lievin.town).user)
    response = client.get(reverse("reporting:cpts_home", kwargs={"cpts_slug": lievin.slug}))
    assert response.status_code == 200
    body = response.content.decode()
    assert reverse("reporting:indicators", kwargs={"cpts_slug": lievin.slug}) in body
    assert "data-indicators" not in body  # the CPTS's own figures, all communes together
    assert "mairie (indicateurs de ses communes)" in body


# The admin: a mairie lists communes of its CPTS's territory, and only a mairie does.


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(platform_admin=True))
    return client


def _membership_post(admin_client, user, cpts, role, communes):
    data = {
        "email": user.email,
        "first_name": "A",
        "last_name": "B",
        "is_active": "on",
        "date_joined_0": "01/01/2026",
        "date_joined_1": "10:00:00",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "0",
        "memberships-0-cpts": cpts.pk,
        "memberships-0-role": role,
        "memberships-0-profession": "",
        "memberships-0-is_active": "on",
        "memberships-0-communes": [c.pk for c in communes],
    }
    return admin_client.post(reverse("admin:accounts_user_change", args=[user.pk]), data)


def test_the_admin_keeps_a_mairie_inside_its_cpts_territory(admin_client, lievin):
    user = UserFactory()
    elsewhere = TerritoryCommuneFactory(commune__name="Arras-Témoin").commune
    response = _membership_post(admin_client, user, lievin, Role.MAIRIE, [lievin.town, elsewhere])
    assert response.status_code == 200
    assert "Hors du territoire de CPTS de Liévin : Arras-Témoin." in response.content.decode()
    response = _membership_post(admin_client, user, lievin, Role.MAIRIE, [])
    assert "Indiquez les communes de la mairie." in response.content.decode()
    response = _membership_post(admin_client, user, lievin, Role.OBSERVER, [lievin.town])
    assert "Seul le rôle mairie est limité à des communes." in response.content.decode()
    assert not Membership.objects.filter(user=user).exists()
    response = _membership_post(admin_client, user, lievin, Role.MAIRIE, [lievin.town])
    assert response.status_code == 302
    assert list(Membership.objects.get(user=user).communes.all()) == [lievin.town]


# The region: every CPTS together, for the platform admin only, counts as they are.


def region_url(section_slug=None):
    if section_slug is None:
        return reverse("reporting:region_indicators")
    return reverse("reporting:region_indicators_section", kwargs={"section_slug": section_slug})


def test_the_platform_admin_sees_every_cpts_together_unmasked(client, lievin):
    other = CPTSFactory(name="CPTS Voisine")
    households(other, TerritoryCommuneFactory(cpts=other).commune, 2, persons=3)
    client.force_login(UserFactory(platform_admin=True))
    response = client.get(region_url(), MONTH)
    assert response.status_code == 200
    assert response.context["masked"] is False
    rows = {r[0]: r[1:3] for r in response.context["results"][0]["rows"]}
    assert rows["Foyers inscrits"] == [18, 3]
    assert rows["Personnes inscrites"] == [29, 6]
    body = response.content.decode()
    assert reverse("reporting:region_catalogue") in body
    assert region_url("resultats") in body
    for slug in SECTION_SLUGS.values():
        assert client.get(region_url(slug)).status_code == 200
    assert client.get(region_url("inconnu")).status_code == 404
    assert client.get(reverse("reporting:region_catalogue")).status_code == 200


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.OBSERVER, Role.MAIRIE])
def test_the_region_is_for_the_platform_admin_only(client, lievin, role):
    client.force_login(MembershipFactory(cpts=lievin, role=role).user)
    for url in (region_url(), region_url("offre"), reverse("reporting:region_catalogue")):
        assert client.get(url).status_code == 404
    client.logout()
    response = client.get(region_url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_no_cpts_can_take_the_region_s_word():
    CommuneFactory(insee_code="80001")
    with pytest.raises(ValidationError) as error:
        cpts_create(name="CPTS Plateforme", slug="plateforme", insee_codes="80001")
    assert "slug" in error.value.message_dict
