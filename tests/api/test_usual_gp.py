"""The usual GP in the API (issue 12): `usual_gp_rpps` / `usual_gp_name`, checked like the form."""

import pytest

from accesmt.intake.models import Request
from tests.directory.factories import PractitionerFactory

from .test_api import errors, payload, post

pytestmark = pytest.mark.django_db


def test_the_api_takes_the_usual_gp_by_rpps_or_name(client, auth):
    gp = PractitionerFactory()
    response = post(client, payload(usual_gp_rpps=gp.rpps, usual_gp_name="Dr Martin"), auth)
    assert response.status_code == 201, response.content
    request = Request.objects.get()
    assert (request.usual_gp_rpps, request.usual_gp_name) == (gp.rpps, "Dr Martin")


@pytest.mark.parametrize(
    ("rpps", "message"),
    [("1234", "11 chiffres"), ("99999999999", "aucun médecin de l'annuaire")],
)
def test_a_wrong_rpps_is_refused_naming_the_field(client, auth, rpps, message):
    response = post(client, payload(usual_gp_rpps=rpps), auth)
    assert response.status_code == 422
    assert message in errors(response)["usual_gp_rpps"]
    assert not Request.objects.exists()
