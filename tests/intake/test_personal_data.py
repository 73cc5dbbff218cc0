"""A person's rights from the follow-up link, and on their behalf by the coordination (issue 14,
point 1): see and download everything (page, PDF, JSON), correct, erase."""

import datetime
import html
import io
import json

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accesmt.accounts.models import AuditLog
from accesmt.intake.calls import contact_note_record
from accesmt.intake.lifecycle import request_transition
from accesmt.intake.models import (
    ContactNote,
    Erasure,
    HouseholdMember,
    IntakeSettings,
    Request,
    RequestTransition,
    RightsOutcome,
    Status,
)
from accesmt.intake.rights import rights_outcome_record
from accesmt.intake.services import followup_path
from accesmt.notifications.delivery import deliver_due
from accesmt.notifications.models import OutboxMessage
from accesmt.notifications.services import outbox_enqueue
from accesmt.orientation.models import Solicitation
from tests.accounts.factories import MembershipFactory
from tests.directory.factories import PractitionerFactory
from tests.messages import body_of
from tests.reporting.helpers import asked

from .factories import HouseholdMemberFactory, RequestFactory

pytestmark = pytest.mark.django_db

JSON_KEYS = {"format", "generated_at", "controller", "household", "members", "status_history"}
JSON_KEYS |= {"gps_asked", "messages"}


def nir(sex: str, birth: datetime.date, place: str = "62510", order: str = "123") -> str:
    body = f"{sex}{birth.year % 100:02d}{birth.month:02d}{place}{order}"
    return f"{body}{97 - int(body) % 97:02d}"


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def household(territory):
    """A household of two in Liévin, with notes everywhere, a GP asked, a message sent; and
    another household of the same CPTS that must never show."""
    cpts = territory["lievin"]
    request = RequestFactory(
        cpts=cpts,
        commune=territory["communes"]["Liévin"],
        status=Status.NEW,
        phone="+33612345678",
        email="bernadette.fauconnier@exemple.fr",
        address="7 rue des Glycines",
        comment="Appeler Bernadette après 18 h",
        other_professionals="Infirmière Mme Lefort",
    )
    born = datetime.date(1952, 3, 10)
    HouseholdMemberFactory(
        request=request,
        first_name="Bernadette",
        last_name="Fauconnier",
        birth_date=born,
        sex="F",
        nir=nir("2", born),
        has_ald=True,
        conditions="Diabète de Bernadette",
    )
    HouseholdMemberFactory(
        request=request,
        position=1,
        first_name="Théodule",
        last_name="Fauconnier",
        birth_date=datetime.date(1950, 7, 1),
        is_contact_person=False,
    )
    coordinator = MembershipFactory(cpts=cpts, role="coordinator").user
    request_transition(request=request, to=Status.WAITING, by=coordinator, note="Vu Bernadette")
    contact_note_record(request=request, kind="note", text="Bernadette préfère le matin")
    rights_outcome_record(
        request=request, kind="contacted", on=timezone.localdate(), note="Bernadette jointe"
    )
    gp = PractitionerFactory(first_name="Hippolyte", last_name="SAVANT")
    solicitation = asked(request, request.created_at, practitioner=gp)
    Solicitation.objects.filter(pk=solicitation.pk).update(note="Pour Bernadette Fauconnier")
    with transaction.atomic():
        outbox_enqueue(
            channel="email",
            to=request.email,
            subject="Votre demande",
            body="Bonjour Bernadette",
            topic="intake.acknowledgment",
            cpts=cpts,
            related=request,
        )
    other = RequestFactory(cpts=cpts, commune=territory["communes"]["Liévin"], phone="")
    HouseholdMemberFactory(request=other, first_name="Zéphyrin", last_name="Autrefoyer")
    request.refresh_from_db()
    return {"request": request, "other": other, "coordinator": coordinator, "cpts": cpts}


def _url(name, request):
    return reverse(f"intake:{name}", kwargs={"token": followup_path(request).split("/")[-2]})


PERSONAL = ["Bernadette", "Fauconnier", "Théodule", "bernadette.fauconnier", "12345678"]


def test_the_page_shows_everything_held_and_nothing_of_another_household(client, household):
    request = household["request"]
    followup = text(client.get(followup_path(request)))
    assert "Voir toutes mes données" in followup and "Effacer mes données" in followup
    response = client.get(_url("my_data", request))
    page = text(response)
    assert "no-store" in response["Cache-Control"]
    for shown in (
        "Bernadette",
        "Théodule",
        request.members.first().nir,
        "06 12 34 56 78",
        "7 rue des Glycines",
        "Diabète de Bernadette",
        "Appeler Bernadette après 18 h",
        "Affection de longue durée (ALD)",
        "en attente d'un médecin",  # status history
        "Hippolyte",  # the GP asked
        "Accusé de réception de la demande",  # the message sent
        "Rectification",
        "CNIL",
    ):
        assert shown in page, shown
    assert "Zéphyrin" not in page and "Autrefoyer" not in page
    assert household["coordinator"].last_name not in page  # no staff names
    line = AuditLog.objects.get(action="read", object_id=str(request.pk))
    assert line.actor is None


def test_json_download_has_the_documented_keys(client, household):
    request = household["request"]
    response = client.get(_url("my_data_json", request))
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    assert "attachment" in response["Content-Disposition"]
    raw = response.content.decode("utf-8")
    assert "Théodule" in raw  # UTF-8, not \u escapes
    data = json.loads(raw)
    assert set(data) == JSON_KEYS
    assert data["format"] == "accesmt.donnees-personnelles/1"
    assert data["household"]["reference"] == request.reference
    assert data["household"]["email"] == "bernadette.fauconnier@exemple.fr"
    assert data["household"]["commune"] == "Liévin"
    assert [m["first_name"] for m in data["members"]] == ["Bernadette", "Théodule"]
    assert set(data["members"][0]) == {
        "first_name",
        "last_name",
        "birth_date",
        "sex",
        "nir",
        "has_ald",
        "has_disability",
        "conditions",
        "home_visits",
        "is_contact_person",
    }
    assert data["members"][0]["birth_date"] == "1952-03-10"
    assert data["members"][0]["has_ald"] is True
    assert [h["to"] for h in data["status_history"]][-1] == "waiting"
    assert data["gps_asked"][0]["gp"].startswith("Dr Hippolyte") or "SAVANT" in str(
        data["gps_asked"][0]["gp"]
    )
    assert data["messages"][0]["channel"] == "email"
    assert "Autrefoyer" not in raw and "Zéphyrin" not in raw
    assert AuditLog.objects.filter(action="export", object_id=str(request.pk)).count() == 1


def test_pdf_download_holds_the_same_data(client, household):
    request = household["request"]
    response = client.get(_url("my_data_pdf", request))
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    pdf_text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    for shown in ("Bernadette", "Théodule", request.reference, "7 rue des Glycines", "CNIL"):
        assert shown in pdf_text, shown
    assert "Autrefoyer" not in pdf_text


def _correction_data(request, **changes) -> dict:
    """The correction form as the page sends it, with `changes` (names of the POST)."""
    members = list(request.members.order_by("position"))
    data = {
        "membres-TOTAL_FORMS": str(len(members)),
        "membres-INITIAL_FORMS": str(len(members)),
        "coverage": request.coverage,
        "reason": request.reason,
        "comment": request.comment,
        "other_professionals": request.other_professionals,
    }
    for index, m in enumerate(members):
        prefix = f"membres-{index}-"
        data |= {
            prefix + "first_name": m.first_name,
            prefix + "last_name": m.last_name,
            prefix + "birth_date": m.birth_date.strftime("%d/%m/%Y"),
            prefix + "sex": m.sex,
            prefix + "nir": m.nir,
            prefix + "home_visits": m.home_visits,
            prefix + "conditions": m.conditions,
        }
        if m.has_ald:
            data[prefix + "has_ald"] = "on"
    return data | changes


def test_the_person_corrects_a_member_and_the_priority_follows(client, household):
    request = household["request"]
    url = _url("correct", request)
    page = text(client.get(url))
    assert "Théodule" in page and "Couverture sociale" in page
    before = set(request.priority_reasons.values_list("rule_code", flat=True))
    assert "young_child" not in before
    data = _correction_data(
        request,
        **{"membres-1-first_name": "Théo", "membres-1-birth_date": "01/02/2023", "email": "x@y.fr"},
    )
    response = client.post(url, data)
    assert response.status_code == 302
    member = request.members.get(position=1)
    assert (member.first_name, member.birth_date) == ("Théo", datetime.date(2023, 2, 1))
    rules = set(request.priority_reasons.values_list("rule_code", flat=True))
    assert any("child" in code for code in rules - before)
    request.refresh_from_db()
    assert request.email == "bernadette.fauconnier@exemple.fr"  # contacts are not in this form
    line = AuditLog.objects.get(action="update", object_id=str(request.pk))
    assert line.actor is None


def test_the_person_adds_a_newborn_and_removes_a_person_who_left(client, household):
    request = household["request"]
    url = _url("correct", request)
    page = text(client.get(url))
    assert "Ajouter une personne (facultatif)" in page
    assert "Retirer cette personne de la demande" in page
    data = _correction_data(
        request,
        **{
            "membres-TOTAL_FORMS": "3",
            "membres-1-DELETE": "on",  # Théodule left the household
            "membres-2-first_name": "Lina",
            "membres-2-last_name": "Fauconnier",
            "membres-2-birth_date": (timezone.localdate() - datetime.timedelta(days=90)).strftime(
                "%d/%m/%Y"
            ),
            "membres-2-home_visits": "never",
        },
    )
    response = client.post(url, data)
    assert response.status_code == 302, text(response)
    names = list(request.members.order_by("position").values_list("first_name", flat=True))
    assert names == ["Bernadette", "Lina"]
    rules = set(request.priority_reasons.values_list("rule_code", flat=True))
    assert any("child" in code for code in rules)  # a baby: the priority follows
    assert AuditLog.objects.filter(action="update", object_id=str(request.pk)).count() == 1


def test_the_person_cannot_remove_everyone(client, household):
    request = household["request"]
    data = _correction_data(request, **{"membres-0-DELETE": "on", "membres-1-DELETE": "on"})
    response = client.post(_url("correct", request), data)
    assert response.status_code == 400
    assert "Indiquez au moins une personne du foyer." in text(response)
    assert request.members.count() == 2


def test_bad_corrections_are_refused_next_to_the_field_and_nothing_is_written(client, household):
    request = household["request"]
    data = _correction_data(
        request,
        **{
            "membres-0-birth_date": "31/02/1952",
            "membres-1-nir": "1 50 07 62 510 123 00",
            "membres-1-first_name": "Autre",
            "reason": "",
        },
    )
    response = client.post(_url("correct", request), data)
    assert response.status_code == 400
    page = text(response)
    assert "Date de naissance non reconnue" in page
    assert "n'est pas valide" in page
    assert "Choisissez la raison de votre demande." in page
    assert 'aria-invalid="true"' in page or "error-message" in page
    assert request.members.get(position=1).first_name == "Théodule"
    assert not AuditLog.objects.filter(action="update").exists()


def test_a_closed_request_cannot_be_corrected(client, territory):
    request = RequestFactory(cpts=territory["lievin"], closed=True)
    HouseholdMemberFactory(request=request, first_name="Ursule")
    url = _url("correct", request)
    assert "est clôturée : elle ne peut plus être corrigée" in text(client.get(url))
    client.post(url, {"membres-TOTAL_FORMS": "1", "membres-INITIAL_FORMS": "1"})
    assert request.members.get().first_name == "Ursule"


def _nothing_personal_left(household):
    request = household["request"]
    nir_value = nir("2", datetime.date(1952, 3, 10))
    for model, fields in (
        (Request, ["address", "phone", "email", "comment", "other_professionals"]),
        (HouseholdMember, ["first_name", "last_name", "nir", "conditions", "normalised_name"]),
        (RequestTransition, ["note"]),
        (ContactNote, ["text"]),
        (RightsOutcome, ["note"]),
        (Solicitation, ["note"]),
        (OutboxMessage, ["recipient", "subject", "body"]),
    ):
        for secret in [*PERSONAL, nir_value, "Glycines", "Diabète"]:
            for field in fields:
                found = model.objects.filter(**{f"{field}__icontains": secret})
                if model is OutboxMessage:  # the confirmation keeps its address until sent
                    found = found.exclude(topic="intake.erasure_confirmed", status="pending")
                assert not found.exists(), (model.__name__, field, secret)
    # the anonymous row stays for the counts
    request.refresh_from_db()
    assert request.status == Status.CLOSED and request.closed_reason == "withdrawn"
    assert request.cpts == household["cpts"] and request.anonymised_at is not None
    # Alone among the anonymised households, its commune would single it out (k-anonymity).
    assert request.commune is None and request.postcode == ""
    assert request.members.count() == 2
    first = request.members.get(position=0)
    assert (first.birth_date, first.birth_year) == (None, None)  # not even the year, alone
    assert request.solicitations.count() == 1
    # the other household is untouched
    assert HouseholdMember.objects.filter(last_name="Autrefoyer").exists()


def test_the_person_erases_everything_and_is_told(client, household, smtp_server):
    request = household["request"]
    url = _url("erase", request)
    assert "Cochez la case" in text(client.post(url, {}))
    assert Request.objects.get(pk=request.pk).anonymised_at is None
    response = client.post(url, {"effacement-confirm": "on"})
    assert response.status_code == 200
    assert "Vos données ont été effacées" in text(response)
    confirmation = OutboxMessage.objects.get(topic="intake.erasure_confirmed", channel="email")
    assert confirmation.recipient == "bernadette.fauconnier@exemple.fr"  # until delivered
    assert deliver_due().sent >= 1
    [received] = [m for m in smtp_server.messages if "effacée" in m["Subject"]]
    assert received["To"] == "bernadette.fauconnier@exemple.fr"
    assert f"votre demande {request.reference} a été effacée" in body_of(received)
    assert "Bernadette" not in body_of(received) + received["Subject"]
    _nothing_personal_left(household)
    confirmation.refresh_from_db()
    assert (confirmation.recipient, confirmation.body) == ("", "")
    assert confirmation.redacted_at is not None
    erasure = Erasure.objects.get(request=request)
    assert erasure.by_patient and erasure.by is None
    assert AuditLog.objects.filter(action="erasure", object_id=str(request.pk)).count() == 1
    for name in ("followup", "my_data", "my_data_json", "erase"):
        gone = client.get(_url(name, request)) if name != "followup" else None
        gone = gone or client.get(followup_path(request))
        assert gone.status_code == 404
        assert "Cette demande a été effacée" in text(gone)


def test_the_coordinator_erases_on_behalf_with_a_reason(client, household):
    request, cpts = household["request"], household["cpts"]
    kwargs = {"cpts_slug": cpts.slug, "reference": request.reference}
    client.force_login(household["coordinator"])
    detail = text(client.get(reverse("intake_staff:request_detail", kwargs=kwargs)))
    assert "Droits de la personne" in detail
    data_page = text(client.get(reverse("intake_staff:request_data", kwargs=kwargs)))
    assert "Théodule" in data_page
    url = reverse("intake_staff:request_erase", kwargs=kwargs)
    refused = client.post(url, {"confirm": "on", "reason": "  "})
    assert refused.status_code == 400
    assert "Indiquez comment la personne a demandé l'effacement." in text(refused)
    assert Request.objects.get(pk=request.pk).anonymised_at is None
    reason = "demande reçue par téléphone le 3 décembre"
    assert client.post(url, {"confirm": "on", "reason": reason}).status_code == 302
    _nothing_personal_left(household)
    erasure = Erasure.objects.get(request=request)
    assert (erasure.by, erasure.reason, erasure.by_patient) == (
        household["coordinator"],
        reason,
        False,
    )
    line = AuditLog.objects.get(action="erasure", object_id=str(request.pk))
    assert line.actor == household["coordinator"]
    assert reason in text(client.get(reverse("intake_staff:request_detail", kwargs=kwargs)))


def test_another_cpts_coordinator_can_neither_see_nor_erase(client, household, territory):
    request = household["request"]
    stranger = MembershipFactory(cpts=territory["lens"], role="coordinator").user
    client.force_login(stranger)
    for cpts_slug in ("lens", "lievin"):
        kwargs = {"cpts_slug": cpts_slug, "reference": request.reference}
        url = reverse("intake_staff:request_erase", kwargs=kwargs)
        assert client.post(url, {"confirm": "on", "reason": "essai"}).status_code == 404
        data = client.get(reverse("intake_staff:request_data_json", kwargs=kwargs))
        assert data.status_code == 404
    assert Request.objects.get(pk=request.pk).anonymised_at is None


def test_the_privacy_notice_shows_the_configured_periods(client, territory, settings):
    settings.CLOSED_REQUEST_RETENTION_DAYS = 730
    settings.NOTIFICATIONS_RETENTION_DAYS = 90
    settings.AUDIT_LOG_RETENTION_DAYS = 1095
    settings.DECLARATION_RETENTION_DAYS = 1095
    settings.SATISFACTION_COMMENT_RETENTION_DAYS = 365
    url = reverse("intake:privacy", kwargs={"cpts_slug": territory["lievin"].slug})
    page = text(client.get(url))
    assert 'data-period="closed_requests">2 ans</strong> après sa clôture' in page
    assert 'data-period="messages">3 mois</strong> après l\'envoi' in page
    assert 'data-period="follow_up_link">' in page
    assert 'data-period="audit_log">3 ans<' in page
    assert 'data-period="declarations">3 ans<' in page
    assert 'data-period="satisfaction_comments">1 an<' in page
    # The CPTS's own period, once chosen, is the one announced.
    IntakeSettings.objects.create(cpts=territory["lievin"], closed_retention_months=18)
    assert 'data-period="closed_requests">18 mois<' in text(client.get(url))
