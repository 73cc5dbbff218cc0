"""Demand indicators over HTTP: each figure against a count written in the test, masked for an
observer."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accesmt.accounts.models import Role
from accesmt.reporting.models import ReportingSettings
from tests.accounts.factories import MembershipFactory
from tests.intake.factories import HouseholdMemberFactory, RequestFactory
from tests.territory.factories import CPTSFactory

pytestmark = pytest.mark.django_db
ZONE = timezone.get_current_timezone()


def at(year, month, day):
    return datetime.datetime(year, month, day, 10, tzinfo=ZONE)


def household(cpts, when, persons=1, **fields):
    request = RequestFactory(cpts=cpts, created_at=when, **fields)
    for _ in range(persons):
        HouseholdMemberFactory(request=request)
    return request


@pytest.fixture
def cpts():
    cpts = CPTSFactory()
    ReportingSettings.objects.create(cpts=cpts, aci_contract_start=datetime.date(2025, 4, 1))
    return cpts


def page(client, cpts, role, **query):
    membership = MembershipFactory(cpts=cpts, role=role)
    client.force_login(membership.user)
    return client.get(reverse("reporting:indicators", kwargs={"cpts_slug": cpts.slug}), query)


def rows_of(response, code):
    for result in response.context["results"]:
        if result["indicator"].code == code:
            return result["rows"]
    raise AssertionError(code)


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
    assert body.count("<svg") == 3
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
