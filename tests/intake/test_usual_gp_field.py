"""The usual GP on the intake forms (issue 12): optional, picked in the list of the CPTS's GPs
(no JavaScript needed) or typed; a wrong number is refused next to the field."""

import html
import re

import pytest
from django.urls import reverse

from accesmt.intake.models import Request
from tests.accounts.factories import MembershipFactory
from tests.directory.factories import PracticeSiteFactory, PractitionerFactory

from .test_channels import pro_data
from .test_public import form_data, url

pytestmark = pytest.mark.django_db
HINT = "Médecin que vous consultez déjà sans l'avoir déclaré comme médecin traitant"


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def gp(territory):
    commune = territory["communes"]["Liévin"]
    practitioner = PractitionerFactory(first_name="Paul", last_name="HABITUEL")
    PracticeSiteFactory(practitioner=practitioner, commune=commune)
    return practitioner


def test_the_public_form_lists_the_gps_of_the_cpts_when_asked(client, territory, gp):
    # The list (up to 2,000 GPs in a large CPTS) is not in the page until asked for.
    page = text(client.get(url(territory["lievin"])))
    assert HINT in page
    assert "HABITUEL" not in page
    assert 'name="usual_gp_list"' in page  # a submit button: no JavaScript needed
    assert 'name="usual_gp_name"' in page  # typed, when not in the list
    # The button shows the page again with the list, what was typed kept, no error shown.
    typed = form_data(address="12 rue des Écoles", usual_gp_list="1")
    del typed["consent_processing"]
    response = client.post(url(territory["lievin"]), typed)
    page = text(response)
    assert response.status_code == 200
    assert not Request.objects.exists()
    assert "error-summary" not in page
    assert 'value="12 rue des Écoles"' in page
    assert f'<option value="{gp.rpps}">Dr Paul HABITUEL — Liévin</option>' in page
    assert 'name="usual_gp_list"' not in page
    assert "<details open>" in page  # the optional part holding the list is open
    assert "autofocus" in re.search(r'<select name="usual_gp_rpps"[^>]*>', page)[0]
    response = client.post(url(territory["lievin"]), form_data(usual_gp_rpps=gp.rpps))
    assert response.status_code == 302
    assert Request.objects.get().usual_gp_rpps == gp.rpps


def test_a_picked_gp_stays_in_the_list_when_the_page_is_shown_again(client, territory, gp):
    response = client.post(
        url(territory["lievin"]), form_data(usual_gp_rpps=gp.rpps, phone="", email="")
    )
    page = text(response)
    assert response.status_code == 200  # no contact given: shown again with the error
    assert f'<option value="{gp.rpps}" selected>Dr Paul HABITUEL — Liévin</option>' in page
    # An added member keeps it too.
    page = text(
        client.post(url(territory["lievin"]), form_data(usual_gp_rpps=gp.rpps, add_member="1"))
    )
    assert f'<option value="{gp.rpps}" selected>Dr Paul HABITUEL — Liévin</option>' in page


def test_the_name_alone_is_enough(client, territory, gp):
    client.post(url(territory["lievin"]), form_data(usual_gp_name="Dr Durand, Lens"))
    request = Request.objects.get()
    assert (request.usual_gp_rpps, request.usual_gp_name) == ("", "Dr Durand, Lens")


def test_an_unknown_rpps_is_refused_next_to_the_field(client, territory, gp):
    response = client.post(url(territory["lievin"]), form_data(usual_gp_rpps="12345678901"))
    page = text(response)
    assert response.status_code == 200
    assert 'id="id_usual_gp_rpps-error"' in page
    assert "aucun médecin de l'annuaire" in page
    assert not Request.objects.exists()


def test_a_referral_names_the_usual_gp_and_the_coordinator_sees_it(client, territory, gp):
    cpts = territory["lievin"]
    client.force_login(MembershipFactory(cpts=cpts, role="cpam_agent").user)
    client.post(
        reverse("intake:refer", kwargs={"cpts_slug": cpts.slug}),
        pro_data(attestation="on", usual_gp_rpps=gp.rpps),
    )
    request = Request.objects.get()
    client.force_login(MembershipFactory(cpts=cpts, role="coordinator").user)
    detail = text(
        client.get(
            reverse(
                "intake_staff:request_detail",
                kwargs={"cpts_slug": cpts.slug, "reference": request.reference},
            )
        )
    )
    assert f"RPPS {gp.rpps}" in detail
