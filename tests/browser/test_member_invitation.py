"""Members managed in the product (issue 13), in a real browser at phone width (390) and on a
desktop (1280): the coordinator invites a pharmacist from the members page; the e-mail goes
through the outbox to the local SMTP server; the pharmacist opens its link, chooses a password
and lands on the CPTS, logged in; the members page then shows them active."""

import re

import pytest
from django.urls import reverse

from accesmt.notifications.delivery import deliver_due
from tests.accounts.factories import PASSWORD, MembershipFactory
from tests.messages import link_in
from tests.territory.factories import CommuneFactory, CPTSFactory, TerritoryCommuneFactory

from .conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DESKTOP = {"width": 1280, "height": 900}
NEW_PASSWORD = "Officine-Lievin-2026"


def _session(browser, viewport):
    context = browser.new_context(viewport=viewport, locale="fr-FR", is_mobile=viewport is PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def _fits(page, viewport):
    if viewport is PHONE:  # nothing wider than the phone screen
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_coordinator_invites_a_pharmacist_who_sets_a_password_and_lands_on_the_cpts(
    live_server, browser, viewport, smtp_server, settings
):
    settings.PUBLIC_BASE_URL = live_server.url
    cpts = CPTSFactory(name="CPTS Liévin", slug="lievin")
    TerritoryCommuneFactory(cpts=cpts, commune=CommuneFactory(name="Liévin", artois=True))
    coordinator = MembershipFactory(cpts=cpts, role="coordinator").user
    members = reverse("members:list", kwargs={"cpts_slug": cpts.slug})

    # 1. The coordinator invites the pharmacist.
    context, page = _session(browser, viewport)
    page.goto(live_server.url + members)
    page.get_by_label("Adresse e-mail").fill(coordinator.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("connecter", re.IGNORECASE)).click()
    page.wait_for_url(re.compile(re.escape(members) + "$"))
    page.get_by_role("link", name="Inviter un professionnel").click()
    _fits(page, viewport)
    page.get_by_label("Adresse e-mail").fill("officine.centre@exemple.fr")
    page.get_by_label("Prénom").fill("Inès")
    page.get_by_label("Nom", exact=True).fill("Durand")
    page.get_by_label("Rôle").select_option("referrer")
    page.get_by_role("button", name="Envoyer l'invitation").click()
    # A referrer without a profession: refused next to the field, nothing lost.
    error = page.locator("#id_profession-error")
    assert "Indiquez la profession" in error.inner_text()
    assert page.get_by_label("Adresse e-mail").input_value() == "officine.centre@exemple.fr"
    page.get_by_label("Profession").select_option("pharmacien")
    page.get_by_role("button", name="Envoyer l'invitation").click()
    page.wait_for_url(re.compile(re.escape(members) + "$"))
    assert (
        "Invitation envoyée à officine.centre@exemple.fr" in page.locator(".messages").inner_text()
    )
    row = page.get_by_role("row", name=re.compile("Inès Durand"))
    assert "invité, pas encore accepté" in row.inner_text()
    _fits(page, viewport)
    context.close()

    # 2. The e-mail, delivered by the outbox worker, carries the link.
    assert deliver_due().sent == 1
    [message] = smtp_server.messages
    assert message["To"] == "officine.centre@exemple.fr"
    link = link_in(message, "/compte/invitation/", base=live_server.url)

    # 3. The pharmacist opens it, chooses a password and lands on the CPTS.
    context, page = _session(browser, viewport)
    page.goto(live_server.url + link)
    page.get_by_role("heading", name="Choisir votre mot de passe").wait_for()
    _fits(page, viewport)
    page.get_by_label("Nouveau mot de passe", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirmation du nouveau mot de passe").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Activer mon compte").click()
    home = reverse("reporting:cpts_home", kwargs={"cpts_slug": cpts.slug})
    page.wait_for_url(re.compile(re.escape(home) + "$"))
    assert "CPTS Liévin" in page.get_by_role("heading", level=1).inner_text()
    page.get_by_role("link", name=re.compile("Orienter un patient", re.IGNORECASE)).wait_for()
    context.close()
