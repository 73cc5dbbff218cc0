import datetime

import pytest
from django.utils import timezone

from accesmt.intake.models import HomeVisits
from accesmt.intake.services import request_recompute_priority
from tests.accounts.factories import MembershipFactory
from tests.intake.conftest import territory  # noqa: F401  (fixture)
from tests.intake.factories import HouseholdMemberFactory, RequestFactory


@pytest.fixture
def cpts(territory):  # noqa: F811
    return territory["lievin"]


@pytest.fixture
def coordinator(cpts):
    return MembershipFactory(cpts=cpts, role="coordinator").user


@pytest.fixture
def coordinator_client(client, coordinator):
    client.force_login(coordinator)
    return client


def make_request(
    cpts,
    *,
    commune=None,
    days_waiting=1,
    birth_date=datetime.date(1980, 5, 17),
    last_name=None,
    home_visits=HomeVisits.NEVER,
    has_ald=False,
    members=1,
    **fields,
):
    """A request of `cpts` with its members and its stored priority."""
    since = timezone.now() - datetime.timedelta(days=days_waiting)
    if commune is None:
        commune = cpts.territory.order_by("commune__name").first().commune
    request = RequestFactory(
        cpts=cpts, commune=commune, waiting_since=since, created_at=since, **fields
    )
    for index in range(members):
        extra = {"last_name": last_name} if last_name and index == 0 else {}
        HouseholdMemberFactory(
            request=request,
            position=index,
            is_contact_person=index == 0,
            birth_date=birth_date,
            home_visits=home_visits if index == 0 else HomeVisits.NEVER,
            has_ald=has_ald if index == 0 else False,
            **extra,
        )
    request_recompute_priority(request=request)
    request.refresh_from_db()
    return request
