"""The GP's « foyers à prendre » (account and survey link share it): one button per household,
sorting, pagination, what happens next, the same households as the candidate ranking, and a
cost that does not grow with the queue (issue 13, point 5)."""

import datetime
import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accesmt.intake.models import Status
from accesmt.orientation import views
from accesmt.orientation.selectors import gp_candidate_for, gp_households_to_take
from accesmt.orientation.services import solicitations_send
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.intake.factories import HouseholdMemberFactory
from tests.territory.factories import CommuneFactory
from tests.worlds import gp_at, point_at, territory_with, two_cpts, waiting_request


def text(response) -> str:
    return " ".join(html.unescape(response.content.decode()).split())


def words(page: str) -> str:
    """The page's text without its tags, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def shown(page: str) -> list[str]:
    """References of the households offered, in the order of the page."""
    return re.findall(r'data-household="([^"]+)"', page)


@pytest.fixture
def gp_client(client, o):
    user = UserFactory(email=o.gps[0].email)
    MembershipFactory(cpts=o.cpts, user=user, role="gp")
    client.force_login(user)
    return client


@pytest.fixture
def url(o):
    return reverse("orientation:gp_households", kwargs={"cpts_slug": o.cpts.slug})


def test_each_household_has_its_own_button_and_taking_one_says_what_happens_next(gp_client, url, o):
    o.gps[0].declarations.update(monthly_capacity=5)
    other = waiting_request(o.cpts, o.world.here, north=2)
    page = text(gp_client.get(url))
    assert shown(page) == [o.request.reference, other.reference]
    assert page.count("Prendre ce foyer") == 2
    assert "Et maintenant ?" not in page
    # one household's own form: only that one is taken
    response = gp_client.post(url + "?tri=distance", {"request": [o.request.pk]})
    assert response.status_code == 302
    assert response["Location"] == f"{url}?tri=distance&pris=1"
    o.request.refresh_from_db()
    other.refresh_from_db()
    assert (o.request.status, other.status) == (Status.AWAITING_CHOICE, Status.WAITING)
    page = words(text(gp_client.get(response["Location"])))
    assert "Et maintenant ? Vous avez pris 1 foyer." in page
    assert "La personne reçoit aujourd'hui les coordonnées de votre cabinet" in page
    assert "ses coordonnées ne vous sont pas transmises" in page
    assert "vous recevez alors un e-mail" in page  # this GP has an e-mail
    assert "déclaration de choix du médecin traitant" in page
    assert page.count("Prendre ce foyer") == 1
    for secret in ("Secret-Dupont", "Jeanne", "foyer@exemple.fr"):
        assert secret not in page


def test_the_checked_households_can_still_be_taken_together(gp_client, url, o):
    o.gps[0].declarations.update(monthly_capacity=5)
    other = waiting_request(o.cpts, o.world.here, north=2)
    page = text(gp_client.get(url))
    assert 'form="take-checked"' in page and "Prendre les foyers cochés" in page
    response = gp_client.post(url, {"request": [o.request.pk, other.pk]})
    assert response["Location"] == f"{url}?pris=2"
    assert o.request.solicitations.get().practitioner == o.gps[0]
    assert other.solicitations.get().practitioner == o.gps[0]


def test_sorted_by_priority_by_default_or_by_distance(gp_client, url, o):
    # o.request: 1 km from the GP's practice, waiting for 10 days, not a priority
    urgent = waiting_request(o.cpts, o.world.here, north=5, days=30, priority=True)  # 4 km
    older = waiting_request(o.cpts, o.world.here, north=1, days=100)  # at the practice
    by_priority = text(gp_client.get(url))
    assert shown(by_priority) == [urgent.reference, older.reference, o.request.reference]
    assert 'aria-current="page">Trier par priorité' in by_priority
    by_distance = text(gp_client.get(url + "?tri=distance"))
    assert shown(by_distance) == [older.reference, o.request.reference, urgent.reference]
    assert "à 4,0 km de votre cabinet" in words(by_distance)
    assert 'aria-current="page">Trier par distance' in by_distance
    # an unknown sort is not passed to the database: the default order
    assert shown(text(gp_client.get(url + "?tri=-reference"))) == shown(by_priority)


def test_twenty_households_a_page_with_the_count(gp_client, url, o):
    for km in range(24):
        waiting_request(o.cpts, o.world.here, north=1 + km / 10, days=20 + km)
    first = text(gp_client.get(url))
    assert "25 foyers — Page 1 sur 2" in words(first)
    assert len(shown(first)) == 20
    second = text(gp_client.get(url + "?tri=priorite&page=2"))
    assert "25 foyers — Page 2 sur 2" in words(second)
    assert len(shown(second)) == 5
    assert set(shown(first)).isdisjoint(shown(second))
    assert o.request.reference in shown(second)  # the shortest wait comes last
    assert shown(text(gp_client.get(url + "?page=abc"))) == shown(first)
    assert shown(text(gp_client.get(url + "?page=99"))) == shown(second)


def test_above_the_count_cap_the_list_says_more_than_and_pages_on(gp_client, url, o, monkeypatch):
    """Counted up to GP_COUNT_CAP (decision 0029): beyond, « plus de », every page still reached
    and the last one counted exactly."""
    monkeypatch.setattr(views, "GP_COUNT_CAP", 4)
    monkeypatch.setattr(views, "GP_PAGE_SIZE", 2)
    for km in range(6):
        waiting_request(o.cpts, o.world.here, north=1 + km / 10, days=20 + km)
    first = words(text(gp_client.get(url)))
    assert "plus de 4 foyers — Page 1 sur plus de 2" in first
    pages = [shown(text(gp_client.get(f"{url}?page={n}"))) for n in (1, 2, 3, 4)]
    assert [len(p) for p in pages] == [2, 2, 2, 1]
    assert len({r for p in pages for r in p}) == 7
    assert "7 foyers — Page 4 sur 4" in words(text(gp_client.get(url + "?page=4")))
    assert shown(text(gp_client.get(url + "?page=40"))) == pages[3]  # past the end: the last


def test_the_page_costs_the_same_queries_whatever_the_number_of_waiting_households(
    gp_client, url, o
):
    with CaptureQueriesContext(connection) as one:
        assert len(shown(text(gp_client.get(url)))) == 1
    for km in range(30):
        waiting_request(o.cpts, o.world.here, north=km / 10, priority=km % 3 == 0)
    with CaptureQueriesContext(connection) as many:
        page = text(gp_client.get(url))
    assert len(shown(page)) == 20
    assert len(many) == len(one)


def test_the_survey_link_page_has_the_same_buttons(client, o):
    from accesmt.directory.survey import invitation_token, survey_campaign_launch

    campaign = survey_campaign_launch(cpts=o.cpts, title="Enquête", reminder_after_days=7)
    invitation = campaign.invitations.get(practitioner=o.gps[1])
    url = reverse("orientation:gp_households_link", kwargs={"token": invitation_token(invitation)})
    assert shown(text(client.get(url))) == [o.request.reference]
    response = client.post(url, {"request": [o.request.pk]}, follow=True)
    assert "Et maintenant ? Vous avez pris 1 foyer." in words(text(response))
    assert o.request.solicitations.get().practitioner == o.gps[1]


@pytest.mark.django_db
def test_the_list_holds_exactly_the_households_the_candidate_ranking_gives_this_gp():
    """The SQL filter and the candidate index (`gp_candidate_for`, which `household_take`
    checks) agree household by household: profiles, places, distance, home-visit zone."""
    world = two_cpts()
    cpts, here = world.cpts, world.here
    zone_lat, zone_lon = point_at(6, 0)
    zone = CommuneFactory(latitude=zone_lat, longitude=zone_lon)
    territory_with(cpts, zone)
    site = gp_at(
        cpts,
        here,
        capacity=3,
        accepts_children_under_6=False,
        accepts_aged_70_plus=False,
        accepts_home_visits=True,
        home_visit_radius_km=3,
    )
    gp = site.practitioner
    gp.declarations.get().home_visit_communes.add(zone)
    today = timezone.localdate()

    def household(name, *, north=1.0, commune=here, members=(), **fields):
        request = waiting_request(cpts, commune, north=north, **fields)
        for member in members:
            HouseholdMemberFactory(request=request, **member)
        return name, request

    child = {"birth_date": today - datetime.timedelta(days=3 * 365)}
    senior = {"birth_date": today - datetime.timedelta(days=75 * 365)}
    visits = {"home_visits": "occasionally"}
    adult = {"birth_date": datetime.date(1990, 1, 1)}
    households = dict(
        [
            household("adult nearby"),
            household("with a child", members=[child]),
            household("aged 75", members=[senior]),
            household("too far", north=20),
            household("visits within the radius", north=2, members=[visits]),
            household("visits in a zone commune", north=6, commune=zone, members=[visits]),
            household("visits outside the zone", north=6, members=[visits]),
            household("four persons", members=[adult, adult, adult]),
            household("three persons", members=[adult, adult]),
            household("CSS", coverage="css"),
            household("ALD", members=[{"has_ald": True}]),
            household("held for a transfer plan", held_for_transfer=True),
            household("already asked"),
            household("no own point"),
        ]
    )
    no_point = households["no own point"]
    type(no_point).objects.filter(pk=no_point.pk).update(latitude=None, longitude=None)
    solicitations_send(request=households["already asked"], practitioner_ids=[gp.pk])

    places_left, listed = gp_households_to_take(gp, cpts)
    listed = {r.pk for r in listed}
    expected = {
        "adult nearby",
        "visits within the radius",
        "visits in a zone commune",
        "three persons",
        "CSS",
        "ALD",
        "no own point",
    }
    assert places_left == 3
    assert {name for name, r in households.items() if r.pk in listed} == expected
    oracle = {
        r.pk
        for name, r in households.items()
        if name not in ("held for a transfer plan", "already asked")
        and gp_candidate_for(gp, r) is not None
    }
    assert listed == oracle
