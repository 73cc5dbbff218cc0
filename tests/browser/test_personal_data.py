"""A person's rights in a real browser (issue 14.1): from the follow-up link, see all the data,
download the JSON, erase; the link then says the request was erased. At phone width (390) and on
a desktop (1280)."""

import json
import re
from pathlib import Path

import pytest

from accesmt.intake.models import HouseholdMember, Request
from accesmt.intake.services import followup_path
from tests.intake.factories import HouseholdMemberFactory, RequestFactory
from tests.territory.factories import CommuneFactory, CPTSFactory, TerritoryCommuneFactory

from .conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DESKTOP = {"width": 1280, "height": 900}


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_person_sees_downloads_and_erases_their_data(live_server, browser, viewport):
    cpts = CPTSFactory(name="CPTS Liévin Pays d'Artois", slug="lievin", email="coord@cpts.fr")
    commune = CommuneFactory(insee_code="62510", name="Liévin", artois=True)
    TerritoryCommuneFactory(cpts=cpts, commune=commune)
    request = RequestFactory(cpts=cpts, commune=commune, status="waiting", email="")
    HouseholdMemberFactory(request=request, first_name="Léontine", last_name="Vasseur")
    context = browser.new_context(
        viewport=viewport, locale="fr-FR", is_mobile=viewport is PHONE, accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + followup_path(request))

    page.get_by_role("link", name="Voir toutes mes données").click()
    page.wait_for_url(re.compile("mes-donnees/$"))
    assert page.get_by_role("heading", name="Toutes mes données").is_visible()
    assert "Léontine" in page.content() and "Vasseur" in page.content()
    if viewport is PHONE:  # nothing wider than the phone screen
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger (JSON)").click()
    download = download_info.value
    assert download.suggested_filename == f"donnees-{request.reference}.json"
    data = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert data["members"][0]["first_name"] == "Léontine"

    page.get_by_role("link", name="Effacer mes données").click()
    page.get_by_role("button", name="Effacer définitivement mes données").click()
    assert "Cochez la case pour confirmer l'effacement." in page.content()
    page.get_by_label(re.compile("Je demande l'effacement")).check()
    page.get_by_role("button", name="Effacer définitivement mes données").click()
    assert page.get_by_role("heading", name="Vos données ont été effacées").is_visible()
    assert not HouseholdMember.objects.filter(last_name="Vasseur").exists()
    assert Request.objects.get(pk=request.pk).anonymised_at is not None

    page.goto(live_server.url + followup_path(request))
    assert page.get_by_role("heading", name="Cette demande a été effacée").is_visible()
    context.close()
