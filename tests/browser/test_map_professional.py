"""The professionals' GP map in a real browser, for a logged-in referrer: the GP listed for
professionals only is on the map too, and the popup gives the monthly capacity (which the
public map never shows)."""

import re

import pytest
from django.urls import reverse

from tests.accounts.factories import PASSWORD, MembershipFactory
from tests.directory.factories import (
    AvailabilityDeclarationFactory,
    PracticeSiteFactory,
    territory_with,
)
from tests.territory.factories import CommuneFactory, CPTSFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_professional_map_adds_the_professionals_only_gp_and_the_capacity(live_server, browser):
    lievin = CommuneFactory(insee_code="62510", name="Liévin", latitude=50.4228, longitude=2.7786)
    cpts = territory_with(CPTSFactory(name="CPTS Liévin", slug="lievin"), lievin)
    for name, listing, offset in (("PUBLICA", "public", 0.0), ("RESERVA", "professionals", 0.01)):
        site = PracticeSiteFactory(
            commune=lievin,
            practitioner__last_name=name,
            latitude=50.4228 + offset,
            longitude=2.7786,
            geocode_source="address",
        )
        AvailabilityDeclarationFactory(
            practitioner=site.practitioner, cpts=cpts, listing=listing, monthly_capacity=6
        )
    referrer = MembershipFactory(cpts=cpts, role="referrer").user

    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    target = reverse("directory:professional_list", kwargs={"cpts_slug": cpts.slug})
    page.goto(live_server.url + target)
    page.wait_for_url(re.compile(r"/compte/"))
    page.get_by_label("Adresse e-mail").fill(referrer.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("connecter", re.IGNORECASE)).click()
    page.wait_for_url(re.compile(re.escape(target)))

    page.locator("[data-map-ready='2']").wait_for()
    marker = page.locator(".leaflet-marker-icon[title*='RESERVA']")
    marker.focus()
    page.keyboard.press("Enter")
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "Environ 6 par mois" in popup.inner_text()
    # The popup links back to the GP's card in the list.
    popup.get_by_role("link", name="Voir dans la liste").click()
    assert page.evaluate("document.activeElement.id").startswith("medecin-")
    assert "RESERVA" in page.evaluate("document.activeElement.innerText")
    assert [p for p in problems if "Content Security Policy" in p] == []
    context.close()
