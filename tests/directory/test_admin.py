"""Admin: the RPPS upload (through HTTP, file streamed to disk) and corrections kept by imports."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accesmt.directory.models import Practitioner
from accesmt.directory.rpps import rpps_import
from tests.accounts.factories import UserFactory

from .rpps_files import HEADER_56, gp_row, pharmacist_row, write_rpps_file

pytestmark = pytest.mark.django_db

IMPORT_URL = "/admin/directory/practitioner/importer/"


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(platform_admin=True))
    return client


def upload(tmp_path, rows, name="rpps.txt", header=HEADER_56):
    path = write_rpps_file(tmp_path / name, rows, header=header)
    return SimpleUploadedFile(name, path.read_bytes(), content_type="text/plain")


def test_changelist_links_to_the_import(admin_client, cpts):
    response = admin_client.get("/admin/directory/practitioner/")
    assert response.status_code == 200
    assert IMPORT_URL in response.content.decode()


def test_upload_imports_and_shows_the_report(admin_client, cpts, tmp_path):
    rows = [gp_row(), gp_row(rpps="BAD")]
    response = admin_client.post(IMPORT_URL, {"file": upload(tmp_path, rows)})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Médecins : 1 créés" in page
    assert "ligne 3 : identifiant RPPS invalide" in page
    assert Practitioner.objects.get().rpps == "10001234567"


def test_large_upload_goes_through_a_temporary_file(admin_client, cpts, tmp_path, settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 100  # force Django's TemporaryUploadedFile
    response = admin_client.post(IMPORT_URL, {"file": upload(tmp_path, [gp_row()])})
    assert "Médecins : 1 créés" in response.content.decode()


def test_upload_dry_run_and_departements(admin_client, cpts, tmp_path):
    lens = gp_row(postcode="62300", commune_code="62498", commune_name="LENS")
    data = {"file": upload(tmp_path, [lens]), "departements": "62", "dry_run": "on"}
    response = admin_client.post(IMPORT_URL, data, follow=True)
    assert "Essai à blanc" in response.content.decode()
    assert not Practitioner.objects.exists()
    admin_client.post(IMPORT_URL, {"file": upload(tmp_path, [lens]), "departements": "62"})
    assert Practitioner.objects.get().sites.get().commune_id == "62498"


def test_upload_with_missing_header_is_refused_next_to_the_field(admin_client, cpts, tmp_path):
    header = [h for h in HEADER_56 if h != "Identifiant PP"]
    response = admin_client.post(IMPORT_URL, {"file": upload(tmp_path, [gp_row()], header=header)})
    page = response.content.decode()
    assert "Le fichier n'a pas été importé" in page
    assert "« Identifiant PP »" in page
    assert not Practitioner.objects.exists()


def test_invalid_departement_is_refused(admin_client, cpts, tmp_path):
    data = {"file": upload(tmp_path, [gp_row()]), "departements": "999"}
    response = admin_client.post(IMPORT_URL, data)
    assert "Département invalide" in response.content.decode()


def test_import_page_is_for_platform_admins_only(client, cpts):
    client.force_login(UserFactory(is_staff=True))
    response = client.get(IMPORT_URL)  # the admin is the platform admins' alone (decision 0022)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_admin_edit_is_a_correction_kept_by_the_next_import(admin_client, cpts, tmp_path):
    path = write_rpps_file(tmp_path / "rpps.txt", [gp_row()])
    rpps_import(path)
    gp = Practitioner.objects.get()
    url = f"/admin/directory/practitioner/{gp.pk}/change/"
    form = admin_client.get(url).context["adminform"].form
    data = {name: form.initial.get(name) or "" for name in form.fields}
    data.update({"first_name": "Marie-Anne", "is_msu": "on"})
    data.update(
        {
            "sites-TOTAL_FORMS": "1",
            "sites-INITIAL_FORMS": "1",
            "sites-MIN_NUM_FORMS": "0",
            "sites-MAX_NUM_FORMS": "1000",
            "sites-0-id": str(gp.sites.get().pk),
            "sites-0-practitioner": str(gp.pk),
        }
    )
    response = admin_client.post(url, data)
    assert response.status_code == 302
    gp.refresh_from_db()
    assert gp.first_name == "Marie-Anne" and gp.is_msu
    assert set(gp.corrections) == {"first_name", "is_msu"}
    rpps_import(path)
    gp.refresh_from_db()
    assert gp.first_name == "Marie-Anne"


# --- safeguards: cut file, absences to confirm (issue #8, point 2) -------------------------------


@pytest.fixture(autouse=True)
def pending_dir(settings, tmp_path):
    settings.RPPS_PENDING_DIR = tmp_path / "pending"
    return settings.RPPS_PENDING_DIR


def _three_gps_then_two(admin_client, tmp_path):
    rows = [gp_row(rpps=f"1000000000{n}", last_name=f"NOM{n}") for n in (1, 2, 3)]
    rpps_import(write_rpps_file(tmp_path / "a.txt", rows))
    return admin_client.post(IMPORT_URL, {"file": upload(tmp_path, rows[:2], name="b.txt")})


def present():
    return set(Practitioner.objects.filter(is_gone=False).values_list("rpps", flat=True))


def test_cut_upload_is_refused_next_to_the_field_unless_partial_accepted(
    admin_client, cpts, tmp_path, pending_dir
):
    path = write_rpps_file(tmp_path / "cut.txt", [gp_row(), pharmacist_row()])
    data = path.read_bytes()[:-40]  # the download stopped in the pharmacist's line
    response = admin_client.post(IMPORT_URL, {"file": SimpleUploadedFile("cut.txt", data)})
    page = response.content.decode()
    assert "Le fichier n'a pas été importé" in page
    assert "la dernière ligne (ligne 3) n&#x27;a pas de fin de ligne" in page
    assert not Practitioner.objects.exists()
    response = admin_client.post(
        IMPORT_URL, {"file": SimpleUploadedFile("cut.txt", data), "accept_partial": "on"}
    )
    page = response.content.decode()
    assert "Médecins : 1 créés" in page and "ligne 3 : ligne tronquée" in page


def test_absences_are_confirmed_in_a_second_step_without_uploading_again(
    admin_client, cpts, tmp_path, pending_dir
):
    response = _three_gps_then_two(admin_client, tmp_path)
    page = response.content.decode()
    assert "Confirmation nécessaire" in page
    assert "CPTS Liévin : 1 médecin sur 3 (33 %)" in page
    assert "10000000003 – Dr Marie NOM3" in page
    assert present() == {"10000000001", "10000000002", "10000000003"}
    [kept] = pending_dir.iterdir()  # the upload, kept under a random name
    token = response.context["pending"]["token"]
    assert kept.name == token
    response = admin_client.post(IMPORT_URL, {"confirm": token})
    page = response.content.decode()
    assert "Import terminé : absences confirmées." in page
    assert "1 absents du fichier" in page
    assert present() == {"10000000001", "10000000002"}
    assert list(pending_dir.iterdir()) == []
    # Confirming twice does nothing.
    response = admin_client.post(IMPORT_URL, {"confirm": token}, follow=True)
    assert "plus en attente de confirmation" in response.content.decode()


def test_absences_cancelled_or_confirmed_from_another_session_change_nothing(
    admin_client, cpts, tmp_path, pending_dir
):
    response = _three_gps_then_two(admin_client, tmp_path)
    token = response.context["pending"]["token"]
    other = Client()
    other.force_login(UserFactory(platform_admin=True))  # another session cannot use the file
    assert "plus en attente" in other.post(IMPORT_URL, {"confirm": token}).content.decode()
    wrong = admin_client.post(IMPORT_URL, {"confirm": "../../a.txt"}).content.decode()
    assert "plus en attente" in wrong
    assert len(present()) == 3
    response = admin_client.post(IMPORT_URL, {"cancel": token})
    assert "Import annulé" in response.content.decode()
    assert list(pending_dir.iterdir()) == []
    assert len(present()) == 3


def test_large_upload_waiting_for_confirmation_is_kept(
    admin_client, cpts, tmp_path, pending_dir, settings
):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 100  # Django's temporary file, moved to pending
    response = _three_gps_then_two(admin_client, tmp_path)
    token = response.context["pending"]["token"]
    assert (pending_dir / token).exists()
    admin_client.post(IMPORT_URL, {"confirm": token})
    assert len(present()) == 2
