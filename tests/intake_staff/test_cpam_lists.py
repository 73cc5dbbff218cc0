"""Import of a CPAM list over HTTP: preview (nothing written), confirm (all written), refused and
duplicate lines with their line numbers, the opt-out link and the coordinator's record of a
refusal, and the end of the period (the requests enter the queue with the list's date)."""

import datetime
import html
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from accesmt.intake.cpam_lists import cpam_lists_release_due
from accesmt.intake.models import (
    Channel,
    ClosedReason,
    CpamList,
    HouseholdMember,
    Request,
    RequestTransition,
    Status,
)
from accesmt.notifications.models import Operation, OutboxMessage
from tests.messages import link_in

from .conftest import make_request

pytestmark = pytest.mark.django_db

HEADER = (
    "Nom;Prénom;Date de naissance;Sexe;Adresse;Code postal;Commune;Téléphone;E-mail;NIR;ALD;CSS;"
    "Médecin consulté habituellement"
)
NIR_MARTIN = "248052A01234542"  # not a valid key: refused, never shown


def _csv(*lines: str, encoding="cp1252") -> bytes:
    return ("\r\n".join((HEADER, *lines)) + "\r\n").encode(encoding)


GOOD = (
    "Martin;Jeanne;17/05/1948;F;12 rue des Lilas;62800;Liévin;06 12 34 56 78;;;oui;non;10001234567"
)
POSTAL = "Lefèvre;Paul;03/02/1950;M;4 place Jean Jaurès;62143;;;;;oui;oui;Dr Durand, Liévin"
BAD_DATE = "Petit;Marc;31/02/1960;M;1 rue Haute;62800;Liévin;06 11 22 33 44;;;non;non;"
OUTSIDE = "Roux;Léa;01/01/1970;F;2 rue Basse;62300;Lens;06 55 44 33 22;;;non;non;"
BAD_NIR = f"Dubois;Anne;12/03/1975;F;3 rue Neuve;62800;Liévin;;anne@exemple.fr;{NIR_MARTIN};;;"
AGAIN = "MARTIN;Jeanne;17/05/1948;F;autre adresse 9;62800;Liévin;;jeanne@exemple.fr;;oui;;"


def upload_url(cpts):
    return reverse("intake_staff:cpam_list_upload", kwargs={"cpts_slug": cpts.slug})


@pytest.fixture(autouse=True)
def _pending_dir(settings, tmp_path):
    settings.CPAM_PENDING_DIR = tmp_path / "cpam-pending"
    return settings.CPAM_PENDING_DIR


def _upload(client, cpts, data: bytes, *, name="liste.csv", **fields):
    upload = io.BytesIO(data)
    upload.name = name
    values = {
        "campaign_name": "Plan ALD 2026",
        "list_date": "02/11/2026",
        "opt_out_days": "30",
        "file": upload,
        **fields,
    }
    return client.post(upload_url(cpts), values)


def _token(response) -> str:
    page = response.content.decode()
    return page.split('name="confirm" value="')[1].split('"')[0]


def test_preview_reports_every_line_and_writes_nothing(coordinator_client, cpts):
    existing = make_request(cpts, last_name="Lefèvre", birth_date=datetime.date(1950, 2, 3))
    HouseholdMember.objects.filter(request=existing).update(first_name="Paul")
    HouseholdMember.objects.filter(request=existing).update(normalised_name="lefevrepaul")
    before = (Request.objects.count(), OutboxMessage.objects.count())
    response = _upload(
        coordinator_client, cpts, _csv(GOOD, POSTAL, BAD_DATE, OUTSIDE, BAD_NIR, AGAIN)
    )
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert '<strong data-count="accepted">1</strong>' in page
    assert '<strong data-count="duplicates">2</strong>' in page
    assert '<strong data-count="refused">3</strong>' in page
    # Line numbers (header = line 1) and reasons, with the column they concern.
    assert 'data-line="4"' in page and "Date de naissance non reconnue" in page
    assert "Lens n'est pas sur le territoire de CPTS Liévin Pays d'Artois" in page
    assert "Cette commune est couverte par CPTS Lens Hénin" in page
    assert "numéro de sécurité sociale n'est pas valide" in page
    assert f"mêmes nom, prénom et date de naissance que la demande {existing.reference}" in page
    assert "Deux fois dans la liste" in page and "que la ligne 2" in page
    assert NIR_MARTIN not in page
    assert (Request.objects.count(), OutboxMessage.objects.count()) == before
    assert not CpamList.objects.exists()
    assert "Confirmer l'import" in page


def test_confirm_writes_every_accepted_line_in_opt_out(coordinator_client, cpts, _pending_dir):
    response = _upload(coordinator_client, cpts, _csv(GOOD, POSTAL, BAD_DATE))
    token = _token(response)
    assert len(list(_pending_dir.iterdir())) == 1
    response = coordinator_client.post(upload_url(cpts), {"confirm": token})
    cpam_list = CpamList.objects.get()
    # a background operation (run at once by the test backend): its progress page links to
    # the list and says what was imported
    operation = Operation.objects.get(kind="intake.cpam_list_import")
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "notifications:operation", kwargs={"cpts_slug": cpts.slug, "pk": operation.pk}
    )
    list_url = reverse(
        "intake_staff:cpam_list_detail", kwargs={"cpts_slug": cpts.slug, "pk": cpam_list.pk}
    )
    progress = coordinator_client.get(response["Location"]).content.decode()
    assert "Terminée" in progress and f'href="{list_url}"' in progress
    assert "Liste importée : 2 personnes informées, 0 doublon et 1 ligne refusée" in progress
    assert list(_pending_dir.iterdir()) == []
    assert "cpam_list_pending" not in coordinator_client.session
    assert (cpam_list.imported_count, cpam_list.refused_count, cpam_list.line_count) == (2, 1, 3)
    requests = Request.objects.filter(cpam_list=cpam_list).order_by("pk")
    assert [r.channel for r in requests] == [Channel.CPAM_LIST] * 2
    assert {r.status for r in requests} == {Status.OPT_OUT_PENDING}
    martin, lefevre = requests
    assert timezone.localtime(martin.waiting_since).date() == datetime.date(2026, 11, 2)
    assert martin.usual_gp_rpps == "10001234567" and lefevre.usual_gp_name == "Dr Durand, Liévin"
    assert (martin.consent_processing, martin.consent_text_version[:11]) == (False, "cpam-liste-")
    assert martin.is_priority and lefevre.coverage == "css"
    assert RequestTransition.objects.filter(to_status=Status.OPT_OUT_PENDING).count() == 2
    # Each person is told: an SMS for the mobile, a letter for the postal-only one.
    sms = OutboxMessage.objects.get(channel="sms", related_id=str(martin.pk))
    assert "/refus/" in sms.body and "Martin" not in sms.body
    letter = OutboxMessage.objects.get(channel="letter", related_id=str(lefevre.pk))
    assert "/refus/" in letter.body
    # Not in the queue during the period.
    queue = coordinator_client.get(reverse("intake_staff:queue", kwargs={"cpts_slug": cpts.slug}))
    assert martin.reference not in queue.content.decode()
    # …but found by a search by name in their state (the imported member carries the CPTS)
    search = coordinator_client.post(
        reverse("intake_staff:queue", kwargs={"cpts_slug": cpts.slug}),
        {"q": "martin jea", "status": Status.OPT_OUT_PENDING},
    )
    found = coordinator_client.get(search["Location"]).content.decode()
    assert martin.reference in found and lefevre.reference not in found
    detail = coordinator_client.get(list_url).content.decode()
    assert '<dd data-count="pending">\n      2' in detail


def test_a_second_import_while_one_runs_is_refused_and_a_failure_is_told(
    coordinator_client, cpts, _pending_dir, settings
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    first = _token(_upload(coordinator_client, cpts, _csv(GOOD)))
    response = coordinator_client.post(upload_url(cpts), {"confirm": first})
    operation = Operation.objects.get()
    progress_url = reverse(
        "notifications:operation", kwargs={"cpts_slug": cpts.slug, "pk": operation.pk}
    )
    assert response["Location"] == progress_url
    assert "En attente" in coordinator_client.get(progress_url).content.decode()
    # a second list confirmed while the first waits for a worker: refused, its file kept
    second = _token(_upload(coordinator_client, cpts, _csv(POSTAL)))
    response = coordinator_client.post(upload_url(cpts), {"confirm": second}, follow=True)
    assert response.redirect_chain[0][0] == progress_url
    assert "Une liste CPAM est déjà en cours d&#x27;import" in response.content.decode()
    assert Operation.objects.count() == 1 and len(list(_pending_dir.iterdir())) == 2
    # the first one's file disappeared before the worker took it: a French failure
    (_pending_dir / first).unlink()
    from accesmt.notifications.operations import operation_run

    assert operation_run.call(operation.pk) == "failed"
    page = coordinator_client.get(progress_url).content.decode()
    assert "Échouée" in page and "Le fichier envoyé n&#x27;est plus disponible" in page
    assert not CpamList.objects.exists()
    # another CPTS's coordinator does not see it
    from tests.accounts.factories import MembershipFactory
    from tests.territory.factories import CPTSFactory

    coordinator_client.force_login(MembershipFactory(cpts=CPTSFactory(), role="coordinator").user)
    assert coordinator_client.get(progress_url).status_code == 404


def test_cancel_or_a_stale_token_writes_nothing(coordinator_client, cpts, _pending_dir):
    token = _token(_upload(coordinator_client, cpts, _csv(GOOD)))
    response = coordinator_client.post(upload_url(cpts), {"confirm": "forged"})
    assert response.status_code == 302 and not Request.objects.exists()
    coordinator_client.post(upload_url(cpts), {"cancel": token})
    assert list(_pending_dir.iterdir()) == []
    coordinator_client.post(upload_url(cpts), {"confirm": token})
    assert not Request.objects.exists() and not CpamList.objects.exists()


def test_a_file_without_a_required_column_is_refused_whole(coordinator_client, cpts):
    data = "Nom;Prénom;Adresse;Code postal\r\nMartin;Jeanne;1 rue;62800\r\n".encode()
    response = _upload(coordinator_client, cpts, data)
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert "Colonnes obligatoires absentes : date de naissance" in page
    assert 'aria-describedby="id_file-hint id_file-error"' in page


def test_xlsx_and_utf8_comma_files_read_the_same(coordinator_client, cpts):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.split(";"))
    row = GOOD.split(";")
    row[2] = datetime.date(1948, 5, 17)  # a date cell
    row[5] = 62800  # a number cell
    sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    response = _upload(coordinator_client, cpts, buffer.getvalue(), name="liste.xlsx")
    assert '<strong data-count="accepted">1</strong>' in response.content.decode()
    comma = _csv(GOOD.replace(";", ","), encoding="utf-8").replace(b";", b",")
    response = _upload(coordinator_client, cpts, comma)
    assert '<strong data-count="accepted">1</strong>' in response.content.decode()


def _imported(client, cpts, *lines):
    token = _token(_upload(client, cpts, _csv(*lines)))
    client.post(upload_url(cpts), {"confirm": token})
    return CpamList.objects.latest("pk")


def test_opt_out_link_closes_the_request(client, coordinator_client, cpts):
    cpam_list = _imported(coordinator_client, cpts, GOOD)
    request = cpam_list.requests.get()
    sms = OutboxMessage.objects.get(channel="sms", related_id=str(request.pk))
    client.logout()
    link = link_in(sms, "/suivi/")
    page = client.get(link)
    assert page.status_code == 200 and "Je ne souhaite pas être aidé(e)" in page.content.decode()
    response = client.post(link)
    assert "Votre refus est enregistré" in response.content.decode()
    request.refresh_from_db()
    assert (request.status, request.closed_reason) == (Status.CLOSED, ClosedReason.OPTED_OUT)
    assert request.transitions.latest("at").by_patient
    assert client.get(link[:-8] + "x/refus/").status_code == 404  # a forged token


def test_coordinator_records_a_refusal_by_phone(coordinator_client, cpts):
    cpam_list = _imported(coordinator_client, cpts, GOOD)
    request = cpam_list.requests.get()
    url = reverse(
        "intake_staff:request_detail",
        kwargs={"cpts_slug": cpts.slug, "reference": request.reference},
    )
    page = coordinator_client.get(url).content.decode()
    assert "Enregistrer le refus de la personne" in page
    asked = coordinator_client.post(url + "etat/", {"action": "opt_out", "note": "appel du 3/12"})
    assert "Confirmer" in asked.content.decode()  # a confirmation step first
    request.refresh_from_db()
    assert request.status == Status.OPT_OUT_PENDING
    coordinator_client.post(
        url + "etat/", {"action": "opt_out", "note": "appel du 3/12", "confirm": "1"}
    )
    request.refresh_from_db()
    assert request.closed_reason == ClosedReason.OPTED_OUT
    listing = coordinator_client.get(
        reverse("intake_staff:cpam_lists", kwargs={"cpts_slug": cpts.slug})
    ).content.decode()
    assert f'data-list="{cpam_list.pk}"' in listing
    # An ordinary request is never closed that way.
    other = make_request(cpts)
    coordinator_client.post(
        reverse(
            "intake_staff:request_status",
            kwargs={"cpts_slug": cpts.slug, "reference": other.reference},
        ),
        {"action": "opt_out", "confirm": "1"},
    )
    other.refresh_from_db()
    assert other.status != Status.CLOSED


def test_end_of_period_moves_the_requests_into_the_queue(coordinator_client, cpts):
    cpam_list = _imported(coordinator_client, cpts, GOOD, POSTAL)
    refused, kept = cpam_list.requests.order_by("pk")
    from accesmt.intake.cpam_lists import cpam_opt_out_record

    cpam_opt_out_record(request=refused, by_patient=True)
    assert (
        cpam_lists_release_due(now=cpam_list.opt_out_ends_at - datetime.timedelta(minutes=1)) == 0
    )
    assert cpam_lists_release_due(now=cpam_list.opt_out_ends_at) == 1
    assert cpam_lists_release_due(now=cpam_list.opt_out_ends_at) == 0  # idempotent
    kept.refresh_from_db()
    refused.refresh_from_db()
    assert kept.status == Status.WAITING and refused.closed_reason == ClosedReason.OPTED_OUT
    assert timezone.localtime(kept.waiting_since).date() == cpam_list.list_date
    line = kept.transitions.latest("at")
    assert (line.from_status, line.to_status) == (Status.OPT_OUT_PENDING, Status.WAITING)
    # In the queue, before a request registered yesterday (its seniority is the list's date).
    newer = make_request(cpts, days_waiting=1)
    queue = coordinator_client.get(reverse("intake_staff:queue", kwargs={"cpts_slug": cpts.slug}))
    page = queue.content.decode()
    assert kept.reference in page and newer.reference in page
    cpam_list.refresh_from_db()
    assert cpam_list.released_at is not None
    detail = coordinator_client.get(
        reverse(
            "intake_staff:cpam_list_detail", kwargs={"cpts_slug": cpts.slug, "pk": cpam_list.pk}
        )
    ).content.decode()
    assert '<dd data-count="refused">\n      1' in detail
    assert '<dd data-count="in_queue">\n      1' in detail


def test_template_lists_the_documented_columns(coordinator_client, cpts):
    response = coordinator_client.get(
        reverse("intake_staff:cpam_list_template", kwargs={"cpts_slug": cpts.slug})
    )
    text = response.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("nom;prénom;date de naissance;sexe;adresse")


def test_queue_shows_the_opt_out_period_on_demand_and_a_yes_enters_the_queue(
    coordinator_client, cpts
):
    cpam_list = _imported(coordinator_client, cpts, GOOD)
    request = cpam_list.requests.get()
    queue = reverse("intake_staff:queue", kwargs={"cpts_slug": cpts.slug})
    page = coordinator_client.get(queue, {"status": Status.OPT_OUT_PENDING}).content.decode()
    assert request.reference in page
    detail = reverse(
        "intake_staff:request_detail",
        kwargs={"cpts_slug": cpts.slug, "reference": request.reference},
    )
    page = html.unescape(coordinator_client.get(detail).content.decode())
    assert "Base légale" in page and "Passer « à vérifier »" not in page
    coordinator_client.post(detail + "etat/", {"action": "opt_in"})
    request.refresh_from_db()
    assert request.status == Status.WAITING
    assert request.reference in coordinator_client.get(queue).content.decode()
