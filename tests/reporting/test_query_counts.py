"""The number of queries of every indicator page does not depend on the data: the same for a
small dataset and one ten times bigger (parametrized over the sections of the catalogue, so
that every indicator added later is covered)."""

import datetime
import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accesmt.accounts.models import Role
from accesmt.intake.models import Channel
from accesmt.reporting.catalogue import SECTION_SLUGS
from accesmt.reporting.models import (
    IndicatorSnapshot,  # noqa: E402
    ReportingSettings,
)
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.intake.factories import HouseholdMemberFactory, RequestFactory
from tests.territory.factories import CPTSFactory, TerritoryCommuneFactory

pytestmark = pytest.mark.django_db
ZONE = timezone.get_current_timezone()
QUERY = {"periode": "aci", "debut": "2026-06-01"}  # contract year 2026-04-01 → 2027-03-31


@pytest.fixture
def cpts():
    cpts = CPTSFactory()
    ReportingSettings.objects.create(cpts=cpts, aci_contract_start=datetime.date(2025, 4, 1))
    cpts.towns = [TerritoryCommuneFactory(cpts=cpts).commune for _ in range(3)]
    return cpts


_variety = itertools.count()


def add_households(cpts, count):
    """`count` households of one to three persons over the period and the previous one, in
    every commune, through every channel, some closed."""
    for _ in range(count):
        i = next(_variety)
        request = RequestFactory(
            cpts=cpts,
            commune=cpts.towns[i % 3],
            channel=[Channel.ONLINE, Channel.PHONE, Channel.API][i % 3],
            created_at=datetime.datetime(2025, 5, 1, 10, tzinfo=ZONE)
            + datetime.timedelta(days=(i * 37) % 600),
            **({"closed": True} if i % 4 == 0 else {}),
        )
        for _ in range(1 + i % 3):
            HouseholdMemberFactory(request=request)


def queries(client, url) -> int:
    # the region's default period is read from the worker's snapshot: count the computation
    IndicatorSnapshot.objects.all().delete()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, QUERY)
    assert response.status_code == 200
    return len(captured)


def cpts_url(cpts, slug):
    return reverse(
        "reporting:indicators_section", kwargs={"cpts_slug": cpts.slug, "section_slug": slug}
    )


def region_url(cpts, slug):
    return reverse("reporting:region_indicators_section", kwargs={"section_slug": slug})


@pytest.mark.parametrize("section_slug", list(SECTION_SLUGS.values()))
@pytest.mark.parametrize(
    ("viewer", "url_of"),
    [
        (Role.COORDINATOR, cpts_url),
        (Role.OBSERVER, cpts_url),
        (Role.MAIRIE, cpts_url),
        ("platform_admin", region_url),
    ],
    ids=["coordinator", "observer", "mairie", "region"],
)
def test_the_query_count_of_a_page_does_not_grow_with_the_data(
    client, cpts, section_slug, viewer, url_of
):
    if viewer == "platform_admin":
        user = UserFactory(platform_admin=True)
    else:
        membership = MembershipFactory(cpts=cpts, role=viewer)
        if viewer == Role.MAIRIE:
            membership.communes.set(cpts.towns[:2])
        user = membership.user
    client.force_login(user)
    url = url_of(cpts, section_slug)
    add_households(cpts, 6)
    small = queries(client, url)
    add_households(cpts, 54)
    assert queries(client, url) == small
