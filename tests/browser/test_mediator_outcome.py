"""Rights followed through in a real browser (issue 12): the CPAM mediator opens a household of
their worklist, records "droits ouverts" (CSS and carte Vitale), and the household leaves the
worklist; the coordinator then finds the request in the queue with the mark "droits ouverts le
…". At phone width (390) and on a desktop (1280)."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accesmt.common.formats import long_date
from accesmt.intake.models import Request
from accesmt.intake.services import request_recompute_priority
from tests.accounts.factories import PASSWORD, MembershipFactory
from tests.intake.factories import HouseholdMemberFactory, RequestFactory
from tests.territory.factories import CommuneFactory, CPTSFactory, TerritoryCommuneFactory

from .conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DESKTOP = {"width": 1280, "height": 900}


def _world():
    cpts = CPTSFactory(name="CPTS Liévin Pays d'Artois", slug="lievin", email="coord@cpts.fr")
    commune = CommuneFactory(insee_code="62510", name="Liévin", artois=True)
    TerritoryCommuneFactory(cpts=cpts, commune=commune)
    mediator = MembershipFactory(cpts=cpts, role="cpam_mediator").user
    coordinator = MembershipFactory(cpts=cpts, role="coordinator").user
    since = timezone.now() - datetime.timedelta(days=20)
    request = RequestFactory(
        cpts=cpts,
        commune=commune,
        status="waiting",
        coverage="none",
        needs_rights_help=True,
        waiting_since=since,
        created_at=since,
    )
    HouseholdMemberFactory(request=request, last_name="Droits", is_contact_person=True)
    request_recompute_priority(request=request)
    return cpts, mediator, coordinator, request


def _login(page, base, url, user):
    page.goto(base + url)
    page.wait_for_url(re.compile(r"/compte/"))
    page.get_by_label("Adresse e-mail").fill(user.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("connecter", re.IGNORECASE)).click()
    page.wait_for_url(re.compile(re.escape(url)))


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_mediator_records_rights_opened_and_the_request_shows_in_the_queue(
    live_server, browser, viewport
):
    cpts, mediator, coordinator, request = _world()
    mobile = viewport is PHONE
    context = browser.new_context(viewport=viewport, locale="fr-FR", is_mobile=mobile)
    page = context.new_page()
    page.set_default_timeout(15_000)
    worklist = reverse("intake_staff:rights_help", kwargs={"cpts_slug": cpts.slug})
    _login(page, live_server.url, worklist, mediator)

    row = page.locator(f'table[data-worklist] tr[data-reference="{request.reference}"]')
    assert "Droits" in row.inner_text() and "aucune couverture" in row.inner_text()
    row.get_by_role("link", name=request.reference).click()
    page.wait_for_url(re.compile(re.escape(request.reference)))
    page.get_by_label("droits ouverts").check()
    page.get_by_label("complémentaire santé solidaire (CSS)").check()
    page.get_by_label("carte Vitale").check()
    page.get_by_label("Note (facultative)").fill("Dossier CSS accepté")
    if mobile:  # nothing wider than the phone screen
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url(re.compile(re.escape(worklist) + "$"))
    assert "Droits ouverts enregistrés" in page.content()
    assert page.locator(f'tr[data-reference="{request.reference}"]').count() == 0
    context.close()

    stored = Request.objects.get(pk=request.pk)
    assert not stored.needs_rights_help and stored.coverage == "css"

    context = browser.new_context(viewport=viewport, locale="fr-FR", is_mobile=mobile)
    page = context.new_page()
    page.set_default_timeout(15_000)
    queue = reverse("intake_staff:queue", kwargs={"cpts_slug": cpts.slug})
    _login(page, live_server.url, queue, coordinator)
    row = page.locator(f'table[data-queue] tr[data-reference="{request.reference}"]')
    mark = row.locator("[data-rights-mark]")
    assert mark.inner_text().strip() == f"droits ouverts le {long_date(timezone.localdate())}"
    assert mark.is_visible()
    context.close()
