"""Phase 2 of an RPPS import (`RppsWriter`): write the rows read into the directory in one
transaction (all or nothing), the GPs new to the directory while the file is read, keeping the
coordination's corrections, and mark absent the GPs and sites of the scope the file no longer
lists, after checking that not too many would go (`_check_absences`). Last, the GPs of every
CPTS the import covered are counted and the count kept with its date (`GPCount`, the history of
the number of GPs)."""

from __future__ import annotations

import datetime
import json
import queue
import threading
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
WRITE_BATCH_SIZE = 1_000  # new rows per COPY / executemany

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


def _plain(text: str) -> bool:
    """Nothing to escape, no NULL (str(None)) in `text`."""
    return "None" not in text and "\\" not in text and "\t" not in text and "\r" not in text


def _copy_text(rows: list[tuple]) -> str:
    """The rows in COPY's text format. The rows are joined in C and the whole text checked at
    once; when that finds something to escape or a NULL (or a value "None"), the rows that hold
    one are written again value by value."""
    width = len(rows[0]) - 1
    lines = [_SEP.join(map(str, row)) for row in rows]
    text = "\n".join(lines)
    if not (
        _plain(text) and text.count("\n") == len(rows) - 1 and text.count(_SEP) == len(rows) * width
    ):
        text = "\n".join(
            line
            if _plain(line) and "\n" not in line and line.count(_SEP) == width
            else _SEP.join(map(_copy_value, row))
            for line, row in zip(lines, rows, strict=True)
        )
    return text.replace(_SEP, "\t") + "\n"


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

    @staticmethod
    def value(value: datetime.datetime) -> str:
        """A datetime as the backend wants it (text)."""
        if connection.vendor == "postgresql":
            return value.isoformat()
        return connection.ops.adapt_datetimefield_value(value)

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


def _practitioner_hash(civility: str, first_name: str, last_name: str, codes: str, email: str):
    """The hash of a practitioner's file values (`codes`: the savoir-faire codes joined by ",")."""
    return row_hash(_SEP.join((civility, first_name, last_name, codes, email)))


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


def _known_sites(now) -> dict[int | tuple[int, str], tuple[int, str, bool]]:
    """Site -> (id, hash of the file's values last written, must be looked at whatever the hash:
    gone or not placed) for every site from the file but those this import (at `now`) wrote."""
    known: dict[int | tuple[int, str], tuple[int, str, bool]] = {}
    sites = PracticeSite.objects.filter(source=Source.RPPS).exclude(created_at=now)
    rows = sites.values_list(
        "practitioner_id", "site_key", "pk", "import_hash", "is_gone", "geocode_source"
    )
    for practitioner_id, key, pk, digest, is_gone, placed in rows.iterator(chunk_size=10_000):
        look_anyway = is_gone or placed == GeocodeSource.NONE
        known[_site_ref(practitioner_id, key)] = (pk, digest, look_anyway)
    return known


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


def _analyze() -> None:
    """Tens of thousands of rows just copied in: the planner's statistics are refreshed now, not
    at autovacuum's next pass (until then, lookups by id planned as full scans made the next
    import's updates 10× slower)."""
    with connection.cursor() as cursor:
        for model, names in _ANALYZED.items():
            table = connection.ops.quote_name(model._meta.db_table)
            columns = ", ".join(
                connection.ops.quote_name(model._meta.get_field(name).column) for name in names
            )
            cursor.execute(f"ANALYZE {table} ({columns})")


class _Aborted(Exception):
    """The read failed: the writer rolls back."""


_ABORT = object()  # sent to the writer's thread when the read failed


class RppsWriter:
    """Writes an import into the directory, in one transaction (all or nothing).

    Opened before the file is read (`with RppsWriter(scope) as writer`), it is given every row
    the reader keeps (`row`, the reader's sink) and writes at once, in batches, the GPs the
    directory does not know yet and their sites; their savoir-faire codes and e-mail are those
    of their first row, revised after the read when a later row adds to them. `finish` then
    applies the rest: the known GPs and sites, compared by hash (corrected fields kept), the
    departures (after the mass-absence check), the statistics and the GP counts.

    On PostgreSQL, when the caller holds no transaction, the writing runs in a thread of its
    own, on its own connection and transaction, with the foreign keys checked as each batch is
    written: the database stores the batches while the file is read on (psycopg releases the
    GIL while it waits), and the caller's connection, free, records the read's progress where
    others see it. Otherwise (SQLite; or a caller's transaction, whose rows another connection
    would not see) the same steps run in the caller's thread and transaction as rows come.
    Whatever fails (the read, a write, the absence check), nothing is written."""

    def __init__(self, scope: Scope, *, confirm_absences: bool = False):
        self.scope = scope
        self.confirm_absences = confirm_absences
        self.threaded = connection.vendor == "postgresql" and not connection.in_atomic_block
        self.phases: dict[str, float] = {}
        self._batch: list[tuple] = []
        self._thread: threading.Thread | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=2)
        self._atomic = None
        self._error: BaseException | None = None
        self._known_ready = threading.Event()  # the known GPs are loaded
        self.known_practitioners: dict[int, tuple[int, str, bool]] | None = None
        self.rows_of_known = 0  # rows of known GPs, looked at after the read (counted by `row`)

    # The caller's side.

    def __enter__(self) -> RppsWriter:
        if self.threaded:
            self._thread = threading.Thread(target=self._run, name="rpps-writer", daemon=True)
            self._thread.start()
        else:
            self._atomic = transaction.atomic()
            self._atomic.__enter__()
            self._prepare()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._thread is not None:
            self._send(_ABORT)  # nothing if the thread is over (finished, or failed)
            self._thread.join()
        elif self._atomic is not None:
            self._atomic.__exit__(exc_type, exc, tb)

    def row(self, values: tuple[str, ...], digest: str, bits: int, email: str) -> None:
        """A row the reader keeps: its values (reader.SPOOL_FIELDS but the hash), its site's
        hash, and its practitioner's savoir-faire codes (bits) and e-mail so far. The rows of
        known GPs are looked at after the read only."""
        known = self.known_practitioners
        if known is None:
            self._wait_for_known()
            known = self.known_practitioners
        if int(values[0]) in known:
            self.rows_of_known += 1
            return
        self._batch.append((values, digest, bits, email))
        if len(self._batch) >= WRITE_BATCH_SIZE:
            self._flush()

    def _wait_for_known(self) -> None:
        while not self._known_ready.wait(0.1):
            if not self._thread.is_alive():
                raise self._error or RuntimeError("Écriture de l'import RPPS interrompue.")

    def finish(self, rows: ScopeRows, report: ImportReport) -> ImportReport:
        """After the read: write the rest, raise what failed. Raises
        RppsAbsencesNeedConfirmation (nothing written) when the GPs to mark absent exceed
        settings.RPPS_MAX_ABSENT_SHARE of a CPTS's present GPs, unless `confirm_absences`."""
        started = time.monotonic()
        self._flush()
        if self._thread is not None:
            self._send((rows, report))
            self._thread.join()
            if self._error is not None:
                raise self._error
        else:
            self._after_read(rows, report)
        report.apply_seconds = time.monotonic() - started
        return report

    def _flush(self) -> None:
        batch, self._batch = self._batch, []
        if not batch:
            return
        if self._thread is None:
            self._write_batch(batch)
            return
        if self._error is not None:
            raise self._error  # stop reading: the writer failed
        self._send(batch)

    def _send(self, item) -> None:
        """Queue `item` for the writer's thread while it runs (the queue holds two batches:
        memory stays bounded when the database is slower than the read)."""
        while self._thread.is_alive():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
        if item is not _ABORT:
            raise self._error or RuntimeError("Écriture de l'import RPPS interrompue.")

    # The writer's side (its thread, or the caller's).

    def _run(self) -> None:
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                self._prepare()
                while True:
                    item = self._queue.get()
                    if item is _ABORT:
                        raise _Aborted
                    if isinstance(item, tuple):  # (rows, report): the read is over
                        self._after_read(*item)
                        return
                    self._write_batch(item)
        except _Aborted:
            pass
        except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread
            self._error = exc
        finally:
            connection.close()  # this thread's own

    def _prepare(self) -> None:
        """Before the first write: what the directory holds (the known GPs with their hashes,
        the present GPs of each CPTS for the absence check)."""
        started = time.monotonic()
        self.now = timezone.now()
        known = _known_practitioners()
        self._last_pk = max((pk for pk, _d, _l in known.values()), default=0)
        self.known_practitioners = known
        self._known_ready.set()  # the read may route its rows: the rest is needed to write
        self.present_before = None if self.confirm_absences else _present_gps_by_cpts()
        self.centres = {
            pk: (lat, lon)
            for pk, lat, lon in Commune.objects.filter(
                latitude__isnull=False, longitude__isnull=False
            ).values_list("pk", "latitude", "longitude")
        }
        self.stamp = _Inserter.value(self.now)
        # RPPS number -> id of the GPs new to the directory (0 while being written).
        self.new_ids: dict[int, int] = {}
        self.created = [0, 0]  # practitioners, sites
        self._codes_of: dict[int, tuple[list[str], str, str]] = {}
        self._placed_in: dict[str, tuple] = {}
        self.phases["préparation"] = time.monotonic() - started
        self.phases["nouveaux, pendant la lecture"] = 0.0

    def _codes(self, bits: int) -> tuple[list[str], str, str]:
        """The savoir-faire codes of `bits`: as a list, as hashed, as JSON."""
        if bits not in self._codes_of:
            codes = specialty_codes_of(bits)
            self._codes_of[bits] = (codes, ",".join(codes), json.dumps(codes))
        return self._codes_of[bits]

    def _write_batch(self, batch: list[tuple]) -> None:
        """Write the GPs of `batch`, new to the directory (at their first row), and their
        sites."""
        started = time.monotonic()
        practitioners, sites = [], []
        ids, stamp = self.new_ids, self.stamp
        for values, digest, bits, email in batch:
            number = int(values[0])
            if number not in ids:
                ids[number] = 0
                rpps, civility, first_name, last_name = values[:4]
                codes, hashed, as_json = self._codes(bits)
                practitioners.append(
                    (
                        rpps,
                        civility,
                        first_name,
                        last_name,
                        as_json,
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
                        _practitioner_hash(civility, first_name, last_name, hashed, email),
                    )
                )
            sites.append((number, values, digest))
        if practitioners:
            with _Inserter(Practitioner, _NEW_PRACTITIONER) as inserter:
                inserter.insert(practitioners)
            # Their ids: the rows stamped with this import's time, after those known.
            created = Practitioner.objects.filter(pk__gt=self._last_pk, created_at=self.now)
            for rpps, pk in created.values_list("rpps", "pk"):
                ids[int(rpps)] = pk
                self._last_pk = max(self._last_pk, pk)
            self.created[0] += len(practitioners)
        if sites:
            with _Inserter(PracticeSite, _NEW_SITE) as inserter:
                inserter.insert(
                    [
                        self._new_site(ids[number], values, digest)
                        for number, values, digest in sites
                    ]
                )
            self.created[1] += len(sites)
        self.phases["nouveaux, pendant la lecture"] += time.monotonic() - started

    def _new_site(self, practitioner_id: int, values, digest: str) -> tuple:
        commune_id = values[_COMMUNE_AT]
        placed = self._placed_in.get(commune_id)
        if placed is None:
            centre = self.centres.get(commune_id)
            placed = (*centre, _AT_CENTRE) if centre else (None, None, _NOT_PLACED)
            self._placed_in[commune_id] = placed
        stamp = self.stamp
        return (
            practitioner_id,
            *values[_SITE_VALUES],
            values[_KEY_AT],
            *placed,
            _FROM_FILE,
            False,
            "{}",
            stamp,
            stamp,
            stamp,
            digest,
        )

    def _after_read(self, rows: ScopeRows, report: ImportReport) -> None:
        phases = self.phases
        clock = [time.monotonic()]

        def phase(name: str) -> None:
            now = time.monotonic()
            phases[name] = now - clock[0]
            clock[0] = now

        self._revise(rows)
        phase("nouveaux, révisés")
        ids = self._look_at_practitioners(rows, report)
        phase("médecins")
        unlisted = self._look_at_sites(rows, ids, report)
        del ids
        phase("lieux")
        _mark_gone(
            self.scope,
            unlisted,
            report=report,
            now=self.now,
            present_before=self.present_before,
        )
        phase("départs")
        report.practitioners_created += self.created[0]
        report.sites_created += self.created[1]
        if connection.vendor == "postgresql" and (
            report.practitioners_created or report.sites_created
        ):
            _analyze()
        phase("statistiques")
        gp_counts_record(cpts_ids=_cpts_covered(self.scope), on=timezone.localdate(self.now))
        phase("comptes")
        report.phases.update(phases)

    def _revise(self, rows: ScopeRows) -> None:
        """The new GPs written before a later row added a savoir-faire code or gave their first
        e-mail: their final values."""
        numbers = [number for number in rows.revised if number in self.new_ids]
        for chunk in _chunks(numbers):
            by_pk = {self.new_ids[number]: number for number in chunk}
            to_update = []
            for (
                pk,
                civility,
                first_name,
                last_name,
                codes_then,
                email_then,
            ) in Practitioner.objects.filter(pk__in=by_pk).values_list(
                "pk", "civility", "first_name", "last_name", "specialty_codes", "email"
            ):
                number = by_pk[pk]
                codes, hashed, _json = self._codes(rows.specialties[number])
                email = rows.emails.get(number, "")
                if (codes_then, email_then) == (codes, email):
                    continue
                digest = _practitioner_hash(civility, first_name, last_name, hashed, email)
                to_update.append(
                    Practitioner(
                        pk=pk, specialty_codes=list(codes), email=email, import_hash=digest
                    )
                )
            _update_rows(Practitioner, to_update, ["specialty_codes", "email", "import_hash"])

    def _rows_of_known(self, rows: ScopeRows) -> Iterable[list[str]]:
        """The spooled rows, to look at those of known GPs; none when all GPs were new."""
        return rows.records() if self.rows_of_known else ()

    def _look_at_practitioners(self, rows: ScopeRows, report: ImportReport) -> dict[int, int]:
        """The known GPs: a GP whose file values hash as last time (and who is present, from the
        file) is not touched. Returns their ids by RPPS number."""
        known, new, ids = self.known_practitioners, self.new_ids, {}
        to_look_at: dict[int, tuple[dict[str, Any], str]] = {}  # id -> (file values, hash)
        for values in self._rows_of_known(rows):
            number = int(values[0])
            if number in new or number in ids:
                continue  # new, or the practitioner's first row decided
            pk, known_digest, look_anyway = known.pop(number)
            ids[number] = pk
            civility, first_name, last_name = values[1:4]
            codes, hashed, _json = self._codes(rows.specialties[number])
            email = rows.emails.get(number, "")
            digest = _practitioner_hash(civility, first_name, last_name, hashed, email)
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
                _update_practitioners(to_look_at, report=report, now=self.now)
        _update_practitioners(to_look_at, report=report, now=self.now)
        return ids

    def _look_at_sites(self, rows: ScopeRows, ids: dict[int, int], report: ImportReport):
        """The sites of the known GPs (`ids`: theirs): created, or updated when their hash
        changed (or when gone or not placed); returns the ids of the sites from the file that
        this file no longer lists (candidates to mark gone, whatever their scope)."""
        known, new = _known_sites(self.now), self.new_ids  # loaded now: less memory at once
        to_create: list[tuple] = []
        to_look_at: dict[int, tuple[SiteRow, str]] = {}
        with _Inserter(PracticeSite, _NEW_SITE) as inserter:
            for values in self._rows_of_known(rows):
                number = int(values[0])
                if number in new:
                    continue  # written during the read
                practitioner_id = ids[number]
                pk, known_digest, look_anyway = known.pop(
                    _site_ref(practitioner_id, values[_KEY_AT]), _UNKNOWN
                )
                digest = values[-1]
                if pk is None:
                    to_create.append(self._new_site(practitioner_id, values, digest))
                    if len(to_create) >= WRITE_BATCH_SIZE:
                        inserter.insert(to_create)
                        self.created[1] += len(to_create)
                        to_create.clear()
                    continue
                if digest == known_digest and not look_anyway:
                    continue
                to_look_at[pk] = (SiteRow(*values[_KEY_AT:-1]), digest)
                if len(to_look_at) >= BATCH_SIZE:
                    inserter.finish()
                    _update_sites(to_look_at, self.centres, report=report, now=self.now)
            inserter.insert(to_create)
            self.created[1] += len(to_create)
        _update_sites(to_look_at, self.centres, report=report, now=self.now)
        return [pk for pk, _digest, _look in known.values()]
