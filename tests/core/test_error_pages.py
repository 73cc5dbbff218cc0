"""Error pages speak French, in the site's layout, and tell the person what to do next."""

import pytest
from django.test import RequestFactory
from django.views import defaults


@pytest.mark.django_db
def test_unknown_page_is_a_french_404_in_the_site_layout(client):
    response = client.get("/cette-page-n-existe-pas/ni-celle-ci/")
    assert response.status_code == 404
    page = response.content.decode()
    assert '<html lang="fr">' in page and "Page introuvable" in page
    assert "Not Found" not in page


def test_server_error_page_says_whether_to_send_again():
    """Rendered without a request context (as Django does for 500): no database needed."""
    response = defaults.server_error(RequestFactory().get("/"))
    page = response.content.decode()
    assert response.status_code == 500
    assert "Une erreur est survenue" in page and "envoyez-le à nouveau" in page
    assert "Server Error" not in page


@pytest.mark.parametrize(
    ("view", "status", "title"),
    [
        (defaults.permission_denied, 403, "Accès refusé"),
        (defaults.bad_request, 400, "Demande incorrecte"),
    ],
)
def test_refusals_are_french(view, status, title):
    response = view(RequestFactory().get("/"), exception=Exception())
    assert response.status_code == status
    assert title in response.content.decode()
