import pytest

from accesmt.territory.models import PostalCode
from tests.territory.factories import CommuneFactory, CPTSFactory, TerritoryCommuneFactory


@pytest.fixture
def territory(db):
    """CPTS Liévin (Liévin 62800, Angres 62143), CPTS Lens (Lens 62300), and Arras (62000)
    covered by no CPTS."""
    lievin_cpts = CPTSFactory(
        name="CPTS Liévin Pays d'Artois", slug="lievin", phone="03 21 00 00 00"
    )
    lens_cpts = CPTSFactory(name="CPTS Lens Hénin", slug="lens")
    communes = {}
    for insee, name, postcode, cpts in [
        ("62510", "Liévin", "62800", lievin_cpts),
        ("62032", "Angres", "62143", lievin_cpts),
        ("62498", "Lens", "62300", lens_cpts),
        ("62041", "Arras", "62000", None),
    ]:
        commune = CommuneFactory(insee_code=insee, name=name, artois=True)
        PostalCode.objects.create(code=postcode, commune=commune)
        if cpts is not None:
            TerritoryCommuneFactory(cpts=cpts, commune=commune)
        communes[name] = commune
    # Two communes sharing a postcode, both in Liévin's territory.
    eleu = CommuneFactory(insee_code="62291", name="Éleu-dit-Leauwette", artois=True)
    PostalCode.objects.create(code="62800", commune=eleu)
    TerritoryCommuneFactory(cpts=lievin_cpts, commune=eleu)
    communes["Éleu-dit-Leauwette"] = eleu
    return {"lievin": lievin_cpts, "lens": lens_cpts, "communes": communes}
