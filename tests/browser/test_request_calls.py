"""The request page in a real browser (issue 13, point 4): the coordinator logs a call (« message
laissé ») with a call-back date, sees it at the top of the timeline, finds the household in the
list « Foyers à rappeler », and a destructive action asks for a confirmation that « Annuler »
leaves unused. At phone width (390) and on a desktop (1280), without any script of ours."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accesmt.common.formats import long_date, short_date
from accesmt.intake.models import ContactNote, Request
from accesmt.intake.services import request_recompute_priority
from tests.accounts.factories import MembershipFactory
from tests.intake.factories import HouseholdMemberFactory, RequestFactory
from tests.territory.factories import CommuneFactory, CPTSFactory, TerritoryCommuneFactory

from .conftest import PHONE
from .test_mediator_outcome import DESKTOP, _login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _world():
    cpts = CPTSFactory(name="CPTS Liévin Pays d'Artois", slug="lievin")
    commune = CommuneFactory(insee_code="62510", name="Liévin", artois=True)
    TerritoryCommuneFactory(cpts=cpts, commune=commune)
    coordinator = MembershipFactory(
        cpts=cpts, role="coordinator", user__first_name="Camille", user__last_name="Durand"
    ).user
    since = timezone.now() - datetime.timedelta(days=20)
    request = RequestFactory(
        cpts=cpts, commune=commune, status="waiting", waiting_since=since, created_at=since
    )
    HouseholdMemberFactory(request=request, last_name="Appel", is_contact_person=True)
    request_recompute_priority(request=request)
    return cpts, coordinator, request


def _fits(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_log_a_call_with_a_call_back_and_find_it_in_the_list(live_server, browser, viewport):
    cpts, coordinator, request = _world()
    mobile = viewport is PHONE
    context = browser.new_context(viewport=viewport, locale="fr-FR", is_mobile=mobile)
    context.set_default_timeout(15_000)
    page = context.new_page()
    detail = reverse(
        "intake_staff:request_detail",
        kwargs={"cpts_slug": cpts.slug, "reference": request.reference},
    )
    _login(page, live_server.url, detail, coordinator)

    call_back_on = timezone.localdate() + datetime.timedelta(days=2)
    page.get_by_text("Noter un appel", exact=True).click()  # <details>: no script needed
    page.get_by_label("message laissé").check()
    page.get_by_label("Note (facultative)").fill("Rappeler après 17 h")
    page.get_by_label("Rappeler le (facultatif)").fill(call_back_on.isoformat())
    if mobile:
        _fits(page)
    page.get_by_role("button", name="Enregistrer l'appel").click()
    page.wait_for_url(re.compile(re.escape(detail) + "#historique$"))
    assert f"Appel noté pour {request.reference}." in page.content()
    first = page.locator("[data-timeline] > li").first
    assert first.is_visible()
    entry = first.inner_text()
    assert "Appel : message laissé" in entry and "Rappeler après 17 h" in entry
    assert "Camille Durand" in entry
    assert f"Rappeler le {long_date(call_back_on)}" in entry
    if mobile:
        _fits(page)
    note = ContactNote.objects.get()
    assert (note.outcome, note.call_back_on, note.by) == ("message_left", call_back_on, coordinator)

    page.get_by_role("link", name="Foyers à rappeler").first.click()
    page.wait_for_url(re.compile(r"/a-rappeler/$"))
    row = page.locator(f'table[data-call-backs] tr[data-reference="{request.reference}"]')
    assert short_date(call_back_on) in row.inner_text()
    assert "message laissé" in row.inner_text()
    if mobile:
        _fits(page)
    row.get_by_role("link", name=request.reference).click()
    page.wait_for_url(re.compile(re.escape(detail)))

    # A destructive action is apart and confirmed: « Annuler » changes nothing.
    page.get_by_role("button", name="Clôturer la demande…").click()
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == f"Clôturer la demande {request.reference}\u00a0?"
    assert page.get_by_label("Motif de clôture").is_visible()
    if mobile:
        _fits(page)
    page.get_by_role("link", name="Annuler").click()
    page.wait_for_url(re.compile(re.escape(detail) + "$"))
    assert Request.objects.get(pk=request.pk).status == "waiting"
    context.close()
