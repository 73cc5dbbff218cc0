"""Second factor in a real browser (issue 14.3): a coordinator logs in, is sent to the
enrolment page, types the key into an "application" (computed here), gets the recovery codes,
then logs in again with a code. At 390×844 and 1280×900, no horizontal scroll, no console
error (CSP: the QR code is a data: image)."""

import base64
import re

import pytest
from django.urls import reverse
from django_otp.oath import totp

from tests.accounts.factories import PASSWORD, MembershipFactory

from .conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.otp]
DESKTOP = {"width": 1280, "height": 900}


def _code(secret: str, drift: int = 0) -> str:
    key = secret.replace(" ", "")
    return f"{totp(base64.b32decode(key + '=' * (-len(key) % 8)), drift=drift):06d}"


def _password(page, base, user):
    page.goto(base + reverse("accounts:login"))
    page.get_by_label("Adresse e-mail").fill(user.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_enrol_then_log_in_with_a_code(live_server, browser, viewport):
    membership = MembershipFactory(role="coordinator")
    context = browser.new_context(viewport=viewport, locale="fr-FR", is_mobile=viewport is PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))

    _password(page, live_server.url, membership.user)
    page.wait_for_url(re.compile("/compte/double-authentification/"))
    assert page.get_by_role("heading", level=1).inner_text() == "Activer la double authentification"
    qr = page.get_by_role("img", name=re.compile("QR code"))
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    secret = page.locator("code.otp-secret").inner_text()
    page.get_by_label("Code à 6 chiffres de votre application").fill(_code(secret))
    page.get_by_role("button", name="Activer").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Double authentification activée"
    assert page.locator("ul.otp-codes li").count() == 10
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.get_by_role("button", name="Se déconnecter").first.click()

    _password(page, live_server.url, membership.user)
    page.wait_for_url(re.compile("/compte/verification/"))
    field = page.get_by_label("Code à 6 chiffres ou code de secours")
    field.fill(_code(secret, drift=1))  # the next code: the first one is already used
    page.get_by_role("button", name="Valider").click()
    home = reverse("reporting:cpts_home", kwargs={"cpts_slug": membership.cpts.slug})
    page.wait_for_url(re.compile(re.escape(home)))
    assert not errors, errors
    context.close()
