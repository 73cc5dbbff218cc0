"""Bad RPPS files: refused whole with a clear message, or line by line with numbers and reasons."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accesmt.directory import rpps
from accesmt.directory.models import PracticeSite, Practitioner
from accesmt.directory.rpps import MAX_REPORTED_ERRORS, Reason, RppsFormatError, rpps_import

from .rpps_files import HEADER_56, gp_row, render_line, write_rpps_file

pytestmark = pytest.mark.django_db


def lines_of(report):
    return {error.line: error.reason for error in report.errors}


def test_truncated_and_overlong_lines_are_refused_with_their_line_number(tmp_path, cpts):
    good = render_line(HEADER_56, gp_row(rpps="10000000001"))
    truncated = render_line(HEADER_56, gp_row(rpps="10000000002")).rsplit("|", 20)[0]
    overlong = render_line(HEADER_56, gp_row(rpps="10000000003")) + "en trop|"
    path = write_rpps_file(tmp_path / "rpps.txt", [good, truncated, overlong, good])
    report = rpps_import(path)
    errors = lines_of(report)
    assert set(errors) == {3, 4}
    assert errors[3].startswith(Reason.TRUNCATED)
    assert errors[4].startswith(Reason.TOO_MANY_FIELDS)
    assert list(Practitioner.objects.values_list("rpps", flat=True)) == ["10000000001"]
    assert report.duplicates == 1 and report.rejected == 2


def test_file_cut_in_the_middle_of_its_last_line(tmp_path, cpts):
    path = write_rpps_file(tmp_path / "rpps.txt", [gp_row(rpps="10000000001"), gp_row()])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 60])  # the download stopped mid-line
    with pytest.raises(rpps.RppsTruncatedFile, match=r"ligne 3"):
        rpps_import(path)
    assert not Practitioner.objects.exists()
    report = rpps_import(path, accept_partial=True)  # the operator accepts a partial import
    assert lines_of(report) == {3: lines_of(report)[3]}
    assert lines_of(report)[3].startswith(Reason.TRUNCATED)
    assert list(Practitioner.objects.values_list("rpps", flat=True)) == ["10000000001"]


def test_latin1_line_in_a_utf8_file_is_refused(tmp_path, cpts):
    path = write_rpps_file(tmp_path / "rpps.txt", [gp_row(rpps="10000000001")])
    bad = render_line(HEADER_56, gp_row(rpps="10000000002", last_name="LEFÈVRE"))
    with path.open("ab") as fh:
        fh.write(bad.encode("latin-1") + b"\n")
    report = rpps_import(path)
    assert report.encoding == "utf-8"
    assert lines_of(report) == {3: Reason.ENCODING}
    assert list(Practitioner.objects.values_list("rpps", flat=True)) == ["10000000001"]


def test_utf16_file_is_refused_whole(tmp_path, cpts):
    path = write_rpps_file(tmp_path / "rpps.txt", [gp_row()], encoding="utf-16")
    with pytest.raises(RppsFormatError, match="Encodage non reconnu"):
        rpps_import(path)


def test_missing_required_column_is_refused_whole_and_named(tmp_path, cpts):
    header = [h for h in HEADER_56 if h != "Code savoir-faire"]
    path = write_rpps_file(tmp_path / "rpps.txt", [gp_row()], header=header)
    with pytest.raises(RppsFormatError, match="« Code savoir-faire »"):
        rpps_import(path)
    assert not Practitioner.objects.exists()


def test_file_without_header_is_refused(tmp_path, cpts):
    path = tmp_path / "rpps.txt"
    path.write_text(render_line(HEADER_56, gp_row()) + "\n", encoding="utf-8")
    with pytest.raises(RppsFormatError, match="En-tête incomplet"):
        rpps_import(path)


def test_comma_separated_file_is_refused(tmp_path, cpts):
    path = tmp_path / "rpps.csv"
    path.write_text(",".join(HEADER_56) + "\n", encoding="utf-8")
    with pytest.raises(RppsFormatError, match="Identifiant PP"):
        rpps_import(path)


def test_empty_file_is_refused(tmp_path, cpts):
    path = tmp_path / "rpps.txt"
    path.write_bytes(b"")
    with pytest.raises(RppsFormatError, match="Fichier vide"):
        rpps_import(path)


def test_invalid_values_are_refused_line_by_line(tmp_path, cpts):
    rows = [
        gp_row(rpps="1234"),  # line 2
        gp_row(rpps="10000000002", last_name=""),  # line 3
        gp_row(rpps="10000000003", commune_code="", postcode=""),  # line 4
        gp_row(rpps="10000000004", commune_code="", postcode="62A00"),  # line 5
        gp_row(
            rpps="10000000005",
            commune_code="",
            postcode="62880",
            commune_name="AILLEURS",
            **{"Bureau cedex (coord. structure)": ""},
        ),  # line 6: 62880 serves two communes of the CPTS
        gp_row(rpps="10000000006"),  # line 7: fine
    ]
    report = rpps_import(write_rpps_file(tmp_path / "rpps.txt", rows))
    errors = lines_of(report)
    assert errors[2] == Reason.RPPS
    assert errors[3] == Reason.NAME
    assert errors[4] == Reason.NO_COMMUNE
    assert errors[5].startswith(Reason.POSTCODE)
    assert errors[6].startswith(Reason.AMBIGUOUS)
    assert list(Practitioner.objects.values_list("rpps", flat=True)) == ["10000000006"]
    assert report.error_counts[Reason.RPPS] == 1 and report.rejected == 5


def test_report_keeps_the_first_errors_and_counts_them_all(tmp_path, cpts):
    rows = [gp_row(rpps=f"BAD{n}") for n in range(MAX_REPORTED_ERRORS + 50)]
    report = rpps_import(write_rpps_file(tmp_path / "rpps.txt", rows))
    assert len(report.errors) == MAX_REPORTED_ERRORS
    assert report.errors[0].line == 2
    assert report.rejected == MAX_REPORTED_ERRORS + 50
    assert report.error_counts[Reason.RPPS] == MAX_REPORTED_ERRORS + 50
    assert any("150" in line for line in report.summary_lines())


def test_failed_apply_leaves_the_previous_state_intact(tmp_path, cpts, monkeypatch):
    rpps_import(write_rpps_file(tmp_path / "a.txt", [gp_row(rpps="10000000001")]))
    before = list(Practitioner.objects.values_list("rpps", "is_gone", "updated_at"))

    insert = rpps.apply._Inserter.insert

    def broken(self, rows):
        if self.table == PracticeSite._meta.db_table:  # after the practitioners were written
            raise RuntimeError("disque plein")
        insert(self, rows)

    monkeypatch.setattr(rpps.apply._Inserter, "insert", broken)
    new_file = write_rpps_file(tmp_path / "b.txt", [gp_row(rpps="10000000002")])
    with pytest.raises(RuntimeError):
        rpps_import(new_file)
    assert list(Practitioner.objects.values_list("rpps", "is_gone", "updated_at")) == before
    assert PracticeSite.objects.filter(is_gone=False).count() == 1


def test_command_prints_progress_and_report(tmp_path, cpts, monkeypatch):
    monkeypatch.setattr(rpps.reader, "PROGRESS_EVERY_LINES", 2)
    rows = [gp_row(rpps=f"1000000000{n}") for n in range(5)] + [gp_row(rpps="X")]
    out = StringIO()
    call_command("import_rpps", str(write_rpps_file(tmp_path / "rpps.txt", rows)), stdout=out)
    text = out.getvalue()
    assert "lignes lues" in text and "100,0 %" in text
    assert "Médecins : 5 créés" in text
    assert f"ligne 7 : {Reason.RPPS}" in text
    assert Practitioner.objects.count() == 5


def test_command_departement_and_dry_run(tmp_path, cpts):
    lens = gp_row(postcode="62300", commune_code="62498", commune_name="LENS")
    path = write_rpps_file(tmp_path / "rpps.txt", [lens])
    out = StringIO()
    call_command("import_rpps", str(path), "--departement", "62", "--dry-run", stdout=out)
    assert "Essai à blanc" in out.getvalue()
    assert not Practitioner.objects.exists()
    call_command("import_rpps", str(path), "--departement", "62", stdout=StringIO())
    assert Practitioner.objects.get().sites.get().commune_id == "62498"


def test_command_errors_are_clear(tmp_path, cpts):
    with pytest.raises(CommandError, match="Fichier introuvable"):
        call_command("import_rpps", str(tmp_path / "absent.txt"))
    with pytest.raises(CommandError, match="Département invalide"):
        call_command("import_rpps", str(tmp_path / "absent.txt"), "--departement", "999")
    path = tmp_path / "rpps.txt"
    path.write_text("a|b|c|\n", encoding="utf-8")
    with pytest.raises(CommandError, match="Import refusé : En-tête incomplet"):
        call_command("import_rpps", str(path))
