"""Demand indicators over HTTP: each figure against a count written in the test, masked for an
observer."""

import datetime

import pytest
from django.urls import reverse

from accesmt.accounts.models import Role
from accesmt.reporting.models import ReportingSettings
from tests.accounts.factories import MembershipFactory
from tests.intake.factories import HouseholdMemberFactory
from tests.reporting.helpers import ZONE, at, household, page, rows_of, table
from tests.territory.factories import CPTSFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cpts():
    cpts = CPTSFactory()
    ReportingSettings.objects.create(cpts=cpts, aci_contract_start=datetime.date(2025, 4, 1))
    return cpts


def test_summary_counts_the_period_and_the_previous_one(client, cpts):
    # contract year 2026-04-01 → 2027-03-31; previous 2025-04-01 → 2026-03-31
    household(cpts, at(2026, 4, 1), persons=3, is_priority=True, priority_rule_count=1)
    household(cpts, at(2026, 11, 30), persons=2, channel="phone")
    for _ in range(6):
        household(cpts, at(2025, 6, 1))
    household(cpts, at(2026, 5, 1), closed=True, closed_reason="duplicate")
    household(cpts, at(2024, 12, 31))  # before both periods
    response = page(client, cpts, Role.COORDINATOR, periode="aci", debut="2026-06-01")
    assert response.status_code == 200
    rows = {row[0]: row[1:] for row in rows_of(response, "demand.summary")}
    assert rows["Foyers inscrits"] == [2, 6, -66.7]
    assert rows["Personnes inscrites"] == [5, 6, -16.7]
    assert rows["Foyers prioritaires"][:2] == [1, 0]


def test_observer_sees_small_counts_masked_and_the_page_has_charts(client, cpts):
    household(cpts, at(2026, 4, 2), persons=2, channel="phone")
    for _ in range(7):
        household(cpts, at(2026, 4, 3))
    response = page(client, cpts, Role.OBSERVER, periode="month", debut="2026-04-10")
    rows = {row[0]: row[1:] for row in rows_of(response, "demand.channels")}
    assert rows["saisie téléphonique"] == ["< 5", "—", 0, "—"]
    assert rows["formulaire en ligne"][0] == 7
    body = response.content.decode()
    assert body.count("<svg") == len(response.context["results"]) > 3
    assert "&lt; 5" in body


def test_bad_period_is_said_next_to_the_field_and_the_contract_year_shown(client, cpts):
    response = page(client, cpts, Role.COORDINATOR, periode="custom", debut="2026-02-01")
    assert response.status_code == 200
    assert response.context["period"].kind == "aci"
    assert 'id="fin-error"' in response.content.decode()


@pytest.mark.parametrize("role", [Role.REFERRER, Role.GP, Role.CPAM_MEDIATOR])
def test_other_roles_do_not_see_indicators(client, cpts, role):
    assert page(client, cpts, role).status_code == 404


def test_catalogue_lists_every_definition(client, cpts):
    from accesmt.reporting.catalogue import all_indicators

    membership = MembershipFactory(cpts=cpts, role=Role.OBSERVER)
    client.force_login(membership.user)
    response = client.get(reverse("reporting:catalogue", kwargs={"cpts_slug": cpts.slug}))
    body = response.content.decode()
    for item in all_indicators():
        assert f'id="{item.anchor}"' in body
        assert item.formula.split(" ")[0] in body


def referred(cpts, when, profession=None, *, other_cpts=None):
    """A household referred by a professional whose membership in `cpts` (or `other_cpts`) has
    `profession`."""
    membership = MembershipFactory(
        cpts=other_cpts or cpts, role=Role.REFERRER, profession=profession or "medecin"
    )
    return household(
        cpts, when, channel="referral", referrer=membership.user, referrer_attested_consent=True
    )


def test_households_by_referrer_profession(client, cpts):
    from tests.territory.factories import CPTSFactory as OtherCPTS

    for _ in range(2):
        referred(cpts, at(2026, 5, 1), "pharmacien")
    referred(cpts, at(2026, 6, 1), "infirmier")
    referred(cpts, at(2026, 7, 1), other_cpts=OtherCPTS())  # no membership here: "autre"
    household(cpts, at(2026, 7, 2))  # online: not referred
    referred(cpts, at(2025, 7, 1), "kine")  # previous contract year
    response = page(client, cpts, Role.COORDINATOR, debut="2026-04-01")
    rows = table(response, "demand.referrer_professions")
    assert rows["pharmacien·ne"] == [2, 50.0, 0, 0.0]
    assert rows["infirmier·ère"] == [1, 25.0, 0, 0.0]
    assert rows["autre"] == [1, 25.0, 0, 0.0]
    assert rows["masseur-kinésithérapeute"] == [0, 0.0, 1, 100.0]
    observer = table(
        page(client, cpts, Role.OBSERVER, debut="2026-04-01"), "demand.referrer_professions"
    )
    assert observer["pharmacien·ne"] == ["< 5", "—", 0, "—"]


def test_priority_by_rule_counts_a_household_once_per_rule(client, cpts):
    from accesmt.intake.models import RequestPriorityReason

    def fired(request, *codes):
        for code in codes:
            RequestPriorityReason.objects.create(request=request, rule_code=code)

    both = household(cpts, at(2026, 5, 1), persons=2, is_priority=True, priority_rule_count=2)
    fired(both, "senior", "senior", "ald")  # two seniors in the household: counted once
    fired(household(cpts, at(2026, 6, 1), is_priority=True, priority_rule_count=1), "ald")
    for _ in range(2):
        household(cpts, at(2026, 6, 2))
    duplicate = household(cpts, at(2026, 6, 3), closed=True, closed_reason="duplicate")
    fired(duplicate, "ald")
    response = page(client, cpts, Role.COORDINATOR, debut="2026-04-01")
    rows = table(response, "demand.priority_rules")
    assert rows["Personne âgée"] == [1, 25.0, 0, "—"]
    assert rows["Affection de longue durée (ALD)"] == [2, 50.0, 0, "—"]
    assert rows["Handicap"] == [0, 0.0, 0, "—"]
    observer = table(page(client, cpts, Role.OBSERVER, debut="2026-04-01"), "demand.priority_rules")
    assert observer["Affection de longue durée (ALD)"] == ["< 5", "—", 0, "—"]


def test_reasons_and_home_visits(client, cpts):
    for _ in range(5):
        household(cpts, at(2026, 5, 1), reason="mt_retired")
    household(cpts, at(2026, 5, 2), reason="moved_in", persons=0)
    request = household(cpts, at(2026, 5, 3), reason="never_had", persons=0)
    for visits in ("occasionally", "exclusively", "exclusively"):
        HouseholdMemberFactory(request=request, home_visits=visits)
    household(cpts, at(2025, 5, 3), reason="moved_in")
    response = page(client, cpts, Role.COORDINATOR, debut="2026-04-01")
    rows = table(response, "demand.reasons")
    assert rows["mon médecin traitant est parti à la retraite ou a cessé son activité"] == [
        5,
        71.4,
        0,
        0.0,
    ]
    assert rows["je viens d'emménager sur le territoire"] == [1, 14.3, 1, 100.0]
    assert rows["je n'ai jamais eu de médecin traitant"] == [1, 14.3, 0, 0.0]
    visits = table(response, "demand.home_visits")
    assert visits == {
        "non": [5, 62.5, 1, 100.0],
        "oui, de temps en temps": [1, 12.5, 0, 0.0],
        "oui, uniquement à domicile": [2, 25.0, 0, 0.0],
    }
    observer = page(client, cpts, Role.OBSERVER, debut="2026-04-01")
    assert table(observer, "demand.reasons")["je viens d'emménager sur le territoire"] == [
        "< 5",
        "—",
        "< 5",
        "—",
    ]
    assert table(observer, "demand.home_visits")["non"] == [5, 62.5, "< 5", "—"]


def test_ages_at_registration_and_sex(client, cpts):
    request = household(cpts, at(2026, 5, 10), persons=0)
    for born, sex in [
        (datetime.date(2021, 5, 11), "F"),  # 4 (birthday tomorrow)
        (datetime.date(2020, 5, 10), "M"),  # 6 today
        (datetime.date(1956, 5, 10), "F"),  # 70 today
        (datetime.date(1956, 5, 11), "M"),  # 69
        (datetime.date(1940, 1, 1), ""),  # 86
        (datetime.date(1990, 1, 1), "F"),  # 36
    ]:
        HouseholdMemberFactory(request=request, birth_date=born, sex=sex)
    # registered at 00:30 in Paris (22:30 UTC the day before): 70 on the local day
    midnight = datetime.datetime(2026, 6, 10, 0, 30, tzinfo=ZONE)
    HouseholdMemberFactory(
        request=household(cpts, midnight, persons=0), birth_date=datetime.date(1956, 6, 10), sex="F"
    )
    response = page(client, cpts, Role.COORDINATOR, debut="2026-04-01")
    rows = table(response, "demand.ages")
    assert rows["0 à 5 ans"] == [1, 0, 0, 1, 14.3]
    assert rows["6 à 17 ans"] == [0, 1, 0, 1, 14.3]
    assert rows["18 à 39 ans"] == [1, 0, 0, 1, 14.3]
    assert rows["40 à 59 ans"] == [0, 0, 0, 0, 0.0]
    assert rows["60 à 69 ans"] == [0, 1, 0, 1, 14.3]
    assert rows["70 à 79 ans"] == [2, 0, 0, 2, 28.6]
    assert rows["80 ans et plus"] == [0, 0, 1, 1, 14.3]
    assert rows["total"] == [4, 2, 1, 7, 100.0]
    observer = table(page(client, cpts, Role.OBSERVER, debut="2026-04-01"), "demand.ages")
    assert observer["70 à 79 ans"] == ["< 5", 0, 0, "< 5", "—"]
    assert observer["total"] == ["< 5", "< 5", "< 5", 7, 100.0]


def test_persons_per_thousand_inhabitants_of_every_commune(client, cpts):
    from tests.directory.factories import territory_with
    from tests.territory.factories import CommuneFactory

    big = CommuneFactory(name="Grandville", population=2000)
    small = CommuneFactory(name="Petitbourg", population=500)
    quiet = CommuneFactory(name="Calmeval", population=1000)
    territory_with(cpts, big, small, quiet)
    household(cpts, at(2026, 5, 1), persons=6, commune=big)
    household(cpts, at(2026, 5, 1), persons=1, commune=small)
    household(cpts, at(2025, 5, 1), persons=3, commune=quiet)  # previous year
    response = page(client, cpts, Role.COORDINATOR, debut="2026-04-01")
    rows = rows_of(response, "demand.communes")
    assert rows == [
        ["Grandville", 6, 2000, 3.0],
        ["Petitbourg", 1, 500, 2.0],
        ["Calmeval", 0, 1000, 0.0],
    ]
    observer = rows_of(page(client, cpts, Role.OBSERVER, debut="2026-04-01"), "demand.communes")
    # the hidden rate goes last: its place among the others would give it away
    assert observer == [
        ["Grandville", 6, 2000, 3.0],
        ["Calmeval", 0, 1000, 0.0],
        ["Petitbourg", "< 5", 500, "—"],
    ]


def varied_households(cpts, count):
    """`count` households of every kind over 2026: referred, priority, asked, found, closed…"""
    from accesmt.intake.models import RequestPriorityReason
    from tests.directory.factories import PractitionerFactory
    from tests.reporting.helpers import asked, closed, placed

    gp = PractitionerFactory()
    referrer = MembershipFactory(cpts=cpts, role=Role.REFERRER, profession="pharmacien").user
    for index in range(count):
        when = at(2026, 4 + index % 8, 1 + index % 28)
        kind = index % 4
        if kind == 0:
            request = household(
                cpts,
                when,
                persons=2,
                channel="referral",
                referrer=referrer,
                referrer_attested_consent=True,
                is_priority=True,
                priority_rule_count=1,
            )
            RequestPriorityReason.objects.create(request=request, rule_code="ald")
        elif kind == 1:
            request = closed(cpts, when, when + datetime.timedelta(days=20 + index))
            placed(request, gp)
        elif kind == 2:
            request = closed(cpts, when, when + datetime.timedelta(days=9), "unreachable")
        else:
            request = household(cpts, when, status="waiting", coverage="css")
        asked(request, when + datetime.timedelta(days=index % 7), PractitionerFactory())


@pytest.mark.parametrize("section", ["demande", "resultats", "aci"])
def test_a_section_page_runs_the_same_number_of_queries_for_3_or_30_households(client, section):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counted = []
    for count in (3, 30):
        cpts = CPTSFactory()
        ReportingSettings.objects.create(cpts=cpts, aci_contract_start=datetime.date(2025, 4, 1))
        varied_households(cpts, count)
        client.force_login(MembershipFactory(cpts=cpts, role=Role.OBSERVER).user)
        url = reverse(
            "reporting:indicators_section", kwargs={"cpts_slug": cpts.slug, "section_slug": section}
        )
        client.get(url, {"debut": "2026-04-01"})  # the session is written on the first visit
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, {"debut": "2026-04-01"}).status_code == 200
        counted.append(len(queries))
    assert counted[0] == counted[1], counted


def test_ages_of_anonymised_people_come_from_their_year_or_band(client, cpts):
    """Issue 14: an anonymised person has a birth year, a 5- or 10-year band, or nothing
    (intake/coarsening.py); the ages table still counts everyone."""
    request = household(cpts, at(2026, 5, 10), persons=0)
    for year, span in [(1956, 1), (1950, 5), (1950, 10), (None, None)]:
        HouseholdMemberFactory(
            request=request, birth_date=None, birth_year=year, birth_year_span=span, sex=""
        )
    HouseholdMemberFactory(request=request, birth_date=datetime.date(1990, 1, 1), sex="F")
    rows = table(page(client, cpts, Role.COORDINATOR, debut="2026-04-01"), "demand.ages")
    # 2026 − 1956 = 70; 2026 − 1952 (middle of 1950–1954) = 74; 2026 − 1954 (1950–1959) = 72.
    assert rows["70 à 79 ans"] == [0, 0, 3, 3, 60.0]
    assert rows["18 à 39 ans"] == [1, 0, 0, 1, 20.0]
    assert rows["âge non conservé (anonymisé)"] == [0, 0, 1, 1, 20.0]
    assert rows["total"] == [1, 0, 4, 5, 100.0]
