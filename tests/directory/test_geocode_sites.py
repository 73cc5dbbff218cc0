"""`manage.py geocode_sites` over real HTTP, against the local BAN of tests/servers.py."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from accesmt.directory import site_geocoding
from accesmt.directory.models import PracticeSite
from accesmt.directory.services import practice_site_correct
from accesmt.directory.site_geocoding import RateLimiter, geocode_sites, sites_to_geocode
from accesmt.territory import geocoding
from tests.servers import BanResponder, LocalHTTPServer

from .factories import PracticeSiteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ban_server(settings, monkeypatch):
    monkeypatch.setattr(geocoding, "BACKOFF_BASE_SECONDS", 0.02)
    with LocalHTTPServer(BanResponder()) as server:
        settings.GEOCODER_URL = server.url
        settings.GEOCODER_TIMEOUT = 0.5
        settings.GEOCODER_RETRIES = 1
        settings.GEOCODER_MIN_SCORE = 0.5
        yield server
        geocoding.close_shared_client()  # its kept connections led to this server


@pytest.fixture
def sites(communes):
    """Three sites at the commune centre as the RPPS import leaves them: two addresses the BAN
    knows precisely, one it places too vaguely."""
    return {
        "vaillant": PracticeSiteFactory(
            commune=communes["lievin"], address_line2="14 Rue Édouard Vaillant", postcode="62800"
        ),
        "guesde": PracticeSiteFactory(
            commune=communes["avion"], address_line2="8 Rue Jules Guesde", postcode=""
        ),
        "tilleuls": PracticeSiteFactory(
            commune=communes["lievin"], address_line2="3 Impasse des Tilleuls", postcode="62800"
        ),
    }


def _fresh(site):
    return PracticeSite.objects.get(pk=site.pk)


def test_places_known_addresses_and_leaves_vague_ones_at_the_centre(ban_server, sites, capsys):
    call_command("geocode_sites", "--per-second", "1000")

    vaillant = _fresh(sites["vaillant"])
    assert (vaillant.latitude, vaillant.longitude) == (50.42172, 2.77915)  # GeoJSON [lon, lat]
    assert vaillant.geocode_source == "address"
    assert _fresh(sites["guesde"]).geocode_source == "address"
    tilleuls = _fresh(sites["tilleuls"])
    assert tilleuls.geocode_source == "commune_centre"
    assert (tilleuls.latitude, tilleuls.longitude) == (50.4228, 2.7786)
    assert tilleuls.geocode_attempted_at is not None
    out = capsys.readouterr().out
    assert "3 lieu(x) à géocoder" in out
    assert "2 placé(s) à l'adresse, 1 laissé(s) au centre de la commune (low_score : 1)" in out
    assert "Vaillant" not in out  # counts only, never an address

    # Nothing is due any more: a second run asks the BAN nothing.
    asked = len(ban_server.requests)
    call_command("geocode_sites")
    assert len(ban_server.requests) == asked
    # --retry asks again for the one left at the centre only.
    call_command("geocode_sites", "--retry", "--per-second", "1000")
    # (house number, then street: two requests for the same address)
    assert {r.params["q"] for r in ban_server.requests[asked:]} == {
        "3 Impasse des Tilleuls 62800 Liévin"
    }


def test_an_interrupted_run_resumes_where_it_stopped(ban_server, sites):
    report = geocode_sites(per_second=1000, limit=1)
    assert report.done == 1 and _fresh(sites["vaillant"]).geocode_source == "address"
    first_queries = [r.params["q"] for r in ban_server.requests]

    geocode_sites(per_second=1000)
    later_queries = [r.params["q"] for r in ban_server.requests][len(first_queries) :]
    assert not any("Vaillant" in q for q in later_queries)
    assert any("Guesde" in q for q in later_queries) and any("Tilleuls" in q for q in later_queries)
    assert not sites_to_geocode().exists()


def test_a_site_changed_since_its_attempt_is_geocoded_again(ban_server, sites):
    geocode_sites(per_second=1000)
    tilleuls = _fresh(sites["tilleuls"])
    assert tilleuls not in sites_to_geocode()
    tilleuls.address_line2 = "14 Rue Édouard Vaillant"  # e.g. a new RPPS file moved the site
    tilleuls.save()
    assert list(sites_to_geocode()) == [tilleuls]
    geocode_sites(per_second=1000)
    assert _fresh(tilleuls).geocode_source == "address"


def test_coordinates_corrected_by_a_coordinator_are_never_asked_for(ban_server, sites):
    # The coordinator cleared the coordinates (source "none", correction recorded).
    practice_site_correct(site=sites["vaillant"], fields={"latitude": None, "longitude": None})
    assert _fresh(sites["vaillant"]).geocode_source == "none"
    geocode_sites(per_second=1000)
    assert not any("Vaillant" in r.params["q"] for r in ban_server.requests)
    assert _fresh(sites["vaillant"]).latitude is None


def test_a_correction_made_during_the_request_wins(ban_server, sites, monkeypatch):
    real = site_geocoding.geocode_address

    def correcting_meanwhile(**kwargs):
        result = real(**kwargs)  # the real HTTP round trip
        practice_site_correct(
            site=sites["vaillant"], fields={"latitude": 50.5, "longitude": 2.7}, by=None
        )
        return result

    monkeypatch.setattr(site_geocoding, "geocode_address", correcting_meanwhile)
    report = geocode_sites(per_second=1000, sites=[sites["vaillant"]])
    assert report.skipped == 1 and report.placed == 0
    vaillant = _fresh(sites["vaillant"])
    assert (vaillant.latitude, vaillant.longitude) == (50.5, 2.7)


def test_gone_and_precise_sites_are_left_alone(ban_server, communes):
    PracticeSiteFactory(commune=communes["lievin"], is_gone=True, gone_since=timezone.now())
    PracticeSiteFactory(commune=communes["lievin"], geocode_source="address")
    assert not sites_to_geocode().exists()


def test_unreachable_service_leaves_sites_untried_for_the_next_run(sites, settings):
    settings.GEOCODER_URL = "http://127.0.0.1:9"  # nothing listens
    before = {name: _fresh(site).updated_at for name, site in sites.items()}
    report = geocode_sites(per_second=1000)
    assert report.unchanged == 3 and report.reasons == {"unreachable": 3}
    for name, site in sites.items():
        fresh = _fresh(site)
        assert fresh.geocode_source == "commune_centre"
        assert fresh.geocode_attempted_at is None  # not tried: the BAN did not answer
        assert fresh.updated_at == before[name]  # not saved
    assert sites_to_geocode().count() == 3  # the next run retries them without --retry


def test_a_malformed_answer_leaves_the_site_untried(ban_server, sites):
    ban_server.garbage_next(10)
    report = geocode_sites(sites=[sites["vaillant"]], per_second=1000)
    assert report.reasons == {"malformed": 1}
    fresh = _fresh(sites["vaillant"])
    assert (fresh.geocode_attempted_at, fresh.updated_at) == (None, sites["vaillant"].updated_at)
    assert sites_to_geocode().filter(pk=fresh.pk).exists()


def test_rate_limiter_spaces_the_calls():
    clock = [100.0]
    slept = []

    def sleep(seconds):
        slept.append(round(seconds, 6))
        clock[0] += seconds

    limiter = RateLimiter(4, clock=lambda: clock[0], sleep=sleep)
    for _ in range(3):
        limiter.wait()
    assert slept == [0.25, 0.25]
    clock[0] += 10  # a slow answer: no waiting afterwards
    limiter.wait()
    assert slept == [0.25, 0.25]


def test_command_rejects_a_non_positive_rate(db):
    with pytest.raises(CommandError, match="positif"):
        call_command("geocode_sites", "--per-second", "0")
