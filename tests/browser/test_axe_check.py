"""The axe-core check of the browser tests (tests/browser/axe.py) finds what it must find: a
serious violation is reported with its rule, impact, target and page; a minor one is not; an
exemption with its reason skips its rule on its pages only; a page is recorded only when it was
shown after a GET."""

import pytest
from django.urls import reverse

from .axe import Exemption, violations_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
BAD = """<!doctype html><html lang="fr"><head><title>T</title></head><body><main>
<h1>Titre</h1><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<p style="color:#bbb;background:#fff">Texte pâle</p>
<h4>Niveau sauté</h4></main></body></html>"""


def test_serious_violations_are_listed_and_minor_ones_are_not(browser):
    page = browser.new_context().new_page()
    page.set_content(BAD)
    lines = violations_of(page, "1280")
    assert any(line == "image-alt (critical) blank @1280: img" for line in lines)
    assert any(line == "color-contrast (serious) blank @1280: p" for line in lines)
    assert not any(line.startswith("heading-order") for line in lines)  # moderate only

    exempt = [Exemption("image-alt", r"^blank$", "about:blank, a test page")]
    assert not any(line.startswith("image-alt") for line in violations_of(page, "390", exempt))
    elsewhere = [Exemption("image-alt", r"^/ailleurs/", "another page")]
    assert any(line.startswith("image-alt") for line in violations_of(page, "390", elsewhere))


def test_only_pages_shown_after_a_get_are_recorded(live_server, browser):
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    login = live_server.url + reverse("accounts:login")
    page.goto(login)
    page.get_by_label("Adresse e-mail").fill("personne@exemple.fr")
    page.get_by_label("Mot de passe").fill("pas-le-bon")
    page.get_by_role("button", name="Se connecter").click()  # a POST answered by the page (200)
    page.wait_for_load_state()
    page.goto(live_server.url + "/healthz")  # not HTML
    assert context.urls == [login]
