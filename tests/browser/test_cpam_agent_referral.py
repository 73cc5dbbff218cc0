"""Working with the Assurance Maladie in a real browser (issue 12), at phone width (390) and on a
desktop (1280): a CPAM agent logs in and refers a patient through `orienter/` (attesting the
person's consent), who has no coverage and needs help with their rights; the coordinator finds
the request in the queue with the CPAM as its source; the CPAM mediator finds the household on
their worklist and records "droits ouverts"; the coordinator sees the request back in the queue
with the mark "droits ouverts le …", still from the CPAM."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accesmt.common.formats import long_date
from accesmt.intake.models import Request
from accesmt.territory.models import PostalCode
from tests.accounts.factories import PASSWORD, MembershipFactory
from tests.territory.factories import CommuneFactory, CPTSFactory, TerritoryCommuneFactory

from .conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DESKTOP = {"width": 1280, "height": 900}
CPAM_SOURCE = "orientation par l'Assurance Maladie (CPAM)"


def _world():
    cpts = CPTSFactory(name="CPTS Liévin Pays d'Artois", slug="lievin", email="coord@cpts.fr")
    commune = CommuneFactory(insee_code="62510", name="Liévin", artois=True)
    PostalCode.objects.create(code="62800", commune=commune)
    TerritoryCommuneFactory(cpts=cpts, commune=commune)
    agent = MembershipFactory(cpts=cpts, role="cpam_agent", profession="cpam").user
    mediator = MembershipFactory(cpts=cpts, role="cpam_mediator", profession="cpam").user
    coordinator = MembershipFactory(cpts=cpts, role="coordinator").user
    return cpts, agent, mediator, coordinator


def _session(browser, viewport):
    context = browser.new_context(viewport=viewport, locale="fr-FR", is_mobile=viewport is PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def _login(page, base, url, user):
    page.goto(base + url)
    page.wait_for_url(re.compile(r"/compte/"))
    page.get_by_label("Adresse e-mail").fill(user.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("connecter", re.IGNORECASE)).click()
    page.wait_for_url(re.compile(re.escape(url)))


def _fits(page, viewport):
    if viewport is PHONE:  # nothing wider than the phone screen
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _queue_row(browser, viewport, base, cpts, coordinator, reference):
    context, page = _session(browser, viewport)
    queue = reverse("intake_staff:queue", kwargs={"cpts_slug": cpts.slug})
    _login(page, base, queue, coordinator)
    row = page.locator(f'table[data-queue] tr[data-reference="{reference}"]')
    return context, page, row


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_cpam_agent_refers_and_the_mediators_outcome_comes_back_to_the_queue(
    live_server, browser, viewport
):
    cpts, agent, mediator, coordinator = _world()
    base = live_server.url
    birth = datetime.date(timezone.localdate().year - 52, 6, 2)

    # 1. The CPAM agent refers the person, with their consent.
    context, page = _session(browser, viewport)
    refer = reverse("intake:refer", kwargs={"cpts_slug": cpts.slug})
    _login(page, base, refer, agent)
    page.get_by_label("Téléphone").fill("06 12 34 56 78")
    page.get_by_label("Adresse (numéro et rue)").fill("12 rue Thiers")
    page.get_by_label("Code postal").fill("62800")
    page.get_by_label("Couverture sociale").select_option("none")
    page.locator("input[name=needs_rights_help]").check()
    page.get_by_label("Prénom").fill("Odile")
    page.get_by_label("Nom", exact=True).fill("Assurée")
    page.get_by_label("Date de naissance").fill(birth.isoformat())
    page.get_by_label("Pourquoi cherchez-vous un médecin traitant ?").select_option("mt_retired")
    _fits(page, viewport)
    submit = page.get_by_role("button", name="Enregistrer l'orientation")
    submit.click()
    # without the attestation nothing is recorded: the message says why, next to the box
    assert page.get_by_text("Cochez l'attestation").first.is_visible()
    assert not Request.objects.exists()
    page.locator("input[name=attestation]").check()
    page.get_by_role("button", name="Enregistrer l'orientation").click()
    page.wait_for_url(re.compile(r"/mes-orientations/$"))
    request = Request.objects.get()
    assert request.referrer == agent and request.referred_by_cpam
    assert request.referrer_attested_consent and request.needs_rights_help
    assert request.reference in page.content()
    context.close()

    # 2. The coordinator finds it in the queue, from the CPAM.
    context, page, row = _queue_row(browser, viewport, base, cpts, coordinator, request.reference)
    assert CPAM_SOURCE in row.inner_text()
    assert row.locator("[data-rights-mark]").count() == 0
    _fits(page, viewport)
    context.close()

    # 3. The mediator records "droits ouverts" from their worklist.
    context, page = _session(browser, viewport)
    worklist = reverse("intake_staff:rights_help", kwargs={"cpts_slug": cpts.slug})
    _login(page, base, worklist, mediator)
    row = page.locator(f'table[data-worklist] tr[data-reference="{request.reference}"]')
    assert "Assurée" in row.inner_text() and "aucune couverture" in row.inner_text()
    row.get_by_role("link", name=request.reference).click()
    page.wait_for_url(re.compile(re.escape(request.reference)))
    page.get_by_label("droits ouverts").check()
    page.get_by_label("complémentaire santé solidaire (CSS)").check()
    _fits(page, viewport)
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url(re.compile(re.escape(worklist) + "$"))
    assert "Droits ouverts enregistrés" in page.content()
    assert page.locator(f'tr[data-reference="{request.reference}"]').count() == 0
    context.close()
    stored = Request.objects.get(pk=request.pk)
    assert not stored.needs_rights_help and stored.coverage == "css"

    # 4. Back in the coordinator's queue, with its mark, still from the CPAM.
    context, page, row = _queue_row(browser, viewport, base, cpts, coordinator, request.reference)
    mark = row.locator("[data-rights-mark]")
    assert mark.inner_text().strip() == f"droits ouverts le {long_date(timezone.localdate())}"
    assert mark.is_visible()
    assert CPAM_SOURCE in row.inner_text()
    _fits(page, viewport)
    context.close()
