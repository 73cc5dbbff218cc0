import pytest

from accesmt.territory import geocoding
from accesmt.territory.models import Commune, CoordinatesQuality, PostalCode
from tests.servers import BanResponder, LocalHTTPServer


def make_commune(insee_code, name, latitude=None, longitude=None, postcodes=()):
    commune = Commune.objects.create(
        insee_code=insee_code,
        name=name,
        departement=insee_code[:2],
        region="32",
        latitude=latitude,
        longitude=longitude,
        coordinates_quality=(
            CoordinatesQuality.EXACT if latitude is not None else CoordinatesQuality.UNKNOWN
        ),
    )
    for code in postcodes:
        PostalCode.objects.create(code=code, commune=commune)
    return commune


@pytest.fixture
def lievin(db):
    return make_commune("62510", "Liévin", 50.4228, 2.7786, postcodes=["62800"])


@pytest.fixture
def lens(db):
    return make_commune("62498", "Lens", 50.4322, 2.8333, postcodes=["62300"])


@pytest.fixture
def avion(db):
    return make_commune("62065", "Avion", 50.4102, 2.8342, postcodes=["62210"])


@pytest.fixture
def ban_server(settings, monkeypatch):
    """A local BAN replaying tests/fixtures/ban; GEOCODER_* settings point at it."""
    monkeypatch.setattr(geocoding, "BACKOFF_BASE_SECONDS", 0.02)
    with LocalHTTPServer(BanResponder()) as server:
        settings.GEOCODER_URL = server.url
        settings.GEOCODER_TIMEOUT = 0.5
        settings.GEOCODER_RETRIES = 2
        settings.GEOCODER_MIN_SCORE = 0.5
        yield server
