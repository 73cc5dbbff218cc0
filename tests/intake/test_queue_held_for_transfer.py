"""The coordinator's queue leaves out the requests held for a transfer plan (decision 0017):
the « à traiter » count agrees with its list, while a state's own filter still shows and counts
them."""

import re

import pytest
from django.urls import reverse

from tests.accounts.factories import MembershipFactory
from tests.worlds import two_cpts, waiting_request

pytestmark = pytest.mark.django_db


def _count(page: str, value: str) -> int:
    match = re.search(rf'<option value="{value}"[^>]*>[^<]*\((\d+)\)</option>', page)
    assert match, value
    return int(match.group(1))


def test_open_count_excludes_held_requests(client):
    world = two_cpts()
    free = [waiting_request(world.cpts, world.here, days=d) for d in (3, 5)]
    held = waiting_request(world.cpts, world.here, days=8, held_for_transfer=True)
    client.force_login(MembershipFactory(cpts=world.cpts, role="coordinator").user)
    url = reverse("intake_staff:queue", kwargs={"cpts_slug": world.cpts.slug})

    page = client.get(url).content.decode()
    assert held.reference not in page
    assert all(r.reference in page for r in free)
    assert _count(page, "open") == 2  # was 3: the held request was counted, not listed
    assert _count(page, "waiting") == 3  # the state's own filter lists it

    page = client.get(url, {"status": "waiting"}).content.decode()
    assert held.reference in page
