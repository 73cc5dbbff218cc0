"""Phase 2 of an RPPS import: write the rows read into the directory in one transaction (all or
nothing), keeping the coordination's corrections, and mark absent the GPs and sites of the scope
the file no longer lists, after checking that not too many would go (`_check_absences`). Last,
the GPs of every CPTS the import covered are counted and the count kept with its date
(`GPCount`, the history of the number of GPs)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accesmt.territory.geocoding import commune_centre
from accesmt.territory.models import CPTS, Commune, TerritoryCommune

from ..models import GeocodeSource, PracticeSite, Practitioner, Source
from ..services import gp_counts_record
from .reader import PractitionerRow, Scope, SiteRow
from .report import CptsAbsences, ImportReport, RppsAbsencesNeedConfirmation

BATCH_SIZE = 500

PRACTITIONER_FIELDS = ("civility", "first_name", "last_name", "specialty_codes", "email")
SITE_FIELDS = (
    "structure_id",
    "label",
    "address_line1",
    "address_line2",
    "address_line3",
    "postcode",
    "commune_name",
    "phone",
    "email",
    "practice_type",
)
_ADDRESS_FIELDS = ("address_line1", "address_line2", "address_line3", "postcode")


def _chunks(items: list, size: int = BATCH_SIZE) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _place(site: PracticeSite, communes: dict[str, Commune]) -> None:
    site.latitude, site.longitude, site.geocode_source = commune_centre(
        communes.get(site.commune_id)
    )


def _present_gps_by_cpts() -> dict[int, set[int]]:
    """Ids of the present GPs of each CPTS (a present site in its territory), before the import."""
    by_cpts: dict[int, set[int]] = {}
    rows = (
        PracticeSite.objects.filter(
            is_gone=False, practitioner__is_gone=False, commune__territory__isnull=False
        )
        .values_list("commune__territory__cpts_id", "practitioner_id")
        .distinct()
    )
    for cpts_id, practitioner_id in rows.iterator(chunk_size=5000):
        by_cpts.setdefault(cpts_id, set()).add(practitioner_id)
    return by_cpts


def _check_absences(
    present: dict[int, set[int]], gone_ids: set[int], *, share: float, report: ImportReport
) -> None:
    """Raise RppsAbsencesNeedConfirmation when the GPs to mark absent exceed `share` of the
    present GPs of a CPTS."""
    over = {
        cpts_id: ids & gone_ids
        for cpts_id, ids in present.items()
        if len(ids & gone_ids) > share * len(ids)
    }
    if not over:
        return
    names = dict(CPTS.objects.filter(pk__in=over).values_list("pk", "name"))
    cpts = [
        CptsAbsences(names[cpts_id], len(absent), len(present[cpts_id]))
        for cpts_id, absent in sorted(over.items(), key=lambda item: names[item[0]])
    ]
    ids = set().union(*over.values())
    practitioners = sorted(
        ((p.rpps, p.display_name) for p in Practitioner.objects.filter(pk__in=ids)),
        key=lambda item: (item[1].split()[-1], item[1]),
    )
    raise RppsAbsencesNeedConfirmation(
        share=share, cpts=cpts, practitioners=practitioners, report=report
    )


def _practitioner_values(row: PractitionerRow) -> dict[str, Any]:
    return {
        "civility": row.civility,
        "first_name": row.first_name,
        "last_name": row.last_name,
        "specialty_codes": sorted(row.specialty_codes),
        "email": row.email,
    }


def _update_practitioner(
    practitioner: Practitioner, values: dict[str, Any], report: ImportReport
) -> bool:
    """Apply the file's values to a known practitioner (corrected fields kept); True if changed."""
    changed = False
    for name, value in values.items():
        if name in practitioner.corrections or getattr(practitioner, name) == value:
            continue
        if name == "email" and not value:
            continue  # keep an address found earlier rather than blanking it
        setattr(practitioner, name, value)
        changed = True
    if practitioner.is_gone:
        practitioner.is_gone, practitioner.gone_since = False, None
        report.practitioners_back += 1
        changed = True
    if practitioner.source != Source.RPPS:
        practitioner.source = Source.RPPS  # a GP added by hand is now in the national file
        changed = True
    return changed


def _apply_practitioners(
    practitioners: dict[str, PractitionerRow], *, report: ImportReport, now
) -> dict[str, int]:
    """Create or update the practitioners; returns their ids by RPPS number."""
    existing: dict[str, Practitioner] = {}
    rpps_numbers = list(practitioners)
    for chunk in _chunks(rpps_numbers):
        for practitioner in Practitioner.objects.filter(rpps__in=chunk):
            existing[practitioner.rpps] = practitioner

    to_create: list[Practitioner] = []
    to_update: list[Practitioner] = []
    seen_ids: list[int] = []
    for rpps, row in practitioners.items():
        practitioner = existing.get(rpps)
        values = _practitioner_values(row)
        if practitioner is None:
            to_create.append(Practitioner(rpps=rpps, source=Source.RPPS, imported_at=now, **values))
            continue
        changed = _update_practitioner(practitioner, values, report)
        report.practitioners_updated += changed
        report.practitioners_unchanged += not changed
        seen_ids.append(practitioner.pk)
        if changed:
            practitioner.updated_at = now
            to_update.append(practitioner)
    Practitioner.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    report.practitioners_created = len(to_create)
    # bulk_update writes CASE expressions, slow to build: only for the rows that changed.
    Practitioner.objects.bulk_update(
        to_update,
        [*PRACTITIONER_FIELDS, "is_gone", "gone_since", "source", "updated_at"],
        batch_size=BATCH_SIZE,
    )
    for chunk in _chunks(seen_ids):
        Practitioner.objects.filter(pk__in=chunk).update(imported_at=now)
    # bulk_create on SQLite/PostgreSQL sets pks; re-read to be independent of the backend.
    ids: dict[str, int] = {}
    for chunk in _chunks(rpps_numbers):
        ids.update(Practitioner.objects.filter(rpps__in=chunk).values_list("rpps", "pk"))
    return ids


def _update_site(site: PracticeSite, site_row: SiteRow, communes: dict[str, Commune]) -> bool:
    """Apply the file's values to a known site (corrected fields kept; moved: placed again at
    its commune centre unless its coordinates were corrected); True if changed."""
    corrected = site.corrections
    changed = False
    moved = False
    for name in SITE_FIELDS:
        value = getattr(site_row, name)
        if name in corrected or getattr(site, name) == value:
            continue
        setattr(site, name, value)
        changed = True
        moved = moved or name in _ADDRESS_FIELDS
    if "commune" not in corrected and site.commune_id != site_row.commune_id:
        site.commune_id = site_row.commune_id
        changed = moved = True
    coordinates_corrected = "latitude" in corrected or "longitude" in corrected
    if not coordinates_corrected and (moved or site.geocode_source == GeocodeSource.NONE):
        placed = (site.latitude, site.longitude, site.geocode_source)
        _place(site, communes)
        changed = changed or placed != (site.latitude, site.longitude, site.geocode_source)
    if site.is_gone:
        site.is_gone, site.gone_since = False, None
        changed = True
    return changed


def _apply_sites(
    practitioners: dict[str, PractitionerRow],
    ids: dict[str, int],
    *,
    report: ImportReport,
    now,
) -> None:
    communes = {
        c.pk: c
        for c in Commune.objects.filter(
            pk__in={s.commune_id for p in practitioners.values() for s in p.sites.values()}
        )
    }
    existing_sites: dict[tuple[int, str], PracticeSite] = {}
    for chunk in _chunks(list(ids.values())):
        for site in PracticeSite.objects.filter(practitioner_id__in=chunk, source=Source.RPPS):
            existing_sites[(site.practitioner_id, site.site_key)] = site
    seen_site_ids: set[int] = set()
    sites_to_create: list[PracticeSite] = []
    sites_to_update: list[PracticeSite] = []
    for rpps, row in practitioners.items():
        practitioner_id = ids[rpps]
        for key, site_row in row.sites.items():
            site = existing_sites.get((practitioner_id, key))
            if site is None:
                site = PracticeSite(
                    practitioner_id=practitioner_id,
                    site_key=key,
                    commune_id=site_row.commune_id,
                    source=Source.RPPS,
                    imported_at=now,
                    **{name: getattr(site_row, name) for name in SITE_FIELDS},
                )
                _place(site, communes)
                sites_to_create.append(site)
                continue
            seen_site_ids.add(site.pk)
            changed = _update_site(site, site_row, communes)
            report.sites_updated += changed
            if changed:
                site.updated_at = now
                sites_to_update.append(site)
    PracticeSite.objects.bulk_create(sites_to_create, batch_size=BATCH_SIZE)
    report.sites_created = len(sites_to_create)
    PracticeSite.objects.bulk_update(
        sites_to_update,
        [
            *SITE_FIELDS,
            "commune",
            "latitude",
            "longitude",
            "geocode_source",
            "is_gone",
            "gone_since",
            "updated_at",
        ],
        batch_size=BATCH_SIZE,
    )
    for chunk in _chunks(list(seen_site_ids)):
        PracticeSite.objects.filter(pk__in=chunk).update(imported_at=now)


def _mark_gone(
    scope: Scope, *, report: ImportReport, now, present_before: dict[int, set[int]] | None
) -> None:
    # Sites of the scope from an earlier file that this file no longer lists: gone.
    stale_sites = PracticeSite.objects.filter(scope.q(), source=Source.RPPS, is_gone=False).exclude(
        imported_at=now
    )
    report.sites_gone = stale_sites.update(is_gone=True, gone_since=now, updated_at=now)
    # Practitioners of the scope no longer in the file (no present site left): gone.
    stale_practitioners = (
        Practitioner.objects.filter(source=Source.RPPS, is_gone=False)
        .exclude(imported_at=now)
        .filter(sites__in=PracticeSite.objects.filter(scope.q()))
        .exclude(sites__is_gone=False)
        .distinct()
    )
    gone_ids = list(stale_practitioners.values_list("pk", flat=True))
    if present_before is not None:
        _check_absences(
            present_before, set(gone_ids), share=settings.RPPS_MAX_ABSENT_SHARE, report=report
        )
    report.practitioners_gone = Practitioner.objects.filter(pk__in=gone_ids).update(
        is_gone=True, gone_since=now, updated_at=now
    )


def _cpts_covered(scope: Scope) -> set[int]:
    """Ids of the CPTS whose territory has a commune in the scope of the import."""
    return set(
        TerritoryCommune.objects.filter(scope.q("commune")).values_list("cpts_id", flat=True)
    )


@transaction.atomic
def apply_rpps_rows(
    practitioners: dict[str, PractitionerRow],
    *,
    scope: Scope,
    report: ImportReport,
    confirm_absences: bool = False,
) -> ImportReport:
    """Write the rows read into the directory, in one transaction (all or nothing). Raises
    RppsAbsencesNeedConfirmation (nothing written) when the GPs to mark absent exceed
    settings.RPPS_MAX_ABSENT_SHARE of a CPTS's present GPs, unless `confirm_absences`."""
    started = time.monotonic()
    now = timezone.now()
    present_before = None if confirm_absences else _present_gps_by_cpts()
    ids = _apply_practitioners(practitioners, report=report, now=now)
    _apply_sites(practitioners, ids, report=report, now=now)
    _mark_gone(scope, report=report, now=now, present_before=present_before)
    gp_counts_record(cpts_ids=_cpts_covered(scope), on=timezone.localdate(now))
    report.apply_seconds = time.monotonic() - started
    return report
