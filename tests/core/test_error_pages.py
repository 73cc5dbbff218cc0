"""Error pages speak French, in the site's layout, and tell the person what to do next."""

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
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
    assert "Une erreur est survenue" in page and "envoyer le formulaire à nouveau" in page
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


def _french_page_in_layout(response, status: int, title: str) -> str:
    assert response.status_code == status
    page = response.content.decode()
    assert '<html lang="fr">' in page and '<header class="site-header"' in page
    assert f"<h1>{title}</h1>" in page
    assert f'href="{reverse("territory:home")}"' in page  # a way back
    return page


@pytest.mark.urls("tests.core.error_urls")
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "status", "title", "advice"),
    [
        ("/test-erreur/403/", 403, "Accès refusé", "vérifier votre rôle"),
        ("/test-erreur/404/", 404, "Page introuvable", "vérifiez qu'il est complet"),
        ("/aucune-page/ici/", 404, "Page introuvable", "formulaire de votre CPTS"),
    ],
)
def test_refusals_are_french_pages_saying_what_to_do(client, settings, url, status, title, advice):
    settings.DEBUG = False
    page = _french_page_in_layout(client.get(url), status, title)
    assert advice in page
    assert "Forbidden" not in page and "Not Found" not in page


@pytest.mark.urls("tests.core.error_urls")
@pytest.mark.django_db
def test_a_crash_shows_the_french_500_without_touching_the_database(
    settings, django_assert_num_queries
):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    with django_assert_num_queries(0):
        response = client.get("/test-erreur/500/")
    page = _french_page_in_layout(response, 500, "Une erreur est survenue")
    assert "peut-être été enregistré, peut-être pas" in page
    assert "« Suivre ma demande »" in page and "appelez votre CPTS" in page
    assert "jamais enregistré deux fois" in page
    assert "Server Error" not in page and "boom" not in page
