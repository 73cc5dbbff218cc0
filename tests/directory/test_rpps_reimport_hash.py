"""Re-imports compared by a hash per row (issue 15): an unchanged file writes nothing to the
directory, a changed row is written alone, rows from before the hash existed are looked at once."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accesmt.directory.models import PracticeSite, Practitioner
from accesmt.directory.rpps import Scope, read_rpps_file, rpps_import
from accesmt.directory.services import practitioner_correct

from .rpps_files import gp_row, write_rpps_file

pytestmark = pytest.mark.django_db

DIRECTORY_TABLES = (Practitioner._meta.db_table, PracticeSite._meta.db_table)


def directory_writes(queries) -> list[str]:
    """The statements writing to the directory (an executemany is logged « N times: SQL »)."""
    statements = [re.sub(r"^\d+ times: ", "", q["sql"].lstrip()) for q in queries]
    return [
        sql
        for sql in statements
        if sql.upper().startswith(("INSERT", "UPDATE", "DELETE", "COPY"))
        and any(table in sql for table in DIRECTORY_TABLES)
    ]


def three_gps(**changes):
    return [
        gp_row(rpps="10000000001", **changes),
        gp_row(rpps="10000000002"),
        gp_row(rpps="10000000002", structure_id="S62000002", street="RUE B", postcode="62210"),
        gp_row(rpps="10000000003", savoir_faire="SM26"),
    ]


def test_unchanged_reimport_writes_nothing_to_the_directory(tmp_path, cpts):
    path = write_rpps_file(tmp_path / "rpps.txt", three_gps())
    rpps_import(path)
    assert PracticeSite.objects.count() == 4
    with CaptureQueriesContext(connection) as queries:
        report = rpps_import(path)
    assert directory_writes(queries.captured_queries) == []
    assert report.practitioners_unchanged == 3 and report.practitioners_updated == 0
    assert report.sites_updated == report.sites_created == report.sites_gone == 0


def test_changed_row_is_the_only_one_written(tmp_path, cpts):
    rpps_import(write_rpps_file(tmp_path / "a.txt", three_gps()))
    before = dict(PracticeSite.objects.values_list("pk", "updated_at"))
    with CaptureQueriesContext(connection) as queries:
        report = rpps_import(write_rpps_file(tmp_path / "b.txt", three_gps(street="RUE NEUVE")))
    assert report.sites_updated == 1 and report.practitioners_updated == 0
    assert report.practitioners_unchanged == 3
    writes = directory_writes(queries.captured_queries)
    assert len(writes) == 1 and PracticeSite._meta.db_table in writes[0]
    after = dict(PracticeSite.objects.values_list("pk", "updated_at"))
    moved = PracticeSite.objects.get(practitioner__rpps="10000000001")
    assert moved.address_line2 == "12 Rue RUE NEUVE"
    assert [pk for pk in after if after[pk] != before[pk]] == [moved.pk]


def test_rows_written_before_the_hash_existed_are_looked_at_once(tmp_path, cpts):
    path = write_rpps_file(tmp_path / "rpps.txt", three_gps())
    rpps_import(path)
    Practitioner.objects.update(import_hash="")  # as after the migration that added the hash
    PracticeSite.objects.update(import_hash="")
    report = rpps_import(path)
    assert report.practitioners_unchanged == 3 and report.sites_updated == 0
    assert not Practitioner.objects.filter(import_hash="").exists()
    assert not PracticeSite.objects.filter(import_hash="").exists()
    with CaptureQueriesContext(connection) as queries:
        rpps_import(path)
    assert directory_writes(queries.captured_queries) == []


def test_corrected_field_is_kept_when_the_file_changes_it(tmp_path, cpts):
    rpps_import(write_rpps_file(tmp_path / "a.txt", three_gps()))
    gp = Practitioner.objects.get(rpps="10000000001")
    practitioner_correct(practitioner=gp, fields={"first_name": "Marie-Anne"})
    report = rpps_import(
        write_rpps_file(tmp_path / "b.txt", three_gps(first_name="Maria", last_name="DURAND"))
    )
    gp.refresh_from_db()
    assert (gp.first_name, gp.last_name) == ("Marie-Anne", "DURAND")
    assert report.practitioners_updated == 1


def test_gone_practitioner_back_with_the_same_values(tmp_path, cpts):
    path = write_rpps_file(tmp_path / "a.txt", three_gps())
    rpps_import(path)
    rpps_import(write_rpps_file(tmp_path / "b.txt", three_gps()[1:]), confirm_absences=True)
    assert Practitioner.objects.get(rpps="10000000001").is_gone
    report = rpps_import(path)
    gp = Practitioner.objects.get(rpps="10000000001")
    assert not gp.is_gone and not gp.sites.get().is_gone
    assert report.practitioners_back == 1


def test_reader_spools_rows_and_keeps_compact_facts(tmp_path, cpts):
    rows = [*three_gps(), gp_row(rpps="10000000003"), gp_row(rpps="10000000001")]
    spooled, report = read_rpps_file(
        write_rpps_file(tmp_path / "rpps.txt", rows), scope=Scope.platform()
    )
    with spooled:
        assert len(spooled) == 3 and spooled.rows == 4
        assert report.duplicates == 2
        assert spooled.specialty_codes("10000000003") == ["SM26", "SM54"]
        assert [row.rpps for row in spooled] == [
            "10000000001",
            "10000000002",
            "10000000002",
            "10000000003",
        ]
        assert [row.rpps for row in spooled][0] == "10000000001"  # iterated again
