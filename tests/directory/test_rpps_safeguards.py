"""Safeguards of the RPPS import against a cut file and against mass absences (issue #8, point 2).

A file cut in its last line used to be read silently when that line was not a GP's (95 % of a
real file) or was cut before its savoir-faire: "refusées : 0", and every GP after the cut was
marked absent."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accesmt.directory.models import Practitioner
from accesmt.directory.rpps import (
    Reason,
    RppsAbsencesNeedConfirmation,
    RppsTruncatedFile,
    rpps_import,
)

from .rpps_files import HEADER_56, cut_file, gp_row, pharmacist_row, render_line, write_rpps_file

pytestmark = pytest.mark.django_db

SAVOIR_FAIRE = HEADER_56.index("Code savoir-faire")
A, B, C = "10000000001", "10000000002", "10000000003"


def full_file(tmp_path, name="full.txt"):
    rows = [
        gp_row(rpps=A, last_name="ARNAUD"),
        pharmacist_row(),
        gp_row(rpps=B, last_name="BERNARD"),
        pharmacist_row(rpps="20000000002"),  # line 5: where the download stops
        gp_row(rpps=C, last_name="CARON"),
    ]
    return write_rpps_file(tmp_path / name, rows)


def cut_copy(tmp_path, keep_fields, *, newline=False, name="cut.txt"):
    """The same extraction whose download stopped in line 5 (a pharmacist's)."""
    path = full_file(tmp_path, name)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:5]))
    return cut_file(path, keep_fields, newline=newline)


def present():
    return set(Practitioner.objects.filter(is_gone=False).values_list("rpps", flat=True))


def test_file_cut_in_a_pharmacists_line_is_refused_whole_with_the_line_number(tmp_path, cpts):
    rpps_import(full_file(tmp_path))
    with pytest.raises(RppsTruncatedFile, match=r"dernière ligne \(ligne 5\) n'a pas de fin"):
        rpps_import(cut_copy(tmp_path, 20))
    assert present() == {A, B, C}


def test_gp_line_cut_before_its_savoir_faire_is_refused_whole(tmp_path, cpts):
    rpps_import(full_file(tmp_path))
    path = write_rpps_file(tmp_path / "cut.txt", [gp_row(rpps=A), gp_row(rpps=B)])
    cut_file(path, SAVOIR_FAIRE, newline=True)  # even with its line ending
    with pytest.raises(RppsTruncatedFile, match=r"ligne 3\) n'a pas le nombre de champs"):
        rpps_import(path)
    assert present() == {A, B, C}


def test_last_line_without_line_ending_is_refused_even_when_complete(tmp_path, cpts):
    path = write_rpps_file(tmp_path / "rpps.txt", [gp_row(rpps=A)])
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    with pytest.raises(RppsTruncatedFile, match=r"ligne 2\)"):
        rpps_import(path)
    assert not Practitioner.objects.exists()


def test_every_line_is_checked_for_its_field_count_whatever_the_profession(tmp_path, cpts):
    short = render_line(HEADER_56, pharmacist_row()).rsplit("|", 30)[0]
    long = render_line(HEADER_56, pharmacist_row()) + "en trop|"
    gp_cut = "|".join(render_line(HEADER_56, gp_row(rpps=B)).split("|")[:SAVOIR_FAIRE])
    rows = [gp_row(rpps=A), short, long, gp_cut, gp_row(rpps=C)]
    report = rpps_import(write_rpps_file(tmp_path / "rpps.txt", rows))
    errors = {error.line: error.reason for error in report.errors}
    assert set(errors) == {3, 4, 5}
    assert errors[3].startswith(Reason.TRUNCATED) and errors[5].startswith(Reason.TRUNCATED)
    assert errors[4].startswith(Reason.TOO_MANY_FIELDS)
    assert report.rejected == 3
    assert any("refusées : 3" in line for line in report.summary_lines())
    assert present() == {A, C}


def test_partial_import_accepted_then_absences_confirmed(tmp_path, cpts):
    rpps_import(full_file(tmp_path))
    path = cut_copy(tmp_path, 20)
    # Accepting the partial file: the cut line is refused, and C (after the cut, 1 GP of 3)
    # would be marked absent: above 10 %, the import stops and names them.
    with pytest.raises(RppsAbsencesNeedConfirmation) as stopped:
        rpps_import(path, accept_partial=True)
    assert [str(c) for c in stopped.value.cpts] == ["CPTS Liévin : 1 médecin sur 3 (33 %)"]
    assert stopped.value.practitioners == [(C, "Dr Marie CARON")]
    assert stopped.value.report.rejected == 1
    assert f"  {C} – Dr Marie CARON" in stopped.value.lines()
    assert present() == {A, B, C}  # nothing written
    report = rpps_import(path, accept_partial=True, confirm_absences=True)
    assert report.rejected == 1 and report.practitioners_gone == 1
    assert present() == {A, B}


def test_absences_up_to_the_share_go_through_and_the_share_is_a_setting(tmp_path, cpts, settings):
    rows = [gp_row(rpps=f"100000000{n:02}", last_name=f"NOM{n}") for n in range(10)]
    rpps_import(write_rpps_file(tmp_path / "a.txt", rows))
    # 1 of 10 (10 %): not above the default share, no question asked.
    report = rpps_import(write_rpps_file(tmp_path / "b.txt", rows[1:]))
    assert report.practitioners_gone == 1
    # 2 more of the 9 present (22 %): asked.
    with pytest.raises(RppsAbsencesNeedConfirmation):
        rpps_import(write_rpps_file(tmp_path / "c.txt", rows[3:]))
    assert len(present()) == 9
    settings.RPPS_MAX_ABSENT_SHARE = 0.25
    assert rpps_import(write_rpps_file(tmp_path / "c.txt", rows[3:])).practitioners_gone == 2


def test_command_refuses_a_cut_file_and_asks_to_confirm_absences(tmp_path, cpts):
    rpps_import(full_file(tmp_path))
    path = str(cut_copy(tmp_path, 20))
    with pytest.raises(CommandError, match=r"ligne 5.*--accept-partial"):
        call_command("import_rpps", path, stdout=StringIO())
    out = StringIO()
    with pytest.raises(CommandError, match="--confirm-absences"):
        call_command("import_rpps", path, "--accept-partial", stdout=out)
    text = out.getvalue()
    assert "CPTS Liévin : 1 médecin sur 3 (33 %)" in text
    assert f"{C} – Dr Marie CARON" in text
    assert "ligne 5 : ligne tronquée" in text
    assert present() == {A, B, C}
    out = StringIO()
    call_command("import_rpps", path, "--accept-partial", "--confirm-absences", stdout=out)
    assert "1 absents du fichier" in out.getvalue()
    assert present() == {A, B}


def test_a_field_after_the_last_separator_is_one_too_many(tmp_path, cpts):
    extra = render_line(HEADER_56, pharmacist_row())[:-1] + "|en trop"  # no trailing "|"
    report = rpps_import(write_rpps_file(tmp_path / "rpps.txt", [extra, gp_row(rpps=A)]))
    assert [(e.line, e.reason) for e in report.errors] == [
        (2, f"{Reason.TOO_MANY_FIELDS} : 57 champs sur 56")
    ]
    assert present() == {A}


def test_absences_are_counted_per_cpts(tmp_path, cpts, communes):
    """Two GPs leave Liévin's CPTS (2 of 3); the other CPTS loses none."""
    from tests.territory.factories import CPTSFactory

    from .factories import territory_with

    territory_with(CPTSFactory(name="CPTS Lens", slug="lens"), communes["lens"])
    lens = [gp_row(rpps=f"3000000000{n}", postcode="62300", commune_code="62498") for n in range(5)]
    lievin = [gp_row(rpps=r, last_name=name) for r, name in ((A, "A"), (B, "B"), (C, "C"))]
    rpps_import(write_rpps_file(tmp_path / "a.txt", lievin + lens))
    with pytest.raises(RppsAbsencesNeedConfirmation) as stopped:
        rpps_import(write_rpps_file(tmp_path / "b.txt", lievin[:1] + lens))
    assert [str(c) for c in stopped.value.cpts] == ["CPTS Liévin : 2 médecins sur 3 (67 %)"]
    assert [rpps for rpps, _ in stopped.value.practitioners] == [B, C]
