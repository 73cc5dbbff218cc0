"""Reads on communes and CPTS territories."""

from __future__ import annotations

from django.db.models import QuerySet

from .codes import normalise_name
from .distances import bounding_box, haversine_km
from .models import CPTS, Commune, TerritoryCommune


def cpts_covering(commune: Commune | str) -> CPTS | None:
    """The CPTS whose territory includes the commune (a Commune or an INSEE code), if any."""
    insee_code = commune if isinstance(commune, str) else commune.insee_code
    link = TerritoryCommune.objects.select_related("cpts").filter(commune_id=insee_code).first()
    return link.cpts if link else None


def communes_for_postcode(code: str) -> QuerySet[Commune]:
    """The communes served by a postal code (one postal code often covers several communes)."""
    return Commune.objects.filter(postal_codes__code=code.strip()).distinct().order_by("name")


def commune_matching(postcode: str, name: str = "") -> Commune | None:
    """The commune for a postal code and a commune name as a person typed them.

    Names are compared without accents, case, hyphens, articles, and with Saint = St. When the
    postal code serves a single commune, that commune is the answer whatever the name says.
    """
    candidates = list(communes_for_postcode(postcode))
    if len(candidates) == 1:
        return candidates[0]
    wanted = normalise_name(name)
    if not wanted:
        return None
    matches = [c for c in candidates if normalise_name(c.name) == wanted]
    return matches[0] if len(matches) == 1 else None


def communes_within_radius(center: Commune, radius_km: float) -> list[Commune]:
    """Communes whose centre is within radius_km (great-circle) of the centre commune's centre.

    Communes without coordinates are never included. Each returned commune carries a
    ``distance_km`` attribute; the list is sorted by distance. Raises ValueError when the
    centre has no coordinates.
    """
    if not center.has_coordinates:
        raise ValueError(f"La commune {center} n'a pas de coordonnées.")
    min_lat, max_lat, min_lon, max_lon = bounding_box(center.latitude, center.longitude, radius_km)
    candidates = Commune.objects.filter(
        latitude__gte=min_lat,
        latitude__lte=max_lat,
        longitude__gte=min_lon,
        longitude__lte=max_lon,
    )
    found = []
    for commune in candidates:
        distance = haversine_km(
            center.latitude, center.longitude, commune.latitude, commune.longitude
        )
        if distance <= radius_km:
            commune.distance_km = distance
            found.append(commune)
    found.sort(key=lambda c: (c.distance_km, c.insee_code))
    return found


def communes_without_coordinates_near(communes: list[Commune]) -> QuerySet[Commune]:
    """Communes without coordinates that share a postal code with the given ones: they may lie
    inside a radius but cannot be placed, so a radius selection reports them."""
    codes = {c.insee_code for c in communes}
    return (
        Commune.objects.filter(
            latitude__isnull=True,
            postal_codes__code__in=Commune.objects.filter(insee_code__in=codes).values(
                "postal_codes__code"
            ),
        )
        .distinct()
        .order_by("insee_code")
    )


def cpts_territory_summary(cpts: CPTS) -> dict:
    """Number of communes and population of a CPTS territory."""
    from django.db.models import Count, Sum

    return Commune.objects.filter(territory__cpts=cpts).aggregate(
        communes=Count("insee_code"), population=Sum("population", default=0)
    )
