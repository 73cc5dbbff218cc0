"""The home in a real browser at phone and desktop widths: a person types their postal code,
sees their CPTS and follows the link to its form; a name shared by several communes asks which
one (issue 13, point 1). No JavaScript is involved: a GET form."""

import re

import pytest
from django.urls import reverse

from tests.territory.factories import CommuneFactory, CPTSFactory, TerritoryCommuneFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _world():
    cpts = CPTSFactory(name="CPTS Liévin – Pays d'Artois", slug="cpts-lievin", phone="0321000000")
    lievin = CommuneFactory(insee_code="62510", name="Liévin", postcodes=["62800"])
    TerritoryCommuneFactory(cpts=cpts, commune=lievin)
    CommuneFactory(insee_code="62498", name="Lens", postcodes=["62300"])
    CommuneFactory(insee_code="26162", name="Lens-Lestang", postcodes=["26210"])
    return cpts


@pytest.mark.parametrize(
    "viewport", [{"width": 390, "height": 844}, {"width": 1280, "height": 900}]
)
def test_a_postal_code_leads_to_the_form_of_the_cpts(live_server, browser, viewport):
    _world()
    context = browser.new_context(locale="fr-FR", viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(live_server.url + reverse("territory:home"))

    field = page.get_by_label("Commune ou code postal")
    field.fill("62800")
    field.press("Enter")
    page.get_by_role("heading", name="Liévin (62800)").wait_for()
    link = page.get_by_role("link", name="Faire ma demande auprès de CPTS Liévin – Pays d'Artois")
    box = link.bounding_box()
    assert box["height"] >= 44 and box["x"] + box["width"] <= viewport["width"]
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"]  # nothing overflows sideways
    link.click()
    page.wait_for_url(re.compile(r"/cpts-lievin/inscription/\?commune=62510$"))
    # The commune chosen on the home page is already in the form.
    assert page.locator("input[name=postcode]").input_value() == "62800"
    assert page.get_by_role("heading", level=1).inner_text() == "Je cherche un médecin traitant"
    assert errors == []
    context.close()


def test_a_name_of_several_communes_asks_which_one(live_server, browser):
    _world()
    context = browser.new_context(locale="fr-FR", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + reverse("territory:home"))
    page.get_by_label("Commune ou code postal").fill("lens")
    page.get_by_role("button", name="Chercher ma CPTS").click()
    page.get_by_role("heading", name="2 communes correspondent").wait_for()
    page.get_by_role("link", name="Lens (62300)").click()
    page.get_by_role("heading", name="Lens (62300)").wait_for()
    assert "Aucune CPTS présente sur AccèsMT ne couvre encore Lens" in page.content()
    page.get_by_label("Commune ou code postal").fill("Atlantide")
    page.get_by_role("button", name="Chercher ma CPTS").click()
    error = page.locator("#id_q-error")
    error.wait_for()
    assert "Aucune commune ne correspond à « Atlantide »" in error.inner_text()
    assert page.get_by_label("Commune ou code postal").get_attribute("aria-invalid") == "true"
    context.close()
