"""The BAN client over real HTTP, against tests/servers.py replaying recorded answers."""

import logging
import socket
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accesmt.territory.geocoding import Outcome, geocode_address
from tests.servers import Reply

from .conftest import make_commune

pytestmark = pytest.mark.django_db

CENTRE_MESSAGE = ": centre de la commune utilisé"


def search_requests(server):
    return server.requests_to("/search/")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- precise answers ------------------------------------------------------------------------


def test_precise_hit_in_lievin_reads_lon_lat_in_geojson_order(ban_server, lievin):
    result = geocode_address(street="14 Rue Édouard Vaillant", commune=lievin, postcode="62800")

    assert result.source == "address" and result.precise
    # GeoJSON stores [lon, lat]: latitude ≈ 50.4 and longitude ≈ 2.8 in the Pas-de-Calais.
    assert (result.latitude, result.longitude) == (50.42172, 2.77915)
    assert result.score == pytest.approx(0.9712)
    assert result.label == "14 Rue Édouard Vaillant 62800 Liévin"
    assert result.message == ""
    assert result.outcome == Outcome.FOUND


def test_query_sends_citycode_postcode_type_and_limit(ban_server, lievin):
    geocode_address(street="14 Rue Édouard Vaillant", commune=lievin, postcode="62800")

    [request] = search_requests(ban_server)
    assert request.method == "GET"
    assert request.params == {
        "q": "14 Rue Édouard Vaillant 62800 Liévin",
        "citycode": "62510",
        "postcode": "62800",
        "type": "housenumber",
        "limit": "1",
        "autocomplete": "0",
    }
    assert request.headers["user-agent"].startswith("AccesMT/")


def test_url_naming_the_endpoint_is_used_as_is_for_a_bare_addok(ban_server, lens, settings):
    settings.GEOCODER_URL = ban_server.url + "/search"

    result = geocode_address(street="5 Boulevard Émile Basly", commune=lens, postcode="62300")

    assert result.precise
    assert [r.path for r in ban_server.requests] == ["/search"]


def test_precise_hit_in_lens(ban_server, lens):
    result = geocode_address(street="5 Boulevard Émile Basly", commune=lens, postcode="62300")

    assert result.precise
    assert (result.latitude, result.longitude) == (50.43069, 2.83046)
    assert search_requests(ban_server)[0].params["citycode"] == "62498"


def test_without_postcode_no_postcode_filter_is_sent(ban_server, avion):
    result = geocode_address(street="8 Rue Jules Guesde", commune=avion)

    assert result.precise and result.label == "8 Rue Jules Guesde 62210 Avion"
    [request] = search_requests(ban_server)
    assert "postcode" not in request.params
    assert request.params["q"] == "8 Rue Jules Guesde Avion"


def test_unknown_house_number_falls_back_to_the_street(ban_server, avion):
    result = geocode_address(street="250 Rue Jules Guesde", commune=avion, postcode="62210")

    assert [r.params["type"] for r in search_requests(ban_server)] == ["housenumber", "street"]
    assert result.source == "address"
    assert result.label == "Rue Jules Guesde 62210 Avion"
    assert (result.latitude, result.longitude) == (50.40734, 2.83465)


def test_street_without_number_asks_for_a_street_only(ban_server, avion):
    geocode_address(street="Rue Jules Guesde", commune=avion, postcode="62210")

    assert [r.params["type"] for r in search_requests(ban_server)] == ["street"]


def test_postcode_of_another_commune_is_not_used_as_a_filter(ban_server, lievin):
    geocode_address(street="14 Rue Édouard Vaillant", commune=lievin, postcode="62300")

    request = search_requests(ban_server)[0]
    assert "postcode" not in request.params
    assert request.params["citycode"] == "62510"


def test_long_street_is_cut_to_the_ban_limit(ban_server, lievin):
    result = geocode_address(street="12 " + "rue très longue " * 30, commune=lievin)

    assert all(len(r.params["q"]) <= 200 for r in search_requests(ban_server))
    assert result.outcome == Outcome.NOT_FOUND  # answered (not refused with a 400)


# --- answers that are not good enough ----------------------------------------------------------


def test_low_score_falls_back_to_the_commune_centre(ban_server, lievin):
    result = geocode_address(street="3 Impasse des Tilleuls", commune=lievin, postcode="62800")

    assert result.source == "commune_centre" and not result.precise
    assert (result.latitude, result.longitude) == (50.4228, 2.7786)
    assert result.label == "Liévin"
    assert result.score is None
    assert result.outcome == Outcome.LOW_SCORE
    assert result.message == (
        "Adresse trop imprécise pour la BAN (score 0,31) : centre de la commune utilisé"
    )


def test_min_score_setting_is_honoured(ban_server, lievin, settings):
    settings.GEOCODER_MIN_SCORE = 0.3

    result = geocode_address(street="3 Impasse des Tilleuls", commune=lievin, postcode="62800")

    assert result.precise and result.label == "3 Rue des Tilleuls 62800 Liévin"


def test_answer_in_another_city_falls_back(ban_server, lievin):
    # An addok without the citycode filter configured ignores it and answers a Lens address.
    result = geocode_address(street="5 Boulevard Émile Basly", commune=lievin, postcode="62800")

    assert result.source == "commune_centre"
    assert (result.latitude, result.longitude) == (50.4228, 2.7786)
    assert result.outcome == Outcome.CITY_MISMATCH
    assert result.message == (
        "La BAN a situé l'adresse dans une autre commune (Lens) : centre de la commune utilisé"
    )


def test_unknown_address_falls_back(ban_server, lens):
    result = geocode_address(street="1 Rue Imaginaire", commune=lens)

    assert result.source == "commune_centre"
    assert result.message == "Adresse non trouvée par la BAN" + " " + CENTRE_MESSAGE
    assert len(search_requests(ban_server)) == 2  # house number, then street


def test_commune_without_coordinates_gives_source_none(ban_server):
    commune = make_commune("62999", "Commune sans coordonnées")

    result = geocode_address(street="1 Rue Imaginaire", commune=commune)

    assert result.source == "none"
    assert result.latitude is None and result.longitude is None
    assert result.label == "Commune sans coordonnées"
    assert "position inconnue" in result.message


def test_empty_street_asks_nothing(ban_server, lens):
    result = geocode_address(street="  , ", commune=lens)

    assert search_requests(ban_server) == []
    assert result.source == "commune_centre"
    assert result.message == "Adresse vide : centre de la commune utilisé"


def test_paris_is_filtered_on_postcode_and_accepts_its_arrondissements(ban_server):
    paris = make_commune("75056", "Paris", 48.8566, 2.3522, postcodes=["75012"])
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [2.37, 48.84]},
        "properties": {"label": "10 Rue Exemple 75012 Paris", "score": 0.9, "citycode": "75112"},
    }
    ban_server.script(Reply(200, {"type": "FeatureCollection", "features": [feature]}))

    result = geocode_address(street="10 Rue Exemple", commune=paris, postcode="75012")

    assert result.precise and (result.latitude, result.longitude) == (48.84, 2.37)
    request = search_requests(ban_server)[0]
    assert "citycode" not in request.params and request.params["postcode"] == "75012"


# --- the service misbehaves -------------------------------------------------------------------


def test_timeout_falls_back_after_every_retry(ban_server, lens, settings):
    settings.GEOCODER_TIMEOUT = 0.2
    ban_server.delay_next(3, seconds=3)

    started = time.monotonic()
    result = geocode_address(street="5 Boulevard Émile Basly", commune=lens, postcode="62300")

    assert time.monotonic() - started < 2.5  # 3 × 0.2 s plus short backoffs, not 3 × 3 s
    assert len(search_requests(ban_server)) == 3  # 1 try + GEOCODER_RETRIES (2)
    assert result.source == "commune_centre"
    assert result.outcome == Outcome.UNREACHABLE
    assert result.message == "Service de géocodage injoignable : centre de la commune utilisé"


def test_server_errors_then_success_is_a_success(ban_server, lens):
    ban_server.fail_next(2, status=500)

    result = geocode_address(street="5 Boulevard Émile Basly", commune=lens, postcode="62300")

    assert len(search_requests(ban_server)) == 3
    assert result.precise and (result.latitude, result.longitude) == (50.43069, 2.83046)


def test_too_many_requests_is_retried(ban_server, lens):
    ban_server.fail_next(1, status=429)

    result = geocode_address(street="5 Boulevard Émile Basly", commune=lens, postcode="62300")

    assert result.precise
    assert len(search_requests(ban_server)) == 2


def test_server_errors_beyond_the_retries_fall_back(ban_server, lens):
    ban_server.fail_next(3, status=503)

    result = geocode_address(street="5 Boulevard Émile Basly", commune=lens, postcode="62300")

    assert len(search_requests(ban_server)) == 3
    assert result.outcome == Outcome.UNREACHABLE and result.source == "commune_centre"


@pytest.mark.parametrize("status", [400, 403, 404])
def test_client_errors_are_not_retried(ban_server, lens, status):
    ban_server.fail_next(1, status=status)

    result = geocode_address(street="5 Boulevard Émile Basly", commune=lens, postcode="62300")

    assert len(search_requests(ban_server)) == 1
    assert result.outcome == Outcome.REFUSED
    assert result.message == (
        f"Adresse refusée par le service de géocodage (erreur {status}) : "
        "centre de la commune utilisé"
    )


def test_unreachable_port_falls_back(lens, settings):
    settings.GEOCODER_URL = f"http://127.0.0.1:{free_port()}"
    settings.GEOCODER_RETRIES = 1

    result = geocode_address(street="5 Boulevard Émile Basly", commune=lens)

    assert result.outcome == Outcome.UNREACHABLE
    assert (result.latitude, result.longitude) == (50.4322, 2.8333)
    assert result.message == "Service de géocodage injoignable : centre de la commune utilisé"


def test_default_test_settings_reach_nothing(lens):
    result = geocode_address(street="5 Boulevard Émile Basly", commune=lens)

    assert result.outcome == Outcome.UNREACHABLE and result.source == "commune_centre"


MALFORMED_FEATURE = {"type": "Feature", "geometry": {"type": "Point"}, "properties": {}}


@pytest.mark.parametrize(
    "body",
    [
        b"<html>502 Bad Gateway</html>",
        b"",
        [],
        {"features": []},
        {"type": "FeatureCollection", "features": "none"},
        {"type": "FeatureCollection", "features": [MALFORMED_FEATURE]},
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [2.8, 95.0]},
                    "properties": {"score": 0.9, "citycode": "62498"},
                }
            ],
        },
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [2.8, 50.4]},
                    "properties": {"score": "élevé", "citycode": "62498"},
                }
            ],
        },
    ],
    ids=["html", "empty", "list", "no-type", "features-str", "no-coords", "lat-95", "score-str"],
)
def test_malformed_answer_falls_back(ban_server, lens, body):
    ban_server.script(Reply(200, body))

    result = geocode_address(street="5 Boulevard Émile Basly", commune=lens, postcode="62300")

    assert result.outcome == Outcome.MALFORMED
    assert result.source == "commune_centre"
    assert result.message == "Réponse illisible du service de géocodage" + " " + CENTRE_MESSAGE


def test_logs_carry_the_outcome_but_never_the_address(ban_server, lievin, caplog):
    caplog.set_level(logging.DEBUG)

    geocode_address(street="14 Rue Édouard Vaillant", commune=lievin, postcode="62800")
    ban_server.fail_next(3)
    geocode_address(street="3 Impasse des Tilleuls", commune=lievin, postcode="62800")

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "outcome=found" in logged and "outcome=unreachable" in logged
    for secret in ("Vaillant", "Tilleuls", "62800", "Liévin"):
        assert secret not in logged


# --- manage.py geocode ------------------------------------------------------------------------


def test_command_prints_the_position(ban_server, lievin):
    from io import StringIO

    out = StringIO()
    call_command("geocode", "14 Rue Édouard Vaillant", insee="62510", postcode="62800", stdout=out)

    assert out.getvalue().splitlines() == [
        "Adresse : 14 Rue Édouard Vaillant 62800 Liévin",
        "Position (lat ; lon) : 50,421720 ; 2,779150",
        "Score BAN : 0,97",
    ]


def test_command_prints_the_fallback_reason(ban_server, lens):
    from io import StringIO

    out = StringIO()
    call_command("geocode", "1 Rue Imaginaire", insee="62498", stdout=out)

    assert out.getvalue().splitlines() == [
        "Commune : Lens",
        "Position (lat ; lon) : 50,432200 ; 2,833300",
        "Adresse non trouvée par la BAN : centre de la commune utilisé",
    ]


def test_command_rejects_an_unknown_insee_code(db):
    with pytest.raises(CommandError, match="Commune inconnue : le code INSEE 99999"):
        call_command("geocode", "1 rue de la Paix", insee="99999")


def test_command_with_unreachable_service_says_so_in_one_line(lens, capsys, monkeypatch):
    from django.core.management import base, execute_from_command_line

    # run_from_argv closes the connections when it ends, which would end the test transaction.
    monkeypatch.setattr(base.connections, "close_all", lambda: None)

    with pytest.raises(SystemExit) as exit_info:
        execute_from_command_line(
            ["manage.py", "geocode", "5 Boulevard Émile Basly", "--insee", "62498"]
        )

    assert exit_info.value.code != 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Traceback" not in captured.err
    assert captured.err.strip().splitlines() == [
        "CommandError: Service de géocodage injoignable à http://127.0.0.1:9 : vérifiez "
        "GEOCODER_URL (ou GEOCODER_TIMEOUT) et la connexion réseau, puis réessayez."
    ]
