"""The demo territory: CPTS Liévin – Pays d'Artois and its neighbour, CPTS Lens – Hénin.

The communes within 12 km of Liévin that are nearer to Liévin than to the neighbouring poles
(Lens, Hénin-Beaumont, Béthune, Arras, Bruay-la-Buissière): about 21 communes and 95,000
inhabitants. The neighbour CPTS takes the communes near Lens and Hénin-Beaumont, so that a person
from Lens who lands on the Liévin form is pointed to the right CPTS.
"""

from __future__ import annotations

from accesmt.territory.distances import haversine_km
from accesmt.territory.models import CPTS, Commune
from accesmt.territory.selectors import communes_within_radius
from accesmt.territory.services import cpts_create

LIEVIN = "62510"
POLES = {"lens": "62498", "henin": "62427", "bethune": "62119", "arras": "62041", "bruay": "62178"}
RADIUS_KM = 12


def _nearest_pole(commune: Commune, poles: dict[str, Commune]) -> str:
    return min(
        poles,
        key=lambda key: haversine_km(
            commune.latitude, commune.longitude, poles[key].latitude, poles[key].longitude
        ),
    )


def demo_communes() -> dict[str, list[Commune]]:
    """The communes of each demo CPTS ("lievin", "lens"), chosen by nearest pole."""
    poles = {"lievin": Commune.objects.get(pk=LIEVIN)} | {
        key: Commune.objects.get(pk=code) for key, code in POLES.items()
    }
    near_lievin = communes_within_radius(poles["lievin"], RADIUS_KM)
    near_lens = communes_within_radius(poles["lens"], RADIUS_KM - 4)
    return {
        "lievin": [c for c in near_lievin if _nearest_pole(c, poles) == "lievin"],
        "lens": [c for c in near_lens if _nearest_pole(c, poles) in ("lens", "henin")],
    }


def demo_cpts_create() -> tuple[CPTS, CPTS]:
    split = demo_communes()
    lievin = cpts_create(
        name="CPTS Liévin – Pays d'Artois",
        slug="cpts-lievin",
        insee_codes=[c.pk for c in split["lievin"]],
        phone="03 21 00 00 00",
        email="coordination@cpts-lievin.example.org",
    )
    lens = cpts_create(
        name="CPTS Lens – Hénin",
        slug="cpts-lens-henin",
        insee_codes=[c.pk for c in split["lens"]],
        phone="03 21 11 11 11",
        email="coordination@cpts-lens-henin.example.org",
    )
    return lievin, lens
