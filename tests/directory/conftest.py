import pytest

from tests.territory.conftest import make_commune
from tests.territory.factories import CPTSFactory

from .factories import territory_with


@pytest.fixture
def communes(db):
    """Liévin, Avion and two communes sharing a postal code form the CPTS; Lens (62) and Lille
    (59) lie outside it."""
    return {
        "lievin": make_commune("62510", "Liévin", 50.4228, 2.7786, postcodes=["62800"]),
        "avion": make_commune("62065", "Avion", 50.4102, 2.8342, postcodes=["62210"]),
        "vendin": make_commune("62846", "Vendin-le-Vieil", 50.4736, 2.8653, postcodes=["62880"]),
        "annay": make_commune("62033", "Annay", 50.4617, 2.8806, postcodes=["62880"]),
        "lens": make_commune("62498", "Lens", 50.4322, 2.8333, postcodes=["62300"]),
        "lille": make_commune("59350", "Lille", 50.6365, 3.0635, postcodes=["59000"]),
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
