"""The coordinator's queue in a real browser (issue 13.3): the requests are on the first screen
(search box, folded filters and counts above them), the reference does not wrap, and checking
requests then « Marquer vérifiées » moves them. At 390×844 and 1280×900."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accesmt.intake.models import Request, Status
from accesmt.intake.services import request_recompute_priority
from tests.accounts.factories import PASSWORD, MembershipFactory
from tests.intake.factories import HouseholdMemberFactory, RequestFactory
from tests.territory.factories import CommuneFactory, CPTSFactory, TerritoryCommuneFactory

from .conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DESKTOP = {"width": 1280, "height": 900}
ROWS = 14


def _world():
    cpts = CPTSFactory(name="CPTS Liévin Pays d'Artois", slug="lievin", email="coord@cpts.fr")
    commune = CommuneFactory(insee_code="62510", name="Liévin", artois=True)
    TerritoryCommuneFactory(cpts=cpts, commune=commune)
    coordinator = MembershipFactory(cpts=cpts, role="coordinator").user
    requests = []
    for index in range(ROWS):
        since = timezone.now() - datetime.timedelta(days=40 - index)
        request = RequestFactory(cpts=cpts, commune=commune, waiting_since=since, created_at=since)
        HouseholdMemberFactory(
            request=request,
            is_contact_person=True,
            has_ald=index % 3 == 0,
            birth_date=datetime.date(1945 if index % 4 == 0 else 1985, 3, 1),
        )
        request_recompute_priority(request=request)
        requests.append(request)
    return cpts, coordinator, requests


def _login(page, base, url, user):
    page.goto(base + url)
    page.wait_for_url(re.compile(r"/compte/"))
    page.get_by_label("Adresse e-mail").fill(user.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("connecter", re.IGNORECASE)).click()
    page.wait_for_url(re.compile(re.escape(url)))


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_rows_on_the_first_screen_then_check_and_mark_verified(live_server, browser, viewport):
    cpts, coordinator, requests = _world()
    mobile = viewport is PHONE
    context = browser.new_context(viewport=viewport, locale="fr-FR", is_mobile=mobile)
    page = context.new_page()
    page.set_default_timeout(15_000)
    queue = reverse("intake_staff:queue", kwargs={"cpts_slug": cpts.slug})
    _login(page, live_server.url, queue, coordinator)

    rows = page.locator("table[data-queue] tbody tr")
    assert rows.count() == ROWS
    first = rows.first.bounding_box()
    assert first["y"] < viewport["height"], first
    assert (
        page.get_by_role("searchbox", name="Rechercher une demande").bounding_box()["y"]
        < first["y"]
    )
    if (
        not mobile
    ):  # at least nine whole rows on a desktop's first screen (the tenth ends near 915 px)
        ninth = rows.nth(8).bounding_box()
        assert ninth["y"] + ninth["height"] <= viewport["height"], ninth
    else:  # the table scrolls in its own focusable region, never the page
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        region = page.get_by_role("region", name=re.compile("Liste des demandes"))
        assert region.get_attribute("tabindex") == "0"
    reference = rows.first.locator("th a")
    assert reference.evaluate("a => getComputedStyle(a).whiteSpace") == "nowrap"
    box = reference.bounding_box()
    line = reference.evaluate("a => parseFloat(getComputedStyle(a).lineHeight)")
    assert box["height"] < 1.5 * line  # one line

    # the filters are folded, their summary says which apply
    assert not page.get_by_label("Commune", exact=True).is_visible()
    assert "à traiter" in page.locator(".queue-filters summary").inner_text()

    # check two requests, then « Marquer vérifiées »
    checked = [Request.objects.get(reference=ref) for ref in _first_references(page, 2)]
    for request in checked:
        page.get_by_label(f"Cocher la demande {request.reference}").check()
    page.get_by_role("button", name="Marquer vérifiées").click()
    page.wait_for_url(re.compile(re.escape(queue)))
    assert "2 demandes marquées vérifiées" in page.content()
    for request in checked:
        request.refresh_from_db()
        assert request.status == Status.WAITING
    others = Request.objects.exclude(pk__in=[r.pk for r in checked])
    assert set(others.values_list("status", flat=True)) == {Status.NEW}

    # « Tout cocher » (JavaScript) checks the whole page
    page.get_by_label("Tout cocher sur cette page").check()
    assert page.locator("input[data-check]:checked").count() == ROWS
    context.close()


def _first_references(page, count):
    return [
        page.locator("table[data-queue] tbody tr").nth(index).get_attribute("data-reference")
        for index in range(count)
    ]
