"""Pro Santé Connect in a real browser (issue 14.4): a GP whose account holds their RPPS number
clicks « Se connecter avec Pro Santé Connect » on the login page, the local provider started by
the test sends them back with a code, and they land on their CPTS without any password, at
390×844 and 1280×900, with no horizontal scroll and no console error."""

import re

import pytest
from django.urls import reverse

from tests.accounts.factories import MembershipFactory
from tests.accounts.test_psc import CLIENT_ID, RPPS, Provider

from .conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.otp]
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def provider(settings, live_server):
    provider = Provider()
    settings.PSC_ENABLED = True
    settings.PSC_CLIENT_ID = CLIENT_ID
    settings.PSC_CLIENT_SECRET = "secret"  # noqa: S105
    settings.PSC_DISCOVERY_URL = f"{provider.issuer}/.well-known/openid-configuration"
    settings.PUBLIC_BASE_URL = live_server.url
    yield provider
    provider.server.shutdown()
    provider.server.server_close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_gp_logs_in_with_pro_sante_connect(live_server, browser, provider, viewport):
    membership = MembershipFactory(role="gp", user__rpps=RPPS)
    context = browser.new_context(viewport=viewport, locale="fr-FR", is_mobile=viewport is PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))

    page.goto(live_server.url + reverse("accounts:login"))
    button = page.get_by_role("link", name="Se connecter avec Pro Santé Connect")
    assert button.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    button.click()
    home = reverse("reporting:cpts_home", kwargs={"cpts_slug": membership.cpts.slug})
    page.wait_for_url(re.compile(re.escape(live_server.url + home)))
    assert page.get_by_role("button", name="Se déconnecter").first.is_visible()
    assert not errors, errors
    context.close()
