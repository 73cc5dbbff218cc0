"""A registration does not hold a worker on the BAN (issue 15): one shared HTTP client, one short
budget for every try of the address; what the budget could not place, the worker's job places."""

import threading

import pytest
from django.urls import reverse

from accesmt.intake.models import Request
from accesmt.intake.services import requests_geocode_retry
from accesmt.territory import geocoding
from tests.intake.conftest import territory  # noqa: F401  (fixture)
from tests.intake.test_public import form_data

pytestmark = pytest.mark.django_db

# The BAN answers after 1 s: within GEOCODER_TIMEOUT (2 s), beyond the budget. Without the
# budget the answer would be read ("{}": malformed; no feature: not found), so "unreachable"
# proves that the call gave up at the budget instead of waiting (no wall-clock assertion).
BAN_DELAY = 1.0


def test_a_registration_with_a_slow_ban_is_saved_at_once_and_placed_later(
    client,
    territory,  # noqa: F811
    ban_server,
    settings,
):
    settings.GEOCODER_INTERACTIVE_TIMEOUT = 0.3
    settings.GEOCODER_TIMEOUT = 2.0
    ban_server.delay_next(1, seconds=BAN_DELAY)
    response = client.post(
        reverse("intake:register", kwargs={"cpts_slug": "lievin"}),
        form_data(address="14 Rue Édouard Vaillant"),
    )
    assert response.status_code == 302
    # Saved at the commune centre, marked for the job: the page did not wait for the BAN.
    request = Request.objects.get()
    assert request.geocode_source == "commune_centre"
    assert request.geocode_message.startswith("Service de géocodage injoignable")
    # The BAN answers again: the periodic job places the request at its address.
    assert requests_geocode_retry() == 1
    request.refresh_from_db()
    assert request.geocode_source == "address" and request.geocode_message == ""


def test_the_budget_covers_the_house_number_and_the_street_tries(ban_server, lievin, settings):
    """Each try alone would fit in GEOCODER_TIMEOUT; together they exceed the budget."""
    settings.GEOCODER_TIMEOUT = 2.0
    settings.GEOCODER_INTERACTIVE_TIMEOUT = 0.8
    # The house number is not found (an empty answer after 0.5 s), then the street would be
    # answered after 1 s: the 0.3 s left are not enough.
    ban_server.script(geocoding_empty_after(0.5), geocoding_empty_after(BAN_DELAY))
    result = geocoding.geocode_address(
        street="999 Rue Édouard Vaillant", commune=lievin, postcode="62800", interactive=True
    )
    assert result.outcome == geocoding.Outcome.UNREACHABLE  # retried later by the job


def geocoding_empty_after(seconds: float):
    from tests.servers import Reply

    body = b'{"type": "FeatureCollection", "features": []}'
    return Reply(200, body, delay=seconds)


def test_one_client_is_shared_by_every_call_and_thread(ban_server, monkeypatch):
    from accesmt.territory.models import Commune

    # Unsaved: the threads read nothing from the test database.
    lievin = Commune(insee_code="62510", name="Liévin", latitude=50.4228, longitude=2.7786)
    geocoding.shared_client()  # created once per process
    built = []
    real = geocoding.httpx.Client
    monkeypatch.setattr(geocoding.httpx, "Client", lambda *a, **k: built.append(1) or real(*a, **k))
    results = []

    def place():
        results.append(
            geocoding.geocode_address(
                street="14 Rue Édouard Vaillant", commune=lievin, postcode="62800"
            ).outcome
        )

    threads = [threading.Thread(target=place) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    place()
    assert results == [geocoding.Outcome.FOUND] * 5
    assert built == []  # no client built per call
    assert geocoding.shared_client() is geocoding.shared_client()
