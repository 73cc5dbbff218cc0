"""Odd input never makes a server error: a NUL byte in a path or a queue filter, names that
grow under Unicode normalisation. Run on SQLite and on PostgreSQL (which refuses NUL in text
and enforces the length of the comparison key)."""

import html
import json

import pytest
from django.test import Client
from django.urls import reverse

from accesmt.api.services import api_key_create
from accesmt.intake.models import NORMALISED_NAME_LENGTH, Request, normalise_name
from tests.intake.test_public import form_data, url

from .conftest import make_request

pytestmark = pytest.mark.django_db

NUL_SUFFIXES = [
    "",
    "modifier/",
    "etat/",
    "fusionner/",
    "separer/",
    "doublons/1/ecarter/",
    "orientation/",
    "lettre.pdf",
    "appels/",
    "notes/",
    "appels/1/rappel-fait/",
]
QUEUE_FILTERS = ["status", "commune", "rule", "home_visits", "channel", "referrer"]
GROWING_NAMES = ["ﷺ" * 100, "ﬃ" * 100]


@pytest.fixture
def safe_client(coordinator):
    client = Client(raise_request_exception=False)
    client.force_login(coordinator)
    return client


@pytest.mark.parametrize("suffix", NUL_SUFFIXES)
@pytest.mark.parametrize("method", ["get", "post"])
def test_nul_byte_in_a_request_path_is_404(safe_client, cpts, suffix, method):
    make_request(cpts)
    path = f"/espace/{cpts.slug}/demandes/%00/{suffix}"
    assert getattr(safe_client, method)(path).status_code == 404
    path = f"/espace/{cpts.slug}/demandes/MT-%00AB/{suffix}"
    assert getattr(safe_client, method)(path).status_code == 404


def test_nul_byte_in_the_api_reference_is_404(cpts):
    _, raw = api_key_create(cpts=cpts, name="Site")
    client = Client(raise_request_exception=False)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    response = client.get("/api/v1/requests/%00", **auth)
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "path"  # JSON, like every API error
    assert client.get("/api/v1/requests/MT-%00", **auth).status_code == 404


@pytest.mark.parametrize("name", QUEUE_FILTERS)
def test_nul_byte_or_unknown_value_in_a_queue_filter_is_ignored(safe_client, cpts, name):
    request = make_request(cpts)
    queue = reverse("intake_staff:queue", kwargs={"cpts_slug": cpts.slug})
    for value in ("\x00", "a\x00b", "²"):
        response = safe_client.get(queue, {name: value})
        assert response.status_code == 200, (name, value)
        if name != "referrer":  # an unknown referrer shows nobody, as before
            assert request.reference in response.content.decode()


def test_known_filter_values_still_filter(safe_client, cpts):
    request = make_request(cpts)
    queue = reverse("intake_staff:queue", kwargs={"cpts_slug": cpts.slug})
    assert request.reference in safe_client.get(queue, {"channel": "online"}).content.decode()
    assert request.reference not in safe_client.get(queue, {"channel": "api"}).content.decode()


def test_comparison_key_never_overflows_its_column():
    assert len(normalise_name("가" * 100, "가" * 100)) == NORMALISED_NAME_LENGTH
    assert normalise_name("Jean-Loïc", "de la Tour") == "jeanloicdelatour"


@pytest.mark.parametrize("name", GROWING_NAMES)
def test_names_growing_under_normalisation_get_a_message_on_the_form(cpts, name):
    client = Client(raise_request_exception=False)
    data = form_data(**{"membres-0-last_name": name, "membres-0-first_name": name})
    response = client.post(url(cpts), data)
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "Ce nom est trop long." in page and "Ce prénom est trop long." in page
    assert Request.objects.count() == 0
    # A name of 100 letters that stays 100 letters is accepted.
    data = form_data(**{"membres-0-last_name": "é" * 100})
    assert client.post(url(cpts), data).status_code == 302


@pytest.mark.parametrize("name", GROWING_NAMES)
def test_names_growing_under_normalisation_get_a_field_error_in_the_api(cpts, name):
    _, raw = api_key_create(cpts=cpts, name="Site")
    body = {
        "address": "3 rue Jean Jaurès",
        "postcode": "62800",
        "commune_name": "Liévin",
        "phone": "06 11 22 33 44",
        "reason": "mt_retired",
        "consent_processing": True,
        "consent_sharing": True,
        "members": [{"first_name": "Ali", "last_name": name, "birth_date": "1970-01-01"}],
    }
    response = Client(raise_request_exception=False).post(
        "/api/v1/requests",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert response.status_code == 422
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert errors == {"members[0].last_name": "Ce nom est trop long."}
    assert Request.objects.count() == 0
