"""Writes on territory data: the commune reference file, CPTS and their communes."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from .codes import format_codes, normalise_departement, normalise_name, parse_insee_codes
from .models import CPTS, Commune, CoordinatesQuality, PostalCode, TerritoryCommune
from .selectors import communes_within_radius, communes_without_coordinates_near

COMMUNES_FILE = Path(__file__).resolve().parent / "data" / "communes.csv.gz"
MAX_RADIUS_KM = 100
COMMUNE_FIELDS = [
    "name",
    "search_name",
    "departement",
    "region",
    "population",
    "latitude",
    "longitude",
    "coordinates_quality",
]


# --- reference data --------------------------------------------------------------------------


@dataclass
class LoadResult:
    created: int = 0
    updated: int = 0
    postal_codes_created: int = 0
    postal_codes_deleted: int = 0
    not_in_file: int = 0  # communes in the database that the file no longer lists (kept)


def _read_communes_file(path: Path) -> tuple[list[Commune], set[tuple[str, str]]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(io.StringIO(fh.read()))
        communes, postal_codes = [], set()
        for row in reader:
            quality = row["quality"]
            has_coordinates = bool(row["latitude"]) and quality != CoordinatesQuality.UNKNOWN
            communes.append(
                Commune(
                    insee_code=row["insee"],
                    name=row["name"],
                    search_name=normalise_name(row["name"]),
                    departement=row["departement"],
                    region=row["region"],
                    population=int(row["population"] or 0),
                    latitude=float(row["latitude"]) if has_coordinates else None,
                    longitude=float(row["longitude"]) if has_coordinates else None,
                    coordinates_quality=quality if has_coordinates else CoordinatesQuality.UNKNOWN,
                )
            )
            postal_codes.update((code, row["insee"]) for code in row["postal_codes"].split())
    return communes, postal_codes


def communes_load(*, path: Path = COMMUNES_FILE) -> LoadResult:
    """Load (or refresh) every commune and its postal codes from the reference file.

    One transaction, bulk operations: an upsert on the INSEE code, so a re-run updates names,
    populations and coordinates without duplicating anything. Communes missing from the file
    are kept (a CPTS may still list them) and counted.
    """
    communes, wanted_postal_codes = _read_communes_file(path)
    result = LoadResult()
    with transaction.atomic():
        existing = set(Commune.objects.values_list("insee_code", flat=True))
        in_file = {c.insee_code for c in communes}
        result.created = len(in_file - existing)
        result.updated = len(in_file & existing)
        result.not_in_file = len(existing - in_file)
        Commune.objects.bulk_create(
            communes,
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["insee_code"],
            update_fields=COMMUNE_FIELDS,
        )
        current = {
            (code, insee): pk
            for pk, code, insee in PostalCode.objects.filter(commune_id__in=in_file).values_list(
                "pk", "code", "commune_id"
            )
        }
        obsolete = [pk for key, pk in current.items() if key not in wanted_postal_codes]
        for start in range(0, len(obsolete), 2000):
            PostalCode.objects.filter(pk__in=obsolete[start : start + 2000]).delete()
        missing = [
            PostalCode(code=code, commune_id=insee)
            for code, insee in sorted(wanted_postal_codes)
            if (code, insee) not in current
        ]
        PostalCode.objects.bulk_create(missing, batch_size=2000)
        result.postal_codes_created = len(missing)
        result.postal_codes_deleted = len(obsolete)
    return result


# --- CPTS territories ------------------------------------------------------------------------


@dataclass
class TerritorySelection:
    """Communes chosen by one territory definition, and what could not be chosen."""

    communes: list[Commune] = field(default_factory=list)
    # communes without coordinates that share a postal code with the radius selection: they
    # may lie inside the circle but cannot be placed, so they are reported, not selected
    without_coordinates: list[Commune] = field(default_factory=list)
    added: int = 0

    @property
    def population(self) -> int:
        return sum(c.population for c in self.communes)


def territory_select(
    *,
    insee_codes: str | Iterable[str] = (),
    departement: str = "",
    center_insee: str = "",
    radius_km: float | None = None,
    cpts: CPTS | None = None,
    required: bool = True,
) -> TerritorySelection:
    """Resolve the three ways of defining a territory (union of those given) into communes.

    Raises a ValidationError keyed by field (insee_codes, departement, center_insee,
    radius_km) for unknown codes, an unknown département, a centre without coordinates, a
    bad radius, or communes already in another CPTS than ``cpts``. All or nothing.
    """
    errors: dict[str, list[str]] = {}
    chosen: dict[str, tuple[Commune, str]] = {}  # INSEE code → (commune, field that chose it)
    selection = TerritorySelection()

    def add(communes: Iterable[Commune], source: str) -> None:
        for commune in communes:
            chosen.setdefault(commune.insee_code, (commune, source))

    parsed = parse_insee_codes(insee_codes if isinstance(insee_codes, str) else list(insee_codes))
    if parsed.invalid:
        errors.setdefault("insee_codes", []).append(
            f"Ces valeurs ne sont pas des codes INSEE (5 caractères, 2A/2B pour la Corse) : "
            f"{format_codes(parsed.invalid)}."
        )
    if parsed.codes:
        found = Commune.objects.in_bulk(parsed.codes)
        unknown = [code for code in parsed.codes if code not in found]
        if unknown:
            errors.setdefault("insee_codes", []).append(
                f"Codes INSEE inconnus : {format_codes(unknown)}."
            )
        add((found[code] for code in parsed.codes if code in found), "insee_codes")

    if departement and str(departement).strip():
        code = normalise_departement(str(departement))
        communes = list(Commune.objects.filter(departement=code)) if code else []
        if not communes:
            errors["departement"] = [
                f"Département inconnu : « {str(departement).strip()} » (exemples : 62, 2A, 974)."
            ]
        add(communes, "departement")

    center_insee = (center_insee or "").strip()
    if center_insee or radius_km not in (None, ""):
        _select_by_radius(center_insee, radius_km, errors, selection, add)

    if required and not chosen and not errors:
        errors["insee_codes"] = [
            "Indiquez des codes INSEE, un département, ou une commune et un rayon."
        ]

    if chosen:
        taken = (
            TerritoryCommune.objects.filter(commune_id__in=list(chosen))
            .select_related("cpts")
            .order_by("commune_id")
        )
        if cpts is not None and cpts.pk:
            taken = taken.exclude(cpts=cpts)
        overlap: dict[str, list[str]] = {}
        for link in taken:
            source = chosen[link.commune_id][1]
            overlap.setdefault(source, []).append(f"{link.commune_id} ({link.cpts.name})")
        for source, codes in overlap.items():
            errors.setdefault(source, []).append(
                "Ces communes appartiennent déjà à une autre CPTS (les territoires ne se "
                f"chevauchent pas) : {format_codes(codes)}."
            )
    if errors:
        raise ValidationError(errors)
    selection.communes = sorted((c for c, _ in chosen.values()), key=lambda c: c.insee_code)
    return selection


def _select_by_radius(center_insee, radius_km, errors, selection, add) -> None:
    if not center_insee:
        errors["center_insee"] = ["Indiquez la commune centre (code INSEE) du rayon."]
    if radius_km in (None, ""):
        errors["radius_km"] = ["Indiquez le rayon en kilomètres."]
        return
    try:
        radius = float(radius_km)
    except (TypeError, ValueError):
        errors["radius_km"] = ["Le rayon doit être un nombre de kilomètres."]
        return
    if not 0 < radius <= MAX_RADIUS_KM:
        errors["radius_km"] = [f"Le rayon doit être compris entre 0 et {MAX_RADIUS_KM} km."]
        return
    if not center_insee:
        return
    parsed = parse_insee_codes(center_insee)
    center = Commune.objects.filter(insee_code__in=parsed.codes[:1]).first()
    if center is None or len(parsed.codes) != 1 or parsed.invalid:
        errors["center_insee"] = [f"Code INSEE inconnu : « {center_insee} »."]
        return
    if not center.has_coordinates:
        errors["center_insee"] = [
            f"La position de {center.name} ({center.insee_code}) est inconnue : choisissez "
            "une commune voisine comme centre, ou donnez la liste des codes INSEE."
        ]
        return
    communes = communes_within_radius(center, radius)
    add(communes, "center_insee")
    selection.without_coordinates = list(communes_without_coordinates_near(communes))


def _link(cpts: CPTS, communes: list[Commune]) -> int:
    already = set(TerritoryCommune.objects.filter(cpts=cpts).values_list("commune_id", flat=True))
    links = [
        TerritoryCommune(cpts=cpts, commune=c) for c in communes if c.insee_code not in already
    ]
    try:
        with transaction.atomic():
            TerritoryCommune.objects.bulk_create(links, batch_size=1000)
    except IntegrityError as exc:  # another CPTS took one of them meanwhile
        raise ValidationError(
            "Une des communes vient d'être rattachée à une autre CPTS : recommencez."
        ) from exc
    return len(links)


def cpts_create(
    *,
    name: str,
    slug: str,
    insee_codes: str | Iterable[str] = (),
    departement: str = "",
    center_insee: str = "",
    radius_km: float | None = None,
    phone: str = "",
    email: str = "",
) -> CPTS:
    """Create a CPTS and its territory (INSEE codes, a département and/or a radius), or nothing."""
    cpts = CPTS(name=name, slug=slug, phone=phone, email=email)
    errors: dict[str, list[str]] = {}
    try:
        cpts.full_clean()
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        selection = territory_select(
            insee_codes=insee_codes,
            departement=departement,
            center_insee=center_insee,
            radius_km=radius_km,
            required=False,
        )
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        cpts.save()
        selection.added = _link(cpts, selection.communes)
    cpts.territory_selection = selection
    return cpts


def cpts_add_communes(
    *,
    cpts: CPTS,
    insee_codes: str | Iterable[str] = (),
    departement: str = "",
    center_insee: str = "",
    radius_km: float | None = None,
) -> TerritorySelection:
    """Extend a CPTS territory; communes it already has are kept, others' are refused whole."""
    with transaction.atomic():
        selection = territory_select(
            insee_codes=insee_codes,
            departement=departement,
            center_insee=center_insee,
            radius_km=radius_km,
            cpts=cpts,
        )
        selection.added = _link(cpts, selection.communes)
    return selection


def cpts_remove_communes(*, cpts: CPTS, insee_codes: Iterable[str]) -> int:
    """Take communes out of a CPTS territory; returns how many were removed."""
    parsed = parse_insee_codes(list(insee_codes))
    with transaction.atomic():
        deleted, _ = TerritoryCommune.objects.filter(
            cpts=cpts, commune_id__in=parsed.codes
        ).delete()
    return deleted
