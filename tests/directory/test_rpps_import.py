"""Import of the RPPS file: reading the real format, scope, idempotency, corrections."""

import pytest
from django.utils import timezone

from accesmt.directory.models import GeocodeSource, PracticeSite, PracticeType, Practitioner, Source
from accesmt.directory.rpps import RppsFormatError, rpps_import
from accesmt.directory.services import (
    practice_site_correct,
    practitioner_correct,
    practitioner_create_manual,
)

from .rpps_files import HEADER_50, HEADER_52, HEADER_56, gp_row, write_rpps_file

pytestmark = pytest.mark.django_db


def test_imports_gps_of_the_territory_with_their_site(tmp_path, cpts, communes):
    path = write_rpps_file(tmp_path / "rpps.txt", [gp_row()])
    report = rpps_import(path)
    gp = Practitioner.objects.get()
    assert (gp.rpps, gp.last_name, gp.first_name, gp.civility) == (
        "10001234567",
        "DUPONT",
        "Marie",
        "Docteur",
    )
    assert gp.source == Source.RPPS and gp.specialty_codes == ["SM54"]
    assert gp.email == "cabinet@example.org" and gp.imported_at is not None
    site = gp.sites.get()
    assert site.commune == communes["lievin"]
    assert site.address_line2 == "12 Rue DE LA GARE"
    assert site.label == "CABINET MEDICAL DE LA GARE"
    assert site.postcode == "62800" and site.phone == "0321000000"
    assert site.practice_type == PracticeType.GROUP
    assert (site.latitude, site.longitude) == (50.4228, 2.7786)
    assert site.geocode_source == GeocodeSource.COMMUNE_CENTRE
    assert report.practitioners_created == 1 and report.sites_created == 1
    assert report.lines_read == 1 and report.rejected == 0


@pytest.mark.parametrize("header", [HEADER_56, HEADER_52, HEADER_50], ids=["56", "52", "50"])
@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_column_variants_and_encodings(tmp_path, cpts, header, encoding):
    row = gp_row(last_name="LEFÈVRE", first_name="Gaëlle", street="DES ÉCOLES")
    path = write_rpps_file(tmp_path / "rpps.txt", [row], header=header, encoding=encoding)
    report = rpps_import(path)
    gp = Practitioner.objects.get()
    assert (gp.last_name, gp.first_name) == ("LEFÈVRE", "Gaëlle")
    assert gp.sites.get().address_line2 == "12 Rue DES ÉCOLES"
    assert report.columns == len(header)
    assert report.encoding == encoding


def test_columns_are_matched_by_name_not_position(tmp_path, cpts):
    header = list(reversed(HEADER_56)) + ["Colonne ajoutée en 2031"]
    report = rpps_import(write_rpps_file(tmp_path / "rpps.txt", [gp_row()], header=header))
    assert Practitioner.objects.get().last_name == "DUPONT"
    assert report.unknown_columns == ["Colonne ajoutée en 2031"]


def test_windows_line_endings_and_bom(tmp_path, cpts):
    path = write_rpps_file(tmp_path / "rpps.txt", [gp_row()], newline="\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    rpps_import(path)
    assert Practitioner.objects.get().sites.get().label == "CABINET MEDICAL DE LA GARE"


def test_only_gps_are_imported(tmp_path, cpts):
    rows = [
        gp_row(rpps="10000000001", savoir_faire="SM26"),
        gp_row(rpps="10000000002", savoir_faire="SM53"),
        gp_row(rpps="10000000003", savoir_faire="SM54"),
        gp_row(rpps="10000000004", savoir_faire="SM04"),  # cardiologist
        gp_row(rpps="10000000005", savoir_faire=""),  # médecin without savoir-faire
        gp_row(rpps="10000000006", profession="60", savoir_faire="SM54"),  # not a médecin
        gp_row(rpps="10000000007", savoir_faire="SM54X"),
    ]
    report = rpps_import(write_rpps_file(tmp_path / "rpps.txt", rows))
    assert set(Practitioner.objects.values_list("rpps", flat=True)) == {
        "10000000001",
        "10000000002",
        "10000000003",
    }
    assert report.gp_rows == 3 and report.lines_read == 7


def test_territory_filter_and_departement_scope(tmp_path, cpts):
    rows = [
        gp_row(rpps="10000000001"),
        gp_row(rpps="10000000002", postcode="62300", commune_code="62498", commune_name="LENS"),
        gp_row(rpps="10000000003", postcode="59000", commune_code="59350", commune_name="LILLE"),
    ]
    path = write_rpps_file(tmp_path / "rpps.txt", rows)
    report = rpps_import(path)
    assert list(Practitioner.objects.values_list("rpps", flat=True)) == ["10000000001"]
    assert report.rows_out_of_scope == 2
    report = rpps_import(path, departements=["62"])
    assert set(Practitioner.objects.values_list("rpps", flat=True)) == {
        "10000000001",
        "10000000002",
    }
    assert report.rows_out_of_scope == 1


def test_commune_falls_back_on_postcode_and_name(tmp_path, cpts, communes):
    rows = [
        gp_row(rpps="10000000001", commune_code="", postcode="62210", commune_name=""),
        # 62880 serves Vendin-le-Vieil and Annay: the name chooses.
        gp_row(rpps="10000000002", commune_code="", postcode="62880", commune_name="ANNAY"),
        gp_row(
            rpps="10000000003",
            commune_code="",
            postcode="62880",
            commune_name="",
            **{"Bureau cedex (coord. structure)": "62880 VENDIN LE VIEIL CEDEX"},
        ),
        # An INSEE code unknown to the reference data (merged commune): postal code used.
        gp_row(rpps="10000000004", commune_code="62999", postcode="62800", commune_name="X"),
    ]
    report = rpps_import(write_rpps_file(tmp_path / "rpps.txt", rows))
    communes_of = dict(PracticeSite.objects.values_list("practitioner__rpps", "commune_id"))
    assert communes_of == {
        "10000000001": "62065",
        "10000000002": "62033",
        "10000000003": "62846",
        "10000000004": "62510",
    }
    assert report.rejected == 0


def test_one_practitioner_with_two_sites_and_duplicate_rows(tmp_path, cpts):
    rows = [
        gp_row(),
        gp_row(),  # same RPPS × site: counted once
        gp_row(savoir_faire="SM26"),  # same site, another GP savoir-faire
        gp_row(structure_id="S62000002", postcode="62210", commune_code="62065", street="X"),
    ]
    report = rpps_import(write_rpps_file(tmp_path / "rpps.txt", rows))
    gp = Practitioner.objects.get()
    assert gp.sites.count() == 2
    assert gp.specialty_codes == ["SM26", "SM54"]
    assert report.duplicates == 2 and report.rows_in_scope == 4


def test_sites_without_structure_id_are_keyed_by_address(tmp_path, cpts):
    path = write_rpps_file(tmp_path / "a.txt", [gp_row(structure_id="")])
    rpps_import(path)
    rpps_import(path)
    assert PracticeSite.objects.count() == 1
    rpps_import(write_rpps_file(tmp_path / "b.txt", [gp_row(structure_id="", number="14")]))
    assert PracticeSite.objects.filter(is_gone=False).count() == 1
    assert PracticeSite.objects.filter(is_gone=True).count() == 1


def test_practice_types(tmp_path, cpts):
    rows = [
        gp_row(rpps="10000000001", sector_code="SA07", label="DR MARTIN"),
        gp_row(rpps="10000000002", sector_code="SA08", label="MAISON DE SANTÉ DU CENTRE"),
        gp_row(rpps="10000000003", sector_code="SA05", label="CDS MUNICIPAL"),
        gp_row(rpps="10000000004", sector_code="SA08", label="SCM DES MEDECINS"),
    ]
    rpps_import(write_rpps_file(tmp_path / "rpps.txt", rows))
    types = dict(PracticeSite.objects.values_list("practitioner__rpps", "practice_type"))
    assert types == {
        "10000000001": PracticeType.SOLO,
        "10000000002": PracticeType.MSP,
        "10000000003": PracticeType.HEALTH_CENTRE,
        "10000000004": PracticeType.GROUP,
    }


def test_reimport_is_idempotent(tmp_path, cpts):
    path = write_rpps_file(tmp_path / "rpps.txt", [gp_row(), gp_row(rpps="10000000009")])
    rpps_import(path)
    before = list(Practitioner.objects.values_list("pk", "rpps", "updated_at").order_by("pk"))
    report = rpps_import(path)
    after = list(Practitioner.objects.values_list("pk", "rpps", "updated_at").order_by("pk"))
    assert before == after
    assert report.practitioners_created == 0 and report.practitioners_updated == 0
    assert report.practitioners_unchanged == 2
    assert report.sites_created == report.sites_updated == report.sites_gone == 0
    assert PracticeSite.objects.count() == 2


def test_reimport_updates_changed_data(tmp_path, cpts):
    rpps_import(write_rpps_file(tmp_path / "a.txt", [gp_row()]))
    report = rpps_import(
        write_rpps_file(tmp_path / "b.txt", [gp_row(last_name="DUPONT-MARTIN", phone="0321111111")])
    )
    gp = Practitioner.objects.get()
    assert gp.last_name == "DUPONT-MARTIN"
    assert gp.sites.get().phone == "0321111111"
    assert report.practitioners_updated == 1 and report.sites_updated == 1


def test_absent_practitioners_and_sites_are_marked_gone_not_deleted(tmp_path, cpts):
    second_site = gp_row(structure_id="S2", postcode="62210", commune_code="62065")
    first = [gp_row(), second_site, gp_row(rpps="10000000009")]
    rpps_import(write_rpps_file(tmp_path / "a.txt", first))
    # 1 GP of 2 leaves: above RPPS_MAX_ABSENT_SHARE, confirmed (tests/…/test_rpps_safeguards.py).
    report = rpps_import(write_rpps_file(tmp_path / "b.txt", [gp_row()]), confirm_absences=True)
    assert Practitioner.objects.count() == 2
    leaver = Practitioner.objects.get(rpps="10000000009")
    assert leaver.is_gone and leaver.gone_since is not None
    assert leaver.sites.get().is_gone
    stayer = Practitioner.objects.get(rpps="10001234567")
    assert not stayer.is_gone
    assert stayer.sites.filter(is_gone=True).get().commune_id == "62065"
    assert report.practitioners_gone == 1 and report.sites_gone == 2
    # Back in the file: present again.
    report = rpps_import(write_rpps_file(tmp_path / "c.txt", first))
    assert not Practitioner.objects.filter(is_gone=True).exists()
    assert not PracticeSite.objects.filter(is_gone=True).exists()
    assert report.practitioners_back == 1


def test_gone_marking_stays_within_the_scope(tmp_path, cpts):
    lens_gp = gp_row(rpps="10000000002", postcode="62300", commune_code="62498")
    rpps_import(write_rpps_file(tmp_path / "a.txt", [lens_gp]), departements=["62"])
    # A platform-scope import does not cover Lens: its GP is not marked gone.
    rpps_import(write_rpps_file(tmp_path / "b.txt", [gp_row()]))
    assert not Practitioner.objects.get(rpps="10000000002").is_gone


def test_manual_practitioners_and_sites_are_never_marked_gone(tmp_path, cpts, communes):
    manual = practitioner_create_manual(
        last_name="NOUVELLE",
        first_name="Inès",
        site={"commune": communes["avion"], "postcode": "62210", "label": "Cabinet"},
    )
    rpps_import(write_rpps_file(tmp_path / "rpps.txt", [gp_row()]))
    manual.refresh_from_db()
    assert not manual.is_gone and not manual.sites.get().is_gone


def test_manual_practitioner_taken_over_when_in_the_file(tmp_path, cpts, communes):
    manual = practitioner_create_manual(
        rpps="10001234567",
        last_name="DUPONT",
        site={"commune": communes["avion"], "postcode": "62210"},
    )
    rpps_import(write_rpps_file(tmp_path / "rpps.txt", [gp_row()]))
    manual.refresh_from_db()
    assert manual.source == Source.RPPS
    assert manual.sites.count() == 2


def test_coordinator_corrections_survive_reimport(tmp_path, cpts, communes, django_user_model):
    path = write_rpps_file(tmp_path / "rpps.txt", [gp_row()])
    rpps_import(path)
    gp = Practitioner.objects.get()
    practitioner_correct(practitioner=gp, fields={"first_name": "Marie-Anne", "birth_year": 1961})
    site = gp.sites.get()
    practice_site_correct(
        site=site, fields={"phone": "0600000000", "latitude": 50.42, "longitude": 2.77}
    )
    rpps_import(write_rpps_file(tmp_path / "b.txt", [gp_row(last_name="DUPOND", phone="0321")]))
    gp.refresh_from_db()
    site.refresh_from_db()
    assert gp.first_name == "Marie-Anne" and gp.birth_year == 1961
    assert gp.last_name == "DUPOND"  # not corrected: the file wins
    assert set(gp.corrections) == {"first_name", "birth_year"}
    assert site.phone == "0600000000"
    assert (site.latitude, site.longitude, site.geocode_source) == (50.42, 2.77, "address")


def test_moved_site_is_placed_again_unless_coordinates_were_corrected(tmp_path, cpts):
    rpps_import(write_rpps_file(tmp_path / "a.txt", [gp_row()]))
    site = PracticeSite.objects.get()
    PracticeSite.objects.filter(pk=site.pk).update(
        latitude=50.0, longitude=2.0, geocode_source=GeocodeSource.ADDRESS
    )
    rpps_import(write_rpps_file(tmp_path / "b.txt", [gp_row()]))
    site.refresh_from_db()
    assert (site.latitude, site.geocode_source) == (50.0, GeocodeSource.ADDRESS)  # kept
    rpps_import(write_rpps_file(tmp_path / "c.txt", [gp_row(number="99")]))
    site.refresh_from_db()
    assert (site.latitude, site.geocode_source) == (50.4228, GeocodeSource.COMMUNE_CENTRE)


def test_no_commune_in_scope_is_refused(tmp_path, db):
    path = write_rpps_file(tmp_path / "rpps.txt", [gp_row()])
    with pytest.raises(RppsFormatError, match="Aucune commune"):
        rpps_import(path)


def test_dry_run_writes_nothing(tmp_path, cpts):
    report = rpps_import(write_rpps_file(tmp_path / "rpps.txt", [gp_row()]), dry_run=True)
    assert report.rows_in_scope == 1
    assert not Practitioner.objects.exists()


def test_imported_at_moves_forward_only_when_the_file_changes_the_row(tmp_path, cpts):
    path = write_rpps_file(tmp_path / "rpps.txt", [gp_row()])
    rpps_import(path)
    first = Practitioner.objects.get().imported_at
    first_site = PracticeSite.objects.get().imported_at
    rpps_import(path)  # unchanged: nothing written
    assert Practitioner.objects.get().imported_at == first
    assert PracticeSite.objects.get().imported_at == first_site
    rpps_import(write_rpps_file(tmp_path / "rpps2.txt", [gp_row(first_name="Marion")]))
    assert Practitioner.objects.get().imported_at > first
    assert Practitioner.objects.get().imported_at <= timezone.now()
    assert PracticeSite.objects.get().imported_at == first_site  # the site did not change
