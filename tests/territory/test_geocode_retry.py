"""Registration geocodes in one short try; the worker places later what the BAN could not."""

import datetime

import pytest
from django.utils import timezone

from accesmt.intake.models import Request
from accesmt.intake.services import _geocode, requests_geocode_retry
from tests.intake.factories import HouseholdMemberFactory, RequestFactory

pytestmark = pytest.mark.django_db

STREET = "14 Rue Édouard Vaillant"


@pytest.fixture
def lievin_cpts(lievin):
    from tests.territory.factories import CPTSFactory, TerritoryCommuneFactory

    cpts = CPTSFactory(slug="lievin")
    TerritoryCommuneFactory(cpts=cpts, commune=lievin)
    return cpts


def test_a_person_waits_one_short_try_not_the_retries(ban_server, lievin, settings):
    settings.GEOCODER_TIMEOUT = 3.0
    settings.GEOCODER_INTERACTIVE_TIMEOUT = 0.3
    ban_server.delay_next(3, seconds=2)
    # The BAN answers after 2 s: within GEOCODER_TIMEOUT, beyond the interactive one — so a
    # fallback (and a single request) proves the short, retry-free call.
    placed = _geocode(street=STREET, commune=lievin, postcode="62800")
    assert len(ban_server.requests_to("/search/")) == 1
    assert placed["geocode_source"] == "commune_centre"
    assert placed["geocode_message"].startswith("Service de géocodage injoignable")


def _fallback_request(cpts, commune, *, days=1, message="Service de géocodage injoignable : x"):
    request = RequestFactory(
        cpts=cpts,
        commune=commune,
        address=STREET,
        postcode="62800",
        latitude=commune.latitude,
        longitude=commune.longitude,
        geocode_source="commune_centre",
        geocode_message=message,
        created_at=timezone.now() - datetime.timedelta(days=days),
    )
    HouseholdMemberFactory(request=request)
    return request


def test_the_worker_places_requests_the_geocoder_missed(ban_server, lievin, lievin_cpts):
    missed = _fallback_request(lievin_cpts, lievin)
    not_found = _fallback_request(
        lievin_cpts, lievin, message="Adresse non trouvée par la BAN : centre de la commune utilisé"
    )
    too_old = _fallback_request(lievin_cpts, lievin, days=30)
    assert requests_geocode_retry() == 1
    missed.refresh_from_db()
    assert (missed.latitude, missed.longitude, missed.geocode_source) == (
        50.42172,
        2.77915,
        "address",
    )
    assert missed.geocode_message == ""
    for untouched in (not_found, too_old):
        assert Request.objects.get(pk=untouched.pk).geocode_source == "commune_centre"
    assert requests_geocode_retry() == 0  # nothing left to place


def test_the_worker_leaves_the_centre_while_the_geocoder_is_still_down(
    ban_server, lievin, lievin_cpts
):
    missed = _fallback_request(lievin_cpts, lievin)
    ban_server.fail_next(10, status=503)
    assert requests_geocode_retry() == 0
    missed.refresh_from_db()
    assert missed.geocode_source == "commune_centre"


def test_while_the_geocoder_is_down_every_request_gets_its_turn(
    ban_server, lievin, lievin_cpts, monkeypatch
):
    from accesmt.intake import services

    monkeypatch.setattr(services, "RETRY_GEOCODING_BATCH", 2)
    oldest = _fallback_request(lievin_cpts, lievin, days=5)
    older = _fallback_request(lievin_cpts, lievin, days=4)
    newest = _fallback_request(lievin_cpts, lievin, days=1)
    ban_server.fail_next(100, status=503)
    assert requests_geocode_retry() == 0  # the two oldest were tried, in vain
    assert Request.objects.get(pk=oldest.pk).geocode_attempted_at is not None
    assert Request.objects.get(pk=newest.pk).geocode_attempted_at is None
    with ban_server._lock:
        ban_server._scripted.clear()  # the BAN is back
    assert requests_geocode_retry() >= 1
    newest.refresh_from_db()  # its turn came, not the same two oldest again
    assert (newest.geocode_source, newest.geocode_attempted_at is not None) == ("address", True)
    assert Request.objects.get(pk=older.pk).geocode_source == "commune_centre"


def test_the_worker_makes_one_short_try_per_request(ban_server, lievin, lievin_cpts, settings):
    settings.GEOCODER_INTERACTIVE_TIMEOUT = 0.3
    _fallback_request(lievin_cpts, lievin)
    ban_server.fail_next(10, status=503)
    assert requests_geocode_retry() == 0
    assert len(ban_server.requests_to("/search/")) == 1  # no retry holding the worker


def test_an_address_edited_meanwhile_is_not_overwritten(
    ban_server, lievin, lievin_cpts, monkeypatch
):
    from accesmt.territory import geocoding

    missed = _fallback_request(lievin_cpts, lievin)
    real = geocoding.geocode_address

    def coordinator_edits_during_the_call(**kwargs):
        result = real(**kwargs)
        Request.objects.filter(pk=missed.pk).update(
            address="3 place de la République",
            latitude=50.4,
            longitude=2.7,
            geocode_source="address",
            geocode_message="",
        )
        return result

    monkeypatch.setattr(geocoding, "geocode_address", coordinator_edits_during_the_call)
    assert requests_geocode_retry() == 0
    missed.refresh_from_db()
    assert (missed.address, missed.latitude, missed.longitude) == (
        "3 place de la République",
        50.4,
        2.7,
    )
