"""The professionals' space: /espace/ and a CPTS home, as each kind of user sees them."""

import re

import pytest
from django.urls import reverse

from tests.accounts.factories import MembershipFactory, UserFactory
from tests.territory.factories import CPTSFactory, TerritoryCommuneFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def lievin():
    cpts = CPTSFactory(name="CPTS Liévin-Lens Ouest", slug="lievin")
    for population in (30000, 12500, 2500):
        TerritoryCommuneFactory(cpts=cpts, commune__population=population)
    return cpts


def test_espace_lists_the_user_cpts_and_role(client, lievin):
    other = CPTSFactory(name="CPTS Artois")
    membership = MembershipFactory(cpts=lievin, role="referrer", profession="kine")
    MembershipFactory(user=membership.user, cpts=other, role="observer")
    MembershipFactory(user=membership.user, cpts=CPTSFactory(name="CPTS Quittée"), is_active=False)
    client.force_login(membership.user)
    page = client.get(reverse("reporting:espace")).content.decode()
    assert "CPTS Liévin-Lens Ouest" in page and "masseur-kinésithérapeute" in page
    assert "CPTS Artois" in page and "observateur (indicateurs agrégés)" in page
    assert "CPTS Quittée" not in page
    assert reverse("reporting:cpts_home", kwargs={"cpts_slug": "lievin"}) in page


def test_espace_without_membership_says_so(client):
    client.force_login(UserFactory())
    assert "aucune CPTS active" in client.get(reverse("reporting:espace")).content.decode()


def test_platform_admin_sees_every_cpts(client, lievin):
    CPTSFactory(name="CPTS Artois")
    client.force_login(UserFactory(platform_admin=True))
    page = client.get(reverse("reporting:espace")).content.decode()
    assert "CPTS Liévin-Lens Ouest" in page and "CPTS Artois" in page
    assert "administrateur de la plateforme" in page


def test_cpts_home_shows_territory_aggregates(client, lievin):
    client.force_login(MembershipFactory(cpts=lievin, role="observer").user)
    page = client.get(
        reverse("reporting:cpts_home", kwargs={"cpts_slug": "lievin"})
    ).content.decode()
    assert "CPTS Liévin-Lens Ouest" in page
    assert "3 communes," in page
    assert re.search(r"45\W000 habitants", page)
    # Observers get aggregates only: no link to the members.
    assert reverse("members:list", kwargs={"cpts_slug": "lievin"}) not in page


def test_coordinator_manages_the_members(client, lievin):
    coordinator = MembershipFactory(cpts=lievin, role="coordinator").user
    gp = MembershipFactory(cpts=lievin, role="gp", user__last_name="Lefebvre")
    MembershipFactory(cpts=CPTSFactory(), role="gp", user__last_name="Ailleurs")
    client.force_login(coordinator)
    home = client.get(
        reverse("reporting:cpts_home", kwargs={"cpts_slug": "lievin"})
    ).content.decode()
    members_url = reverse("members:list", kwargs={"cpts_slug": "lievin"})
    assert members_url in home
    page = client.get(members_url).content.decode()
    assert "Lefebvre" in page and gp.user.email in page and "médecin généraliste" in page
    assert "Ailleurs" not in page


def test_members_list_runs_a_fixed_number_of_queries(client, lievin, django_assert_max_num_queries):
    coordinator = MembershipFactory(cpts=lievin, role="coordinator").user
    MembershipFactory.create_batch(20, cpts=lievin, role="gp")
    client.force_login(coordinator)
    with django_assert_max_num_queries(8):
        client.get(reverse("members:list", kwargs={"cpts_slug": "lievin"}))


@pytest.mark.parametrize(
    ("role", "profession", "shown", "hidden"),
    [
        ("coordinator", "", ["intake_staff:queue", "intake_staff:rights_help"], []),
        ("referrer", "pharmacien", ["intake:refer"], ["intake_staff:queue"]),
        # the CPAM roles refer patients (issue 12); the agent has no rights-help list
        (
            "cpam_mediator",
            "",
            ["intake_staff:rights_help", "intake:refer"],
            ["intake_staff:queue"],
        ),
        ("cpam_agent", "", ["intake:refer"], ["intake_staff:queue", "intake_staff:rights_help"]),
        ("observer", "", [], ["intake_staff:queue", "intake:refer", "intake_staff:rights_help"]),
    ],
)
def test_cpts_home_links_only_the_pages_of_the_role(
    client, lievin, role, profession, shown, hidden
):
    client.force_login(MembershipFactory(cpts=lievin, role=role, profession=profession).user)
    page = client.get(
        reverse("reporting:cpts_home", kwargs={"cpts_slug": "lievin"})
    ).content.decode()
    for name in shown:
        assert reverse(name, kwargs={"cpts_slug": "lievin"}) in page
    for name in hidden:
        assert reverse(name, kwargs={"cpts_slug": "lievin"}) not in page


def test_cpts_home_counts_persons_and_places_in_persons(client):
    from tests.intake.factories import HouseholdMemberFactory
    from tests.worlds import gp_at, two_cpts, waiting_request

    w = two_cpts()
    gp_at(w.cpts, w.here, capacity=4)
    gp_at(w.cpts, w.here, north=1, capacity=0, accepting="no")
    family = waiting_request(w.cpts, w.here, priority=True)
    HouseholdMemberFactory(request=family)
    HouseholdMemberFactory(request=family)
    waiting_request(w.other, w.there)  # another CPTS: not counted
    client.force_login(MembershipFactory(cpts=w.cpts, role="coordinator").user)
    page = client.get(reverse("reporting:cpts_home", kwargs={"cpts_slug": w.cpts.slug}))
    text = " ".join(page.content.decode().split())
    assert "1 (3 personnes), dont 1 prioritaire" in text
    assert "Places libres ce mois-ci chez les médecins (une place par personne)" in text
    assert "4 places chez 1 médecin" in text
