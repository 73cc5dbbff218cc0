"""The import's writer (issue 15, point 5): the GPs new to the directory and their sites are
written while the file is read, on PostgreSQL by a thread on its own connection and
transaction. The result is the one the caller's transaction gives, and whatever fails (a write,
the read) leaves nothing written."""

import threading

import pytest
from django.db import connection, transaction

from accesmt.directory import rpps
from accesmt.directory.models import PracticeSite, Practitioner
from accesmt.directory.rpps import RppsTruncatedFile, rpps_import
from tests.territory.conftest import make_commune

from .factories import territory_with
from .rpps_files import gp_row, pharmacist_row, write_rpps_file

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the writer's thread runs on PostgreSQL only"
)
# A thread's connection sees only committed rows: the test data must be committed.
committed = pytest.mark.django_db(transaction=True)


def rows_with_revisions() -> list:
    """Five GPs, one of them on three sites whose later rows add a savoir-faire code and give
    the first e-mail (written at the first row, revised after the read), a duplicate row, and
    lines of other professions."""
    return [
        gp_row(rpps="10000000001", email=""),
        pharmacist_row(),
        gp_row(rpps="10000000001", savoir_faire="SM26", structure_id="S2", email=""),
        gp_row(rpps="10000000001", structure_id="S3", email="c@example.org"),
        gp_row(rpps="10000000001", email=""),  # the first row again: a duplicate
        *(gp_row(rpps=f"1000000001{n}", last_name=f"NOM{n}") for n in range(4)),
        pharmacist_row(rpps="20000000002"),
    ]


def directory() -> tuple[list, list]:
    practitioners = list(
        Practitioner.objects.order_by("rpps").values_list(
            "rpps", "last_name", "specialty_codes", "email", "import_hash", "is_gone"
        )
    )
    sites = list(
        PracticeSite.objects.order_by("practitioner__rpps", "site_key").values_list(
            "practitioner__rpps", "site_key", "address_line2", "import_hash", "geocode_source"
        )
    )
    return practitioners, sites


def writer_threads(monkeypatch) -> list[str]:
    """The names of the threads that write the batches of new GPs."""
    names = []
    write_batch = rpps.apply.RppsWriter._write_batch

    def recorded(self, batch):
        names.append(threading.current_thread().name)
        write_batch(self, batch)

    monkeypatch.setattr(rpps.apply.RppsWriter, "_write_batch", recorded)
    return names


@postgres_only
@committed
def test_the_writer_thread_writes_what_the_callers_transaction_writes(tmp_path, cpts, monkeypatch):
    monkeypatch.setattr(rpps.apply, "WRITE_BATCH_SIZE", 2)
    names = writer_threads(monkeypatch)
    path = write_rpps_file(tmp_path / "rpps.txt", rows_with_revisions())
    with transaction.atomic():  # the caller's transaction: written in the caller's thread
        report = rpps_import(path)
    assert set(names) == {threading.current_thread().name}
    in_transaction = directory()
    Practitioner.objects.all().delete()

    names.clear()
    threaded = rpps_import(path)  # no transaction held: the writer's own thread
    assert set(names) == {"rpps-writer"} and len(names) == 4
    assert directory() == in_transaction
    gp = Practitioner.objects.get(rpps="10000000001")
    assert (gp.specialty_codes, gp.email) == (["SM26", "SM54"], "c@example.org")
    assert gp.sites.count() == 3
    assert (threaded.practitioners_created, threaded.sites_created, threaded.duplicates) == (
        5,
        7,
        1,
    )
    assert (report.practitioners_created, report.sites_created) == (5, 7)
    again = rpps_import(path)  # the revised GP's hash is that of its final values
    assert again.practitioners_unchanged == 5 and again.practitioners_updated == 0
    assert again.sites_updated == 0 and directory() == in_transaction


@postgres_only
@committed
def test_a_write_failing_in_the_thread_stops_the_read_and_leaves_nothing(
    tmp_path, cpts, monkeypatch
):
    rpps_import(write_rpps_file(tmp_path / "a.txt", [gp_row(rpps="10000000001")]))
    before = directory()
    monkeypatch.setattr(rpps.apply, "WRITE_BATCH_SIZE", 2)
    names = writer_threads(monkeypatch)
    insert = rpps.apply._Inserter.insert
    site_batches = []

    def failing(self, rows):
        if self.table == PracticeSite._meta.db_table:
            site_batches.append(len(rows))
            if len(site_batches) == 2:  # new GPs and sites of the first batch are written
                raise RuntimeError("disque plein")
        insert(self, rows)

    monkeypatch.setattr(rpps.apply._Inserter, "insert", failing)
    rows = [gp_row(rpps=f"1000000010{n}", last_name=f"NOM{n}") for n in range(10)]
    threads = threading.active_count()
    with pytest.raises(RuntimeError, match="disque plein"):
        rpps_import(write_rpps_file(tmp_path / "b.txt", rows))
    assert directory() == before
    assert names == ["rpps-writer", "rpps-writer"]  # nothing written after the failing batch
    assert threading.active_count() == threads  # the writer's thread is over


@postgres_only
@committed
def test_a_cut_file_rolls_back_what_the_thread_wrote_during_the_read(tmp_path, cpts, monkeypatch):
    monkeypatch.setattr(rpps.apply, "WRITE_BATCH_SIZE", 2)
    names = writer_threads(monkeypatch)
    rows = [gp_row(rpps=f"1000000010{n}", last_name=f"NOM{n}") for n in range(6)]
    path = write_rpps_file(tmp_path / "cut.txt", rows)
    path.write_bytes(path.read_bytes()[:-40])  # the download stopped in the last line
    with pytest.raises(RppsTruncatedFile):
        rpps_import(path)
    assert len(names) >= 2  # batches were written during the read, then rolled back
    assert not Practitioner.objects.exists() and not PracticeSite.objects.exists()


def test_gp_written_at_first_row_gets_the_codes_and_e_mail_of_later_rows(tmp_path, cpts):
    path = write_rpps_file(tmp_path / "rpps.txt", rows_with_revisions())
    rpps_import(path)
    gp = Practitioner.objects.get(rpps="10000000001")
    assert (gp.specialty_codes, gp.email) == (["SM26", "SM54"], "c@example.org")
    report = rpps_import(path)
    assert report.practitioners_unchanged == 5 and report.practitioners_updated == 0


def test_values_to_escape_and_null_coordinates_are_written_as_they_are(tmp_path, cpts):
    """COPY's text format escapes a tab or a backslash and writes NULL as \\N: a value the
    file gives is stored as it is, a commune without coordinates leaves the site unplaced."""
    unplaced = make_commune("62999", "Sans-Centre", postcodes=["62999"])
    territory_with(cpts, unplaced)
    rows = [
        gp_row(rpps="10000000001", first_name="None", label="CABINET\tDU DR\\MARTIN"),
        gp_row(
            rpps="10000000002",
            postcode="62999",
            commune_code="62999",
            commune_name="SANS-CENTRE",
            label=r"C:\N",
        ),
    ]
    rpps_import(write_rpps_file(tmp_path / "rpps.txt", rows))
    first = PracticeSite.objects.get(practitioner__rpps="10000000001")
    assert first.practitioner.first_name == "None" and first.label == "CABINET\tDU DR\\MARTIN"
    second = PracticeSite.objects.get(practitioner__rpps="10000000002")
    assert second.label == r"C:\N" and second.commune_id == "62999"
    assert (second.latitude, second.longitude, second.geocode_source) == (None, None, "none")
