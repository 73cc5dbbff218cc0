"""Phase 2 of an RPPS import: write the rows read into the directory in one transaction (all or
nothing), keeping the coordination's corrections, and mark absent the GPs and sites of the scope
the file no longer lists, after checking that not too many would go (`_check_absences`). Last,
the GPs of every CPTS the import covered are counted and the count kept with its date
(`GPCount`, the history of the number of GPs)."""

from __future__ import annotations

import datetime
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
from .reader import (
    SITE_ROW_FIELDS,
    SPOOL_FIELDS,
    Scope,
    ScopeRows,
    SiteRow,
    row_hash,
    specialty_codes_of,
)
from .report import CptsAbsences, ImportReport, RppsAbsencesNeedConfirmation

BATCH_SIZE = 500  # rows looked at through the ORM (changed ones) per query
WRITE_BATCH_SIZE = 5_000  # new rows per COPY / executemany

PRACTITIONER_FIELDS = ("civility", "first_name", "last_name", "specialty_codes", "email")
SITE_FIELDS = SITE_ROW_FIELDS[1:-1]  # the file's values of a site but its key and commune
# Where a spooled row (reader.SPOOL_FIELDS) holds the site: its key, then SITE_FIELDS and the
# commune (the order of _NEW_SITE's columns), then its hash.
_KEY_AT = SPOOL_FIELDS.index("site_key")
_SITE_VALUES = slice(_KEY_AT + 1, SPOOL_FIELDS.index("commune_id") + 1)
_COMMUNE_AT = SPOOL_FIELDS.index("commune_id")
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


_SEP = "\x1f"
# COPY's text format: a backslash, tab, line ending or our separator in a value is escaped.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", _SEP: "\\x1f"})


def _copy_value(value: Any) -> str:
    if value is None:
        return "\\N"
    return str(value).translate(_COPY_ESCAPES)


def _copy_text(rows: list[tuple]) -> str:
    """The rows in COPY's text format. A row of plain values (text without anything to escape,
    numbers, booleans) is joined in C; one holding a NULL or a character to escape goes value by
    value."""
    width = len(rows[0]) - 1
    lines = []
    for row in rows:
        line = None if None in row else _SEP.join(map(str, row))
        if (
            line is None
            or line.count(_SEP) != width
            or "\\" in line
            or "\t" in line
            or "\n" in line
            or "\r" in line
        ):
            line = _SEP.join(map(_copy_value, row))
        lines.append(line)
    lines.append("")
    return "\n".join(lines).replace(_SEP, "\t")


class _Inserter:
    """Inserts rows given as tuples of column values, without model instances: on PostgreSQL
    through one COPY left open from the first batch until `finish` (the server stores a batch
    while the next one is prepared; no other statement may run meanwhile), elsewhere (SQLite)
    by executemany. Use it as a context manager: an error ends an open COPY as failed."""

    def __init__(self, model, names: tuple[str, ...]):
        self.table = model._meta.db_table
        self.columns = [model._meta.get_field(name).column for name in names]
        self.postgres = connection.vendor == "postgresql"
        self._cursor = None
        self._copying = None  # the open COPY's context manager
        self._copy = None  # and the COPY

    def __enter__(self) -> _Inserter:
        return self

    def __exit__(self, *exc) -> None:
        self.finish(*exc)

    def value(self, value: Any) -> Any:
        """A datetime as the backend wants it (text)."""
        if isinstance(value, datetime.datetime):
            if self.postgres:
                return value.isoformat()
            return connection.ops.adapt_datetimefield_value(value)
        return value

    def insert(self, rows: list[tuple]) -> None:
        if not rows:
            return
        columns = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        table = connection.ops.quote_name(self.table)
        if not self.postgres:
            marks = ", ".join(["%s"] * len(self.columns))
            # Table and column names come from the model's meta, quoted; values are bound.
            sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
            with connection.cursor() as cursor:
                cursor.executemany(sql, rows)
            return
        if self._copy is None:
            self._cursor = connection.cursor()
            self._copying = self._cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN")
            self._copy = self._copying.__enter__()
        self._copy.write(_copy_text(rows))

    def finish(self, *exc) -> None:
        """End the open COPY, if any (its rows are then in the table)."""
        copying, cursor = self._copying, self._cursor
        self._copying = self._copy = self._cursor = None
        if copying is not None:
            try:
                copying.__exit__(*(exc or (None, None, None)))
            finally:
                cursor.close()


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


_UNKNOWN = (None, "", False)
_FROM_FILE = Source.RPPS.value
_AT_CENTRE, _NOT_PLACED = GeocodeSource.COMMUNE_CENTRE.value, GeocodeSource.NONE.value


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
    with _Inserter(Practitioner, _NEW_PRACTITIONER) as inserter:
        return _write_practitioners(rows, known, inserter, report=report, now=now)


def _write_practitioners(
    rows: ScopeRows, known: dict, inserter: _Inserter, *, report: ImportReport, now
) -> dict[int, int]:
    stamp = inserter.value(now)
    ids: dict[int, int] = {}
    to_create: list[tuple] = []
    to_look_at: dict[int, tuple[dict[str, Any], str]] = {}  # id -> (file values, hash)
    specialties, emails = rows.specialties, rows.emails
    codes_of: dict[int, tuple[list[str], str, str]] = {}  # bits -> (codes, hashed, JSON)

    def create() -> None:
        inserter.insert(to_create)
        report.practitioners_created += len(to_create)
        to_create.clear()

    for values in rows.records():
        rpps, civility, first_name, last_name = values[:4]
        number = int(rpps)
        if number in ids:
            continue  # the practitioner's first row decides (their other sites come later)
        bits = specialties[number]
        if bits not in codes_of:
            codes = specialty_codes_of(bits)
            codes_of[bits] = (codes, ",".join(codes), json.dumps(codes))
        codes, hashed_codes, json_codes = codes_of[bits]
        email = emails.get(number, "")
        digest = row_hash(_SEP.join((civility, first_name, last_name, hashed_codes, email)))
        pk, known_digest, look_anyway = known.pop(number, _UNKNOWN)
        if pk is None:
            ids[number] = 0  # created below
            to_create.append(
                (
                    rpps,
                    civility,
                    first_name,
                    last_name,
                    json_codes,
                    email,
                    GP_PROFESSION_CODE,
                    "",
                    False,
                    _FROM_FILE,
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
        to_look_at[pk] = (
            {
                "civility": civility,
                "first_name": first_name,
                "last_name": last_name,
                "specialty_codes": list(codes),
                "email": email,
            },
            digest,
        )
        if len(to_look_at) >= BATCH_SIZE:
            inserter.finish()
            _update_practitioners(to_look_at, report=report, now=now)
    create()
    inserter.finish()
    if report.practitioners_created:
        # Those this import created are the ones stamped with its time.
        created = Practitioner.objects.filter(created_at=now, rpps__isnull=False)
        for rpps, pk in created.values_list("rpps", "pk").iterator(chunk_size=10_000):
            if ids.get(int(rpps)) == 0:
                ids[int(rpps)] = pk
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
    with _Inserter(PracticeSite, _NEW_SITE) as inserter:
        _write_sites(rows, ids, known, centres, inserter, report=report, now=now)
    return [pk for pk, _digest, _look in known.values()]


def _write_sites(
    rows: ScopeRows, ids: dict[int, int], known: dict, centres, inserter: _Inserter, *, report, now
) -> None:
    stamp = inserter.value(now)
    placed_in: dict[str, tuple] = {}  # commune -> (latitude, longitude, geocode source)
    to_create: list[tuple] = []
    to_look_at: dict[int, tuple[SiteRow, str]] = {}
    for values in rows.records():
        practitioner_id = ids[int(values[0])]
        site_key, commune_id, digest = values[_KEY_AT], values[_COMMUNE_AT], values[-1]
        pk, known_digest, look_anyway = known.pop(_site_ref(practitioner_id, site_key), _UNKNOWN)
        if pk is None:
            placed = placed_in.get(commune_id)
            if placed is None:
                centre = centres.get(commune_id)
                placed = (*centre, _AT_CENTRE) if centre else (None, None, _NOT_PLACED)
                placed_in[commune_id] = placed
            to_create.append(
                (
                    practitioner_id,
                    *values[_SITE_VALUES],
                    site_key,
                    *placed,
                    _FROM_FILE,
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
        to_look_at[pk] = (SiteRow(*values[_KEY_AT:-1]), digest)
        if len(to_look_at) >= BATCH_SIZE:
            inserter.finish()
            _update_sites(to_look_at, centres, report=report, now=now)
    inserter.insert(to_create)
    report.sites_created += len(to_create)
    inserter.finish()
    _update_sites(to_look_at, centres, report=report, now=now)


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


# The columns the import and the directory's lookups filter or join on: ANALYZE of these alone
# takes 0.1 s instead of 0.9 s for the national directory (the names and addresses are the
# costly ones). Such an ANALYZE leaves the table's change count as it was, so autovacuum still
# analyzes every column at its next pass.
_ANALYZED = {
    Practitioner: ("id", "rpps", "source", "is_gone"),
    PracticeSite: ("id", "practitioner", "site_key", "commune", "source", "is_gone"),
}


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
            for model, names in _ANALYZED.items():
                table = connection.ops.quote_name(model._meta.db_table)
                columns = ", ".join(
                    connection.ops.quote_name(model._meta.get_field(name).column) for name in names
                )
                cursor.execute(f"ANALYZE {table} ({columns})")
    phases["statistiques"] = time.monotonic() - started - sum(phases.values())
    gp_counts_record(cpts_ids=_cpts_covered(scope), on=timezone.localdate(now))
    phases["comptes"] = time.monotonic() - started - sum(phases.values())
    report.apply_seconds = time.monotonic() - started
    return report
