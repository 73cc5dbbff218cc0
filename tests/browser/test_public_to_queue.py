"""From the flyer's QR code to the coordinator's queue, in a real browser at phone size:
a 78-year-old registers, sees the acknowledgment and reference, then the coordinator logs in
and finds the request at the top of the queue, before an older request, because it is
prioritaire."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accesmt.intake.models import Request
from accesmt.territory.models import PostalCode
from tests.accounts.factories import PASSWORD, MembershipFactory
from tests.browser.axe import DETAIL_HISTORY_TABLE_PENDING
from tests.intake.factories import HouseholdMemberFactory, RequestFactory
from tests.territory.factories import CommuneFactory, CPTSFactory, TerritoryCommuneFactory

from .conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _world():
    cpts = CPTSFactory(name="CPTS Liévin Pays d'Artois", slug="lievin", phone="03 21 00 00 00")
    commune = CommuneFactory(insee_code="62510", name="Liévin", artois=True)
    PostalCode.objects.create(code="62800", commune=commune)
    TerritoryCommuneFactory(cpts=cpts, commune=commune)
    coordinator = MembershipFactory(cpts=cpts, role="coordinator").user
    long_ago = timezone.now() - datetime.timedelta(days=60)
    older = RequestFactory(cpts=cpts, commune=commune, waiting_since=long_ago, created_at=long_ago)
    HouseholdMemberFactory(request=older, birth_date=datetime.date(1990, 1, 1))
    return cpts, coordinator, older


@DETAIL_HISTORY_TABLE_PENDING
def test_public_registration_then_top_of_the_queue(live_server, browser):
    cpts, coordinator, older = _world()
    today = timezone.localdate()
    birth = datetime.date(today.year - 78, 3, 14)
    context = browser.new_context(viewport=PHONE, locale="fr-FR", is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(15_000)

    page.goto(live_server.url + reverse("intake:register", kwargs={"cpts_slug": cpts.slug}))
    assert "médecin traitant" in page.title()
    page.get_by_label("Téléphone").fill("06 12 34 56 78")
    page.get_by_label("Adresse (numéro et rue)").fill("8 rue de la Gare")
    page.get_by_label("Code postal").fill("62800")
    page.get_by_label("Prénom").fill("Marcelle")
    page.get_by_label("Nom", exact=True).fill("Navigateur")
    page.get_by_label("Date de naissance").fill(birth.isoformat())
    page.get_by_label("Pourquoi cherchez-vous un médecin traitant ?").select_option("mt_retired")
    page.locator("input[name=consent_processing]").check()
    page.locator("input[name=consent_sharing]").check()
    # Nothing wider than the phone screen (no horizontal scrolling on the form).
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_role("button", name="Envoyer ma demande").click()

    page.wait_for_url(re.compile(r"/inscription/merci/$"))
    reference = page.locator("[data-reference]").inner_text().strip()
    assert re.fullmatch(r"MT-[0-9A-Z]{4}-[0-9A-Z]{4}", reference)
    assert "Votre demande est enregistrée" in page.content()
    stored = Request.objects.get(reference=reference)
    assert stored.is_priority and stored.waiting_since > older.waiting_since
    context.close()

    # The coordinator, on their own phone.
    context = browser.new_context(viewport=PHONE, locale="fr-FR", is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    queue = reverse("intake_staff:queue", kwargs={"cpts_slug": cpts.slug})
    page.goto(live_server.url + queue)
    page.wait_for_url(re.compile(r"/compte/"))
    page.get_by_label("Adresse e-mail").fill(coordinator.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("connecter", re.IGNORECASE)).click()
    page.wait_for_url(re.compile(re.escape(queue)))

    rows = page.locator("table[data-queue] tbody tr")
    assert rows.count() == 2
    first = rows.nth(0)
    assert first.get_attribute("data-reference") == reference
    assert "prioritaire" in first.inner_text()
    assert f"Personne de {78} ans" in first.inner_text()
    assert rows.nth(1).get_attribute("data-reference") == older.reference

    first.get_by_role("link", name=reference).click()
    page.wait_for_url(re.compile(re.escape(reference)))
    assert page.get_by_role("heading", name=f"Demande {reference}").is_visible()
    assert "Navigateur" in page.content()
    context.close()
