"""Phase 2 of an RPPS import: write the rows read into the directory in one transaction (all or
nothing), keeping the coordination's corrections, and mark absent the GPs and sites of the scope
the file no longer lists, after checking that not too many would go (`_check_absences`). Last,
the GPs of every CPTS the import covered are counted and the count kept with its date
(`GPCount`, the history of the number of GPs)."""

from __future__ import annotations

import datetime
import hashlib
import json
import time
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accesmt.territory.geocoding import commune_centre
from accesmt.territory.models import CPTS, Commune, TerritoryCommune

from ..models import GP_PROFESSION_CODE, GeocodeSource, PracticeSite, Practitioner, Source
from ..services import gp_counts_record
from .reader import Scope, ScopeRows, SiteRow
from .report import CptsAbsences, ImportReport, RppsAbsencesNeedConfirmation

BATCH_SIZE = 500  # rows looked at through the ORM (changed ones) per query
WRITE_BATCH_SIZE = 5_000  # new rows per COPY / executemany

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


def _row_hash(values: Iterable[Any]) -> str:
    """Digest of the file's values of a row (16 hex characters): equal to the one stored by the
    last import that wrote the row when the file has not changed it."""
    text = "\x1f".join(v if isinstance(v, str) else ",".join(v) for v in values)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


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


def _update_rows(model, objects: list, names: list[str]) -> None:
    """Write `names` of already-loaded `objects`: one parameterised UPDATE per row sent by
    executemany (pipelined by psycopg). Django's bulk_update compiles a CASE per column with a
    WHEN per row: 150 ms of Python per 50 sites, 5.6 s for the 1,028 sites of a 1 % change."""
    if not objects:
        return
    fields = [model._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    # Table and column names come from the model's meta, quoted; values are bound.
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    sql = f"UPDATE {table} SET {assignments} WHERE {pk} = %s"  # noqa: S608
    rows = [
        [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in fields]
        + [obj.pk]
        for obj in objects
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


class _Inserter:
    """Inserts rows given as tuples of column values, without model instances: COPY on
    PostgreSQL, executemany elsewhere (SQLite)."""

    def __init__(self, model, names: tuple[str, ...]):
        self.table = model._meta.db_table
        self.columns = [model._meta.get_field(name).column for name in names]
        self.postgres = connection.vendor == "postgresql"

    def value(self, value: Any) -> Any:
        """A datetime as the backend wants it (SQLite: text)."""
        if isinstance(value, datetime.datetime) and not self.postgres:
            return connection.ops.adapt_datetimefield_value(value)
        return value

    def insert(self, rows: list[tuple]) -> None:
        if not rows:
            return
        columns = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        table = connection.ops.quote_name(self.table)
        with connection.cursor() as cursor:
            if self.postgres:
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(self.columns))
                # Table and column names come from the model's meta, quoted; values are bound.
                sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
                cursor.executemany(sql, rows)


_NEW_PRACTITIONER = (
    "rpps",
    "civility",
    "first_name",
    "last_name",
    "specialty_codes",
    "email",
    "profession_code",
    "age_band",
    "is_msu",
    "source",
    "is_gone",
    "corrections",
    "imported_at",
    "created_at",
    "updated_at",
    "import_hash",
)


def _known_practitioners() -> dict[int, tuple[int, str, bool]]:
    """RPPS number -> (id, hash of the file's values last written, must be looked at whatever
    the hash: gone or added by hand)."""
    known: dict[int, tuple[int, str, bool]] = {}
    rows = Practitioner.objects.filter(rpps__isnull=False).values_list(
        "rpps", "pk", "import_hash", "is_gone", "source"
    )
    for rpps, pk, digest, is_gone, source in rows.iterator(chunk_size=10_000):
        known[int(rpps)] = (pk, digest, is_gone or source != Source.RPPS)
    return known


def _apply_practitioners(rows: ScopeRows, *, report: ImportReport, now) -> dict[int, int]:
    """Create or update the practitioners; returns their ids by RPPS number. A known one whose
    file values hash as last time (and is present, from the file) is not touched."""
    known = _known_practitioners()
    inserter = _Inserter(Practitioner, _NEW_PRACTITIONER)
    stamp = inserter.value(now)
    ids: dict[int, int] = {}
    to_create: list[tuple] = []
    to_look_at: dict[int, tuple[dict[str, Any], str]] = {}  # id -> (file values, hash)

    def create() -> None:
        inserter.insert(to_create)
        numbers = [row[0] for row in to_create]
        created = Practitioner.objects.filter(rpps__in=numbers).values_list("rpps", "pk")
        ids.update((int(rpps), pk) for rpps, pk in created)
        report.practitioners_created += len(to_create)
        to_create.clear()

    for row in rows:
        number = int(row.rpps)
        if number in ids:
            continue  # the practitioner's first row decides (their other sites come later)
        values = {
            "civility": row.civility,
            "first_name": row.first_name,
            "last_name": row.last_name,
            "specialty_codes": rows.specialty_codes(row.rpps),
            "email": rows.email(row.rpps),
        }
        digest = _row_hash(values.values())
        pk, known_digest, look_anyway = known.pop(number, (None, "", False))
        if pk is None:
            ids[number] = 0  # created below
            to_create.append(
                (
                    row.rpps,
                    *(values[name] for name in ("civility", "first_name", "last_name")),
                    json.dumps(values["specialty_codes"]),
                    values["email"],
                    GP_PROFESSION_CODE,
                    "",
                    False,
                    Source.RPPS.value,
                    False,
                    "{}",
                    stamp,
                    stamp,
                    stamp,
                    digest,
                )
            )
            if len(to_create) >= WRITE_BATCH_SIZE:
                create()
            continue
        ids[number] = pk
        if digest == known_digest and not look_anyway:
            report.practitioners_unchanged += 1
            continue
        to_look_at[pk] = (values, digest)
        if len(to_look_at) >= BATCH_SIZE:
            _update_practitioners(to_look_at, report=report, now=now)
    create()
    _update_practitioners(to_look_at, report=report, now=now)
    return ids


def _update_practitioners(
    to_look_at: dict[int, tuple[dict[str, Any], str]], *, report: ImportReport, now
) -> None:
    """Apply the file's values to practitioners whose hash changed (or gone / added by hand)."""
    to_update = []
    for practitioner in Practitioner.objects.filter(pk__in=list(to_look_at)):
        values, digest = to_look_at[practitioner.pk]
        changed = _update_practitioner(practitioner, values, report)
        report.practitioners_updated += changed
        report.practitioners_unchanged += not changed
        if not changed and practitioner.import_hash == digest:
            continue
        practitioner.import_hash = digest
        if changed:
            practitioner.updated_at = practitioner.imported_at = now
        to_update.append(practitioner)
    _update_rows(
        Practitioner,
        to_update,
        [
            *PRACTITIONER_FIELDS,
            "is_gone",
            "gone_since",
            "source",
            "imported_at",
            "updated_at",
            "import_hash",
        ],
    )
    to_look_at.clear()


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


_NEW_SITE = (
    "practitioner",
    *SITE_FIELDS,
    "commune",
    "site_key",
    "latitude",
    "longitude",
    "geocode_source",
    "source",
    "is_gone",
    "corrections",
    "imported_at",
    "created_at",
    "updated_at",
    "import_hash",
)


def _site_ref(practitioner_id: int, site_key: str) -> int | tuple[int, str]:
    """Compact key of a site: one integer for the 32-hex keys the import makes."""
    try:
        return practitioner_id << 128 | int(site_key, 16)
    except ValueError:
        return practitioner_id, site_key


def _site_hash(site: SiteRow) -> str:
    return _row_hash((*(getattr(site, name) for name in SITE_FIELDS), site.commune_id))


def _known_sites() -> dict[int | tuple[int, str], tuple[int, str, bool]]:
    """Site -> (id, hash of the file's values last written, must be looked at whatever the hash:
    gone or not placed) for every site from the file."""
    known: dict[int | tuple[int, str], tuple[int, str, bool]] = {}
    rows = PracticeSite.objects.filter(source=Source.RPPS).values_list(
        "practitioner_id", "site_key", "pk", "import_hash", "is_gone", "geocode_source"
    )
    for practitioner_id, key, pk, digest, is_gone, placed in rows.iterator(chunk_size=10_000):
        look_anyway = is_gone or placed == GeocodeSource.NONE
        known[_site_ref(practitioner_id, key)] = (pk, digest, look_anyway)
    return known


def _apply_sites(rows: ScopeRows, ids: dict[int, int], *, report: ImportReport, now) -> list[int]:
    """Create or update the sites of the rows; returns the ids of the sites from the file that
    this file no longer lists (candidates to mark gone, whatever their scope)."""
    centres = {
        pk: (lat, lon)
        for pk, lat, lon in Commune.objects.filter(
            latitude__isnull=False, longitude__isnull=False
        ).values_list("pk", "latitude", "longitude")
    }
    known = _known_sites()
    inserter = _Inserter(PracticeSite, _NEW_SITE)
    stamp = inserter.value(now)
    to_create: list[tuple] = []
    to_look_at: dict[int, tuple[SiteRow, str]] = {}
    for row in rows:
        site_row = row.site
        practitioner_id = ids[int(row.rpps)]
        digest = _site_hash(site_row)
        pk, known_digest, look_anyway = known.pop(
            _site_ref(practitioner_id, site_row.site_key), (None, "", False)
        )
        if pk is None:
            centre = centres.get(site_row.commune_id)
            placed = (
                (*centre, GeocodeSource.COMMUNE_CENTRE.value) if centre else (None, None, "none")
            )
            to_create.append(
                (
                    practitioner_id,
                    *(getattr(site_row, name) for name in SITE_FIELDS),
                    site_row.commune_id,
                    site_row.site_key,
                    *placed,
                    Source.RPPS.value,
                    False,
                    "{}",
                    stamp,
                    stamp,
                    stamp,
                    digest,
                )
            )
            if len(to_create) >= WRITE_BATCH_SIZE:
                inserter.insert(to_create)
                report.sites_created += len(to_create)
                to_create.clear()
            continue
        if digest == known_digest and not look_anyway:
            continue
        to_look_at[pk] = (site_row, digest)
        if len(to_look_at) >= BATCH_SIZE:
            _update_sites(to_look_at, centres, report=report, now=now)
    inserter.insert(to_create)
    report.sites_created += len(to_create)
    _update_sites(to_look_at, centres, report=report, now=now)
    return [pk for pk, _digest, _look in known.values()]


def _update_sites(
    to_look_at: dict[int, tuple[SiteRow, str]], centres, *, report: ImportReport, now
) -> None:
    communes = _Centres(centres)
    to_update = []
    for site in PracticeSite.objects.filter(pk__in=list(to_look_at)):
        site_row, digest = to_look_at[site.pk]
        changed = _update_site(site, site_row, communes)
        report.sites_updated += changed
        if not changed and site.import_hash == digest:
            continue  # e.g. a site in a commune without coordinates, still not placed
        site.import_hash = digest
        if changed:
            site.updated_at = site.imported_at = now
        to_update.append(site)
    _update_rows(
        PracticeSite,
        to_update,
        [
            *SITE_FIELDS,
            "commune",
            "latitude",
            "longitude",
            "geocode_source",
            "is_gone",
            "gone_since",
            "imported_at",
            "updated_at",
            "import_hash",
        ],
    )
    to_look_at.clear()


class _Centres:
    """Commune centres looked up like the `communes` mapping `_place` expects."""

    def __init__(self, centres: dict[str, tuple[float, float]]):
        self.centres = centres

    def get(self, commune_id: str | None) -> Commune | None:
        centre = self.centres.get(commune_id)
        if centre is None:
            return None
        return Commune(pk=commune_id, latitude=centre[0], longitude=centre[1])


def _mark_gone(
    scope: Scope,
    unlisted_site_ids: list[int],
    *,
    report: ImportReport,
    now,
    present_before: dict[int, set[int]] | None,
) -> None:
    # Sites of the scope from an earlier file that this file no longer lists: gone.
    for chunk in _chunks(unlisted_site_ids):
        stale_sites = PracticeSite.objects.filter(
            scope.q(), pk__in=chunk, source=Source.RPPS, is_gone=False
        )
        report.sites_gone += stale_sites.update(is_gone=True, gone_since=now, updated_at=now)
    # Practitioners of the scope left with no present site (so not in the file): gone.
    stale_practitioners = (
        Practitioner.objects.filter(source=Source.RPPS, is_gone=False)
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
    rows: ScopeRows,
    *,
    scope: Scope,
    report: ImportReport,
    confirm_absences: bool = False,
) -> ImportReport:
    """Write the rows read into the directory, in one transaction (all or nothing). Raises
    RppsAbsencesNeedConfirmation (nothing written) when the GPs to mark absent exceed
    settings.RPPS_MAX_ABSENT_SHARE of a CPTS's present GPs, unless `confirm_absences`."""
    started = time.monotonic()
    phases = report.phases
    now = timezone.now()
    present_before = None if confirm_absences else _present_gps_by_cpts()
    phases["présents avant"] = time.monotonic() - started
    ids = _apply_practitioners(rows, report=report, now=now)
    phases["médecins"] = time.monotonic() - started - sum(phases.values())
    unlisted = _apply_sites(rows, ids, report=report, now=now)
    del ids
    phases["lieux"] = time.monotonic() - started - sum(phases.values())
    _mark_gone(scope, unlisted, report=report, now=now, present_before=present_before)
    phases["départs"] = time.monotonic() - started - sum(phases.values())
    if connection.vendor == "postgresql" and (report.practitioners_created or report.sites_created):
        # Tens of thousands of rows just copied in: the planner's statistics are refreshed now,
        # not at autovacuum's next pass (until then, lookups by id planned as full scans made
        # the next import's updates 10× slower).
        with connection.cursor() as cursor:
            for model in (Practitioner, PracticeSite):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    phases["statistiques"] = time.monotonic() - started - sum(phases.values())
    gp_counts_record(cpts_ids=_cpts_covered(scope), on=timezone.localdate(now))
    phases["comptes"] = time.monotonic() - started - sum(phases.values())
    report.apply_seconds = time.monotonic() - started
    return report
