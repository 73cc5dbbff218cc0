"""Reads on communes and CPTS territories."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Case, IntegerField, Prefetch, Q, QuerySet, Value, When

from .codes import ABBREVIATIONS, normalise_name
from .distances import bounding_box, haversine_km
from .models import CPTS, Commune, PostalCode, TerritoryCommune

SEARCH_LIMIT = 20


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


@dataclass(frozen=True)
class CommuneSearch:
    """Communes found for what a person typed, at most SEARCH_LIMIT; each carries `cpts` (the
    active CPTS of the platform covering it, or None) and `postal_codes_shown` ("62300")."""

    communes: list[Commune]
    more: bool  # more communes matched than are listed

    @property
    def single(self) -> Commune | None:
        return self.communes[0] if len(self.communes) == 1 else None


def communes_search(text: str = "", *, insee: str = "", limit: int = SEARCH_LIMIT) -> CommuneSearch:
    """Communes for a postal code (5 digits, exact) or a name compared without accents, case,
    hyphens or leading article (normalise_name). A name matches the communes whose name is it
    ("Lens" finds Lens first) or starts with it (then Lens-…), the most populated first.
    `insee` picks one commune (a choice among several results). Indexed lookups (search_name,
    postal code, INSEE code); 2 queries whatever the number of communes."""
    text = text.strip()
    communes = Commune.objects.select_related("territory__cpts").prefetch_related(
        Prefetch("postal_codes", queryset=PostalCode.objects.order_by("code"))
    )
    if insee:
        communes = communes.filter(insee_code=insee)
    elif re.fullmatch(r"\d{5}", text):
        communes = communes.filter(postal_codes__code=text).distinct().order_by("-population")
    else:
        wanted = normalise_name(text)
        if not wanted:
            return CommuneSearch(communes=[], more=False)
        exact_first = Case(
            When(search_name=wanted, then=Value(0)), default=Value(1), output_field=IntegerField()
        )
        # "Saint" is stored as "st": "saint" must not find Strasbourg, only whole words after it.
        prefix = wanted + " " if wanted.rsplit(" ", 1)[-1] in ABBREVIATIONS else wanted
        communes = communes.filter(
            Q(search_name=wanted) | Q(search_name__startswith=prefix)
        ).order_by(exact_first, "-population", "name")
    found = list(communes[: limit + 1])
    for commune in found:
        link = getattr(commune, "territory", None)
        commune.cpts = link.cpts if link is not None and link.cpts.is_active else None
        commune.postal_codes_shown = ", ".join(p.code for p in commune.postal_codes.all())
    return CommuneSearch(communes=found[:limit], more=len(found) > limit)


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
