"""The public GP map in a real browser: Leaflet from the local package draws one focusable,
titled marker per listed GP beside the list, under the strict CSP, without any outside request
(MAP_TILE_URL is empty in the test settings: no tiles, a plain background)."""

import pytest
from django.urls import reverse

from tests.directory.factories import (
    AvailabilityDeclarationFactory,
    PracticeSiteFactory,
    territory_with,
)
from tests.territory.factories import CommuneFactory, CPTSFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _world():
    lievin = CommuneFactory(insee_code="62510", name="Liévin", latitude=50.4228, longitude=2.7786)
    avion = CommuneFactory(insee_code="62065", name="Avion", latitude=50.4102, longitude=2.8342)
    cpts = territory_with(CPTSFactory(name="CPTS Liévin", slug="lievin"), lievin, avion)
    listed = {}
    for index, (name, commune) in enumerate(
        [("CARTOGRAPHE", lievin), ("BOUSSOLE", avion), ("MERIDIEN", avion)]
    ):
        site = PracticeSiteFactory(
            commune=commune,
            practitioner__last_name=name,
            latitude=commune.latitude + 0.003 * index,
            longitude=commune.longitude,
            geocode_source="address",
        )
        AvailabilityDeclarationFactory(practitioner=site.practitioner, cpts=cpts)
        listed[name] = f"{site.practitioner.display_name} — {commune.name}"
    hidden = PracticeSiteFactory(commune=avion, practitioner__last_name="INVISIBLE")
    AvailabilityDeclarationFactory(
        practitioner=hidden.practitioner, cpts=cpts, listing="not_listed"
    )
    return cpts, listed


def test_public_map_draws_one_marker_per_listed_gp_beside_the_list(live_server, browser):
    cpts, listed = _world()
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems, errors, outside = [], [], []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "request",
        lambda request: (
            not request.url.startswith(live_server.url)
            and not request.url.startswith("data:")
            and outside.append(request.url)
        ),
    )

    page.goto(live_server.url + reverse("directory:public_list", kwargs={"cpts_slug": cpts.slug}))
    page.locator("[data-map-ready]").wait_for()

    region = page.get_by_role("region", name="Carte des médecins de la liste")
    assert region.is_visible()
    assert page.locator(".leaflet-container").count() == 1
    markers = page.locator(".leaflet-marker-icon")
    assert markers.count() == len(listed)
    assert markers.first.get_attribute("src").endswith("/static/leaflet/images/marker-icon.png")
    assert markers.first.evaluate("img => img.complete && img.naturalWidth") > 0  # loaded
    titles = sorted(markers.nth(i).get_attribute("title") for i in range(markers.count()))
    assert titles == sorted(listed.values())
    assert all(markers.nth(i).get_attribute("tabindex") == "0" for i in range(markers.count()))
    # Keyboard: a focused marker opens its popup with Enter.
    markers.first.focus()
    page.keyboard.press("Enter")
    page.locator(".leaflet-popup-content").wait_for()
    assert "Nouveaux patients" in page.locator(".leaflet-popup-content").inner_text()

    # The list is still the primary content, with every listed GP and no unlisted one.
    cards = page.locator(".map-list > li.card")
    assert cards.count() == len(listed)
    text = page.locator(".map-list").inner_text().upper()
    assert all(name in text for name in listed) and "INVISIBLE" not in text

    assert outside == []
    assert [p for p in problems if "Content Security Policy" in p] == []
    assert errors == []  # no JavaScript exception
    context.close()
