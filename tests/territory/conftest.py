import pytest

from accesmt.territory import geocoding
from tests.servers import BanResponder, LocalHTTPServer
from tests.territory.factories import CommuneFactory


def make_commune(insee_code, name, latitude=None, longitude=None, postcodes=()):
    """A commune of population 0, unplaced when no coordinates are given."""
    placed = {"latitude": latitude, "longitude": longitude} if latitude is not None else {}
    return CommuneFactory(
        insee_code=insee_code,
        name=name,
        population=0,
        unplaced=latitude is None,
        postcodes=postcodes,
        **placed,
    )


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
        geocoding.close_shared_client()  # its kept connections led to this server
