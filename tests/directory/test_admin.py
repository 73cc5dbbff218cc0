"""Admin: the RPPS upload (through HTTP, file streamed to disk) and corrections kept by imports.
The import runs as a background operation of the whole platform (the test backend runs it at
once): the upload redirects to its progress page, which shows the report or the French refusal."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accesmt.directory.models import Practitioner
from accesmt.directory.rpps import rpps_import
from accesmt.notifications.models import Operation
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


def operation_url(operation) -> str:
    return f"{IMPORT_URL}operations/{operation.pk}/"


def test_upload_imports_and_shows_the_report(admin_client, cpts, tmp_path, pending_dir):
    rows = [gp_row(), gp_row(rpps="BAD")]
    response = admin_client.post(IMPORT_URL, {"file": upload(tmp_path, rows)}, follow=True)
    operation = Operation.objects.get()
    assert operation.cpts is None and operation.kind == "directory.rpps_import"
    assert response.redirect_chain == [(operation_url(operation), 302)]
    page = response.content.decode()
    assert response.status_code == 200
    assert "Terminée" in page and 'value="100"' in page and 'http-equiv="refresh"' not in page
    assert "Médecins : 1 créés" in page
    assert "ligne 3 : identifiant RPPS invalide" in page
    assert Practitioner.objects.get().rpps == "10001234567"
    assert list(pending_dir.iterdir()) == []  # the file is deleted once imported


def test_large_upload_goes_through_a_temporary_file(admin_client, cpts, tmp_path, settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 100  # force Django's TemporaryUploadedFile
    response = admin_client.post(IMPORT_URL, {"file": upload(tmp_path, [gp_row()])}, follow=True)
    assert "Médecins : 1 créés" in response.content.decode()


def test_upload_dry_run_and_departements(admin_client, cpts, tmp_path):
    lens = gp_row(postcode="62300", commune_code="62498", commune_name="LENS")
    data = {"file": upload(tmp_path, [lens]), "departements": "62", "dry_run": "on"}
    response = admin_client.post(IMPORT_URL, data, follow=True)
    assert "Essai à blanc" in response.content.decode()
    assert not Practitioner.objects.exists()
    admin_client.post(IMPORT_URL, {"file": upload(tmp_path, [lens]), "departements": "62"})
    assert Practitioner.objects.get().sites.get().commune_id == "62498"


def test_upload_with_missing_header_fails_in_french_on_its_page(
    admin_client, cpts, tmp_path, pending_dir
):
    header = [h for h in HEADER_56 if h != "Identifiant PP"]
    response = admin_client.post(
        IMPORT_URL, {"file": upload(tmp_path, [gp_row()], header=header)}, follow=True
    )
    page = response.content.decode()
    assert "Échouée" in page and "Import refusé" in page
    assert "« Identifiant PP »" in page
    assert not Practitioner.objects.exists()
    assert list(pending_dir.iterdir()) == []


def test_a_second_upload_while_one_runs_is_refused(admin_client, cpts, tmp_path, pending_dir):
    from django.test import override_settings

    dummy = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    with override_settings(TASKS=dummy):  # enqueued, never run: the first one stays queued
        first = admin_client.post(IMPORT_URL, {"file": upload(tmp_path, [gp_row()])})
        operation = Operation.objects.get()
        assert first["Location"] == operation_url(operation)
        page = admin_client.get(first["Location"]).content.decode()
        assert 'http-equiv="refresh"' in page and "En attente" in page
        # the import page links to the one running
        assert f'href="{operation_url(operation)}"' in admin_client.get(IMPORT_URL).content.decode()
        second = admin_client.post(IMPORT_URL, {"file": upload(tmp_path, [gp_row()])}, follow=True)
    assert Operation.objects.count() == 1
    assert "Un import de l&#x27;annuaire national est déjà en cours" in second.content.decode()
    assert len(list(pending_dir.iterdir())) == 1  # the refused upload is not kept


def test_the_progress_page_is_for_platform_admins_and_platform_operations_only(
    client, cpts, tmp_path
):
    client.force_login(UserFactory(platform_admin=True))
    client.post(IMPORT_URL, {"file": upload(tmp_path, [gp_row()])})
    operation = Operation.objects.get()
    assert client.get(operation_url(operation)).status_code == 200
    theirs = Operation.objects.create(kind="directory.rpps_import", cpts=cpts, status="done")
    assert client.get(operation_url(theirs)).status_code == 404  # not a platform operation
    client.force_login(UserFactory(is_staff=True))
    response = client.get(operation_url(operation))
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


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
    """The upload ends on the absences question; the import page (its progress page's link)
    asks it."""
    rows = [gp_row(rpps=f"1000000000{n}", last_name=f"NOM{n}") for n in (1, 2, 3)]
    rpps_import(write_rpps_file(tmp_path / "a.txt", rows))
    response = admin_client.post(
        IMPORT_URL, {"file": upload(tmp_path, rows[:2], name="b.txt")}, follow=True
    )
    page = response.content.decode()
    assert "Terminée" in page and "Cet import marquerait absents" in page
    assert f'href="{IMPORT_URL}"' in page  # « Voir le résultat »: the question
    return admin_client.get(IMPORT_URL)


def present():
    return set(Practitioner.objects.filter(is_gone=False).values_list("rpps", flat=True))


def test_cut_upload_is_refused_next_to_the_field_unless_partial_accepted(
    admin_client, cpts, tmp_path, pending_dir
):
    path = write_rpps_file(tmp_path / "cut.txt", [gp_row(), pharmacist_row()])
    data = path.read_bytes()[:-40]  # the download stopped in the pharmacist's line
    response = admin_client.post(
        IMPORT_URL, {"file": SimpleUploadedFile("cut.txt", data)}, follow=True
    )
    page = response.content.decode()
    assert "Import refusé" in page
    assert "la dernière ligne (ligne 3) n&#x27;a pas de fin de ligne" in page
    assert not Practitioner.objects.exists()
    response = admin_client.post(
        IMPORT_URL,
        {"file": SimpleUploadedFile("cut.txt", data), "accept_partial": "on"},
        follow=True,
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
    response = admin_client.post(IMPORT_URL, {"confirm": token}, follow=True)
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
    assert (
        "plus en attente"
        in other.post(IMPORT_URL, {"confirm": token}, follow=True).content.decode()
    )
    wrong = admin_client.post(IMPORT_URL, {"confirm": "../../a.txt"}, follow=True).content.decode()
    assert "plus en attente" in wrong
    assert len(present()) == 3
    response = admin_client.post(IMPORT_URL, {"cancel": token}, follow=True)
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


def test_the_import_reports_its_read_then_its_write_on_the_progress_bar(
    admin_client, cpts, tmp_path, settings, monkeypatch
):
    """The read phase fills 0–80 % by bytes read, the write phase is its own step at 80 %."""
    from accesmt.directory import rpps
    from accesmt.notifications import operations

    monkeypatch.setattr(rpps.reader, "PROGRESS_EVERY_LINES", 1)
    seen = []
    write = operations.Progress.__call__

    def record(self, **kwargs):
        write(self, **kwargs)
        seen.append((self.operation.done, self.operation.step))

    monkeypatch.setattr(operations.Progress, "__call__", record)
    rows = [gp_row(rpps=f"1000000000{n}", last_name=f"NOM{n}") for n in range(5)]
    admin_client.post(IMPORT_URL, {"file": upload(tmp_path, rows)})
    assert seen[0] == (0, "Lecture du fichier") and seen[-1] == (
        80,
        "Enregistrement dans l'annuaire",
    )
    reading = [done for done, step in seen if step == "Lecture du fichier"]
    assert reading == sorted(reading) and 0 < max(reading[1:]) < 80
    operation = Operation.objects.get()
    assert (operation.status, operation.step, operation.done, operation.total) == (
        "done",
        "Terminé",
        100,
        100,
    )
