"""Writes on the GP directory: manual practitioners, coordinator corrections, declarations.

The RPPS import lives in `accesmt.directory.rpps` (`rpps_import(...)`).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accesmt.territory.geocoding import commune_centre
from accesmt.territory.models import CPTS, Commune

from .models import (
    Accepting,
    AvailabilityDeclaration,
    DeclarationSource,
    DepartureCertainty,
    DepartureScope,
    GeocodeSource,
    GPCount,
    PracticeSite,
    PracticeType,
    Practitioner,
    Source,
    default_valid_until,
)
from .selectors import GP_COUNT_FIELDS, gp_counts_by_cpts, practitioner_belongs_to

if TYPE_CHECKING:
    from accesmt.accounts.models import User

# Fields a coordinator may correct. A corrected field is kept by later imports.
CORRECTABLE_PRACTITIONER_FIELDS = frozenset(
    {"civility", "first_name", "last_name", "email", "birth_year", "age_band", "is_msu"}
)
CORRECTABLE_SITE_FIELDS = frozenset(
    {
        "label",
        "address_line1",
        "address_line2",
        "address_line3",
        "postcode",
        "commune_name",
        "commune",
        "phone",
        "email",
        "practice_type",
        "latitude",
        "longitude",
    }
)
SITE_FIELDS = CORRECTABLE_SITE_FIELDS


def _correction_entry(by: User | None) -> dict[str, Any]:
    return {"at": timezone.now().isoformat(), "by": getattr(by, "pk", None)}


def _site_from(practitioner: Practitioner, data: Mapping[str, Any]) -> PracticeSite:
    import uuid

    unknown = set(data) - SITE_FIELDS
    if unknown:
        raise ValidationError(
            f"Champs inconnus pour un lieu d'exercice : {', '.join(sorted(unknown))}."
        )
    site = PracticeSite(
        practitioner=practitioner,
        site_key=f"manual-{uuid.uuid4().hex}",
        source=Source.MANUAL,
        **dict(data),
    )
    _place_site(site)
    return site


def _place_site(site: PracticeSite) -> None:
    """Default coordinates: the commune centre when the site has none of its own."""
    if site.latitude is not None and site.longitude is not None:
        if site.geocode_source == GeocodeSource.NONE:
            site.geocode_source = GeocodeSource.ADDRESS
        return
    site.latitude, site.longitude, site.geocode_source = commune_centre(site.commune)


@transaction.atomic
def practitioner_create_manual(
    *,
    last_name: str,
    first_name: str = "",
    civility: str = "",
    rpps: str | None = None,
    email: str = "",
    is_msu: bool = False,
    birth_year: int | None = None,
    age_band: str = "",
    site: Mapping[str, Any] | None = None,
    by: User | None = None,
) -> Practitioner:
    """Add a GP missing from the national file (a newly installed GP, typically).

    `site` holds the fields of their practice site (label, address_line1..3, postcode, commune,
    commune_name, phone, email, practice_type, latitude, longitude). When the RPPS number later
    appears in an imported file, the import takes the practitioner over (source becomes "rpps")
    and keeps the sites added here."""
    rpps = (rpps or "").strip() or None
    if rpps and Practitioner.objects.filter(rpps=rpps).exists():
        raise ValidationError({"rpps": "Ce numéro RPPS est déjà dans l'annuaire."})
    practitioner = Practitioner(
        rpps=rpps,
        civility=civility,
        first_name=first_name,
        last_name=last_name,
        email=email,
        is_msu=is_msu,
        birth_year=birth_year,
        age_band=age_band,
        source=Source.MANUAL,
    )
    practitioner.full_clean()
    practitioner.save()
    if site is not None:
        practice_site = _site_from(practitioner, site)
        practice_site.full_clean()
        practice_site.save()
    return practitioner


@transaction.atomic
def practice_site_create_manual(
    *, practitioner: Practitioner, fields: Mapping[str, Any], by: User | None = None
) -> PracticeSite:
    """Add a practice site a coordinator knows of (kept by imports: its source is manual)."""
    site = _site_from(practitioner, fields)
    site.full_clean()
    site.save()
    return site


@transaction.atomic
def practitioner_correct(
    *, practitioner: Practitioner, fields: Mapping[str, Any], by: User | None = None
) -> Practitioner:
    """Correct data of a practitioner. The corrected fields are recorded in `corrections` so
    that later imports of the RPPS file do not overwrite them."""
    unknown = set(fields) - CORRECTABLE_PRACTITIONER_FIELDS
    if unknown:
        raise ValidationError(f"Champs non modifiables : {', '.join(sorted(unknown))}.")
    practitioner = Practitioner.objects.select_for_update().get(pk=practitioner.pk)
    corrections = dict(practitioner.corrections)
    for name, value in fields.items():
        setattr(practitioner, name, value)
        corrections[name] = _correction_entry(by)
    practitioner.corrections = corrections
    practitioner.full_clean()
    practitioner.save()
    return practitioner


@transaction.atomic
def practice_site_correct(
    *, site: PracticeSite, fields: Mapping[str, Any], by: User | None = None
) -> PracticeSite:
    """Correct a practice site (address, commune, phone, type, coordinates); corrected fields are
    kept by later imports. Changing the commune without coordinates re-places the site at the
    commune centre."""
    unknown = set(fields) - CORRECTABLE_SITE_FIELDS
    if unknown:
        raise ValidationError(f"Champs non modifiables : {', '.join(sorted(unknown))}.")
    site = PracticeSite.objects.select_for_update().get(pk=site.pk)
    corrections = dict(site.corrections)
    for name, value in fields.items():
        setattr(site, name, value)
        corrections[name] = _correction_entry(by)
    if "latitude" in fields or "longitude" in fields:
        site.geocode_source = (
            GeocodeSource.ADDRESS if site.latitude is not None else GeocodeSource.NONE
        )
    elif "commune" in fields:
        site.latitude = site.longitude = None
        _place_site(site)
    site.corrections = corrections
    site.full_clean()
    site.save()
    return site


@transaction.atomic
def practitioner_mark_gone(*, practitioner: Practitioner, by: User | None = None) -> Practitioner:
    """The coordination knows the GP has left (before the national file says so)."""
    practitioner = Practitioner.objects.select_for_update().get(pk=practitioner.pk)
    if not practitioner.is_gone:
        practitioner.is_gone = True
        practitioner.gone_since = timezone.now()
        practitioner.save(update_fields=["is_gone", "gone_since", "updated_at"])
    return practitioner


@transaction.atomic
def declaration_create(
    *,
    practitioner: Practitioner,
    cpts: CPTS,
    accepting: str,
    listing: str,
    source: str,
    monthly_capacity: int | None = None,
    transfer_capacity: int | None = None,
    accepts_children_under_6: bool = False,
    accepts_aged_70_plus: bool = False,
    accepts_ald: bool = False,
    accepts_css_ame: bool = False,
    accepts_home_visits: bool = False,
    accepts_households: bool = False,
    home_visit_communes: Iterable[Commune] = (),
    home_visit_radius_km: int | None = None,
    planned_departure_date: datetime.date | None = None,
    departure_certainty: str = "",
    departure_scope: str = "",
    approx_patient_count: int | None = None,
    remarks: str = "",
    recorded_by=None,
    declared_at: datetime.datetime | None = None,
) -> AvailabilityDeclaration:
    """Record a new availability declaration; it becomes the practitioner's current one in the
    CPTS and stays valid `settings.DECLARATION_VALIDITY_DAYS` days.

    Raises ValidationError (French messages keyed by field) when the practitioner has no site in
    the CPTS territory, when a GP who refuses new patients declares a capacity, when home visits
    are accepted without a zone (communes or radius), or when a value is out of range."""
    declared_at = declared_at or timezone.now()
    communes = list(home_visit_communes)
    errors: dict[str, str] = {}
    if not practitioner_belongs_to(practitioner, cpts):
        errors["practitioner"] = "Ce médecin n'exerce pas sur le territoire de cette CPTS."
    if accepting == Accepting.NO and monthly_capacity:
        errors["monthly_capacity"] = (
            "Un médecin qui ne prend pas de nouveaux patients ne déclare pas de capacité."
        )
    if transfer_capacity and (
        accepting == Accepting.NO
        or monthly_capacity is None
        or transfer_capacity > monthly_capacity
    ):
        errors["transfer_capacity"] = (
            "Les places pour des transferts sont une partie des nouveaux patients par mois : "
            "pas plus qu'eux."
        )
    if accepts_home_visits and not communes and not home_visit_radius_km:
        errors["home_visit_radius_km"] = (
            "Indiquez où vous faites des visites à domicile : un rayon autour du cabinet ou une "
            "liste de communes."
        )
    if errors:
        raise ValidationError(errors)
    if planned_departure_date is None:
        departure_certainty = departure_scope = ""
    else:
        # A date given without its details is a probable, full departure (as the dates recorded
        # before the details existed: directory migration 0007).
        departure_certainty = departure_certainty or DepartureCertainty.PROBABLE
        departure_scope = departure_scope or DepartureScope.FULL
    declaration = AvailabilityDeclaration(
        practitioner=practitioner,
        cpts=cpts,
        declared_at=declared_at,
        valid_until=default_valid_until(declared_at),
        accepting=accepting,
        monthly_capacity=None if accepting == Accepting.NO else monthly_capacity,
        transfer_capacity=None if accepting == Accepting.NO else transfer_capacity,
        accepts_children_under_6=accepts_children_under_6,
        accepts_aged_70_plus=accepts_aged_70_plus,
        accepts_ald=accepts_ald,
        accepts_css_ame=accepts_css_ame,
        accepts_home_visits=accepts_home_visits,
        accepts_households=accepts_households,
        home_visit_radius_km=home_visit_radius_km if accepts_home_visits else None,
        listing=listing,
        planned_departure_date=planned_departure_date,
        departure_certainty=departure_certainty,
        departure_scope=departure_scope,
        approx_patient_count=approx_patient_count,
        remarks=remarks,
        source=source,
        recorded_by=recorded_by,
    )
    declaration.full_clean()
    declaration.save()
    if accepts_home_visits and communes:
        declaration.home_visit_communes.set(communes)
    return declaration


__all__ = [
    "CORRECTABLE_PRACTITIONER_FIELDS",
    "CORRECTABLE_SITE_FIELDS",
    "DeclarationSource",
    "PracticeType",
    "declaration_create",
    "practice_site_correct",
    "practice_site_create_manual",
    "practitioner_correct",
    "practitioner_create_manual",
    "practitioner_mark_gone",
]


@transaction.atomic
def gp_counts_record(*, cpts_ids: Iterable[int], on: datetime.date | None = None) -> list[GPCount]:
    """Count the GPs of each CPTS of `cpts_ids` as they are now and keep the count dated `on`
    (today): one row per CPTS and day, replacing a count made earlier that day."""
    on = on or timezone.localdate()
    cpts_ids = sorted(set(cpts_ids))
    counts = gp_counts_by_cpts(cpts_ids, on=on)
    GPCount.objects.filter(cpts_id__in=cpts_ids, date=on).delete()
    zero = dict.fromkeys(GP_COUNT_FIELDS, 0)
    return GPCount.objects.bulk_create(
        GPCount(cpts_id=cpts_id, date=on, **counts.get(cpts_id, zero)) for cpts_id in cpts_ids
    )
