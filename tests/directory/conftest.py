import pytest

from accesmt.territory.models import Commune, CoordinatesQuality, PostalCode

from .factories import CPTSFactory, territory_with


def make_commune(insee_code, name, postcodes, latitude=50.4, longitude=2.8):
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
def communes(db):
    """Liévin, Avion and two communes sharing a postal code form the CPTS; Lens (62) and Lille
    (59) lie outside it."""
    return {
        "lievin": make_commune("62510", "Liévin", ["62800"], 50.4228, 2.7786),
        "avion": make_commune("62065", "Avion", ["62210"], 50.4102, 2.8342),
        "vendin": make_commune("62846", "Vendin-le-Vieil", ["62880"], 50.4736, 2.8653),
        "annay": make_commune("62033", "Annay", ["62880"], 50.4617, 2.8806),
        "lens": make_commune("62498", "Lens", ["62300"], 50.4322, 2.8333),
        "lille": make_commune("59350", "Lille", ["59000"], 50.6365, 3.0635),
    }


@pytest.fixture
def cpts(communes):
    return territory_with(
        CPTSFactory(name="CPTS Liévin", slug="lievin"),
        communes["lievin"],
        communes["avion"],
        communes["vendin"],
        communes["annay"],
    )
