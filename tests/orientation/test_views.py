"""The orientation pages: coordinator, GP link, GP list, the person's choice, the letter."""

import html
import io
import time

import pytest
from django.core import signing
from django.urls import reverse
from pypdf import PdfReader

from accesmt.accounts.models import AuditLog
from accesmt.intake.models import Status
from accesmt.intake.services import followup_path
from accesmt.notifications.models import OutboxMessage
from accesmt.orientation.models import AnswerChannel, Placement, SolicitationStatus
from accesmt.orientation.services import (
    TOKEN_SALT,
    solicitation_answer,
    solicitation_token,
)
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.intake.factories import HouseholdMemberFactory
from tests.worlds import waiting_request


def text(response) -> str:
    return html.unescape(response.content.decode())


def page_url(o, name="request"):
    return reverse(
        f"orientation:{name}", kwargs={"cpts_slug": o.cpts.slug, "reference": o.request.reference}
    )


def answer_url(s, token=None):
    return reverse("orientation:answer", kwargs={"token": token or solicitation_token(s)})


@pytest.fixture
def coordinator_client(client, o):
    client.force_login(o.coordinator)
    return client


# --- coordinator ------------------------------------------------------------------------------


def test_coordinator_page_shows_candidates_exclusions_and_audits(coordinator_client, o):
    o.gps[4].declarations.update(accepting="no", monthly_capacity=None)
    page = text(coordinator_client.get(page_url(o)))
    for gp in o.gps[:4]:
        assert gp.last_name in page
    assert "1,0 km" in page
    assert "Médecins du territoire exclus et pourquoi (1)" in page
    assert "n'accepte pas de nouveaux patients" in page
    assert AuditLog.objects.filter(
        actor=o.coordinator, action="read", object_id=str(o.request.pk)
    ).exists()


def test_coordinator_sees_why_a_gp_with_too_few_places_is_not_proposed(coordinator_client, o):
    o.gps[1].declarations.update(monthly_capacity=1)  # the household has two persons
    page = text(coordinator_client.get(page_url(o)))
    assert "Médecins du territoire exclus et pourquoi (1)" in page
    assert (
        f"{o.gps[1].last_name} (2,0 km) : foyer de 2 personnes pour 1 place restante ce mois-ci "
        "(un foyer n'est pas séparé entre médecins)" in " ".join(page.split())
    )
    assert "accepte de nouveaux patients : encore 2 personnes ce mois-ci" in page
    assert "Places ce mois (personnes)" in page


def test_coordinator_asks_the_top_candidates_then_notes_a_phone_answer(coordinator_client, o):
    response = coordinator_client.post(page_url(o), {"action": "ask_top"})
    assert response.status_code == 302
    assert o.request.solicitations.count() == 3
    s = o.request.solicitations.get(practitioner=o.gps[0])
    refused = coordinator_client.post(
        page_url(o),
        {"action": "phone_answer", "solicitation": s.pk, "answer": "decline", "decline_reason": ""},
        follow=True,
    )
    assert "Indiquez le motif du refus." in text(refused)
    s.refresh_from_db()
    assert s.status == SolicitationStatus.PENDING  # no reason: refused, nothing written
    coordinator_client.post(
        page_url(o),
        {"action": "phone_answer", "solicitation": s.pk, "answer": "accept"},
    )
    s.refresh_from_db()
    assert (s.status, s.answer_channel, s.answered_by) == (
        SolicitationStatus.ACCEPTED,
        AnswerChannel.PHONE,
        o.coordinator,
    )
    page = text(coordinator_client.get(page_url(o)))
    assert "Réponse du médecin enregistrée." in page
    assert "téléphone (saisi par la coordination)" in page


def test_coordinator_asks_chosen_gps_and_bad_input_is_refused(coordinator_client, o):
    coordinator_client.post(page_url(o), {"action": "ask", "practitioner": [o.gps[3].pk]})
    assert list(o.request.solicitations.values_list("practitioner", flat=True)) == [o.gps[3].pk]
    response = coordinator_client.post(
        page_url(o), {"action": "ask", "practitioner": ["abc"]}, follow=True
    )
    assert "Sélection invalide." in text(response)
    assert o.request.solicitations.count() == 1


def test_coordinator_records_the_gp_found(coordinator_client, o):
    coordinator_client.post(page_url(o), {"action": "placement", "practitioner": o.gps[2].pk})
    o.request.refresh_from_db()
    assert (o.request.status, o.request.closed_reason) == (Status.CLOSED, "mt_found")
    assert Placement.objects.get().recorded_by_user == o.coordinator


def test_other_cpts_coordinator_gets_404(client, o):
    stranger = MembershipFactory(cpts=o.world.other, role="coordinator").user
    client.force_login(stranger)
    url = reverse(
        "orientation:request",
        kwargs={"cpts_slug": o.world.other.slug, "reference": o.request.reference},
    )
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "ask_top"}).status_code == 404
    assert not o.request.solicitations.exists()


def test_letter_lists_the_gps_who_accepted(coordinator_client, o):
    assert coordinator_client.get(page_url(o, "letter")).status_code == 404
    for s in o.ask(*o.gps[:2]):
        solicitation_answer(solicitation=s, accept=True, channel=AnswerChannel.LINK)
    response = coordinator_client.get(page_url(o, "letter"))
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store"
    content = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert o.gps[0].last_name in content and o.gps[1].last_name in content
    assert o.request.reference in content
    assert AuditLog.objects.filter(action="export", object_id=str(o.request.pk)).exists()


# --- GP through the signed link -----------------------------------------------------------------


def test_gp_link_shows_the_minimum_and_accepts(client, o):
    [s, *_] = o.ask(*o.gps[:3])
    page = text(client.get(answer_url(s)))
    assert "moins de 6 ans" in page and "18 à 59 ans" in page
    assert o.world.here.name in page and "1,0 km" in page
    for secret in ("Secret-Dupont", "Jeanne", "foyer@exemple.fr", "12 rue des Lilas", "06 12"):
        assert secret not in page
    response = client.post(answer_url(s), {"choice": "accept"})
    assert response.status_code == 302
    s.refresh_from_db()
    assert (s.status, s.answer_channel) == (SolicitationStatus.ACCEPTED, AnswerChannel.LINK)


def test_gp_link_decline_needs_a_reason_next_to_the_field(client, o):
    [s, *_] = o.ask(*o.gps[:3])
    response = client.post(answer_url(s), {"choice": "decline"})
    assert response.status_code == 400
    assert "Indiquez le motif du refus." in text(response)
    client.post(answer_url(s), {"choice": "decline", "decline_reason": "too_far"})
    s.refresh_from_db()
    assert (s.status, s.decline_reason) == (SolicitationStatus.DECLINED, "too_far")


def test_replayed_tampered_and_expired_links(client, o, monkeypatch):
    real_time = time.time
    [s, *_] = o.ask(*o.gps[:3])
    client.post(answer_url(s), {"choice": "accept"})
    replay = client.post(answer_url(s), {"choice": "decline", "decline_reason": "full"})
    assert replay.status_code == 400
    assert "Réponse déjà enregistrée" in text(replay) or "accepte" in text(replay)
    s.refresh_from_db()
    assert s.status == SolicitationStatus.ACCEPTED
    tampered = client.get(answer_url(s, solicitation_token(s)[:-3] + "abc"))
    assert tampered.status_code == 404 and "pas valide" in text(tampered)
    with monkeypatch.context() as m:  # a token signed 31 days ago
        m.setattr(time, "time", lambda: real_time() - 31 * 24 * 3600)
        token = signing.dumps({"s": s.pk}, salt=TOKEN_SALT, compress=True)
    expired = client.get(answer_url(s, token))
    assert expired.status_code == 404 and "expiré" in text(expired)


def test_gp_declares_the_patient_is_now_theirs(client, o):
    created = o.ask(*o.gps[:3])
    for s in created:
        solicitation_answer(solicitation=s, accept=True, channel=AnswerChannel.LINK)
    page = text(client.get(answer_url(created[1])))
    assert "Ce patient est désormais le mien" in page
    client.post(answer_url(created[1]), {"choice": "mine"})
    placement = Placement.objects.get()
    assert (placement.practitioner, placement.recorded_by) == (o.gps[1], "gp")
    assert "médecin traitant" in text(client.get(answer_url(created[1])))


# --- GP logged in -------------------------------------------------------------------------------


def test_gp_sees_households_near_them_and_takes_one(client, o):
    gp_user = UserFactory(email=o.gps[0].email)
    MembershipFactory(cpts=o.cpts, user=gp_user, role="gp")
    client.force_login(gp_user)
    url = reverse("orientation:gp_households", kwargs={"cpts_slug": o.cpts.slug})
    page = text(client.get(url))
    assert f'data-household="{o.request.reference}"' in page
    assert "Secret-Dupont" not in page
    client.post(url, {"request": [o.request.pk]})
    o.request.refresh_from_db()
    assert o.request.status == Status.AWAITING_CHOICE
    s = o.request.solicitations.get()
    assert (s.practitioner, s.origin, s.status) == (o.gps[0], "gp_pull", "accepted")
    assert OutboxMessage.objects.filter(topic="orientation.offer", channel="email").exists()
    [told] = OutboxMessage.objects.filter(topic="orientation.gp_took")
    assert told.recipient == o.cpts.email and o.request.reference in told.body
    assert "Secret-Dupont" not in told.body
    # Taking it again (double click) changes nothing.
    client.post(url, {"request": [o.request.pk]})
    assert o.request.solicitations.count() == 1


def test_gp_is_offered_only_households_that_fit_whole_in_their_places_left(client, o):
    family = waiting_request(o.cpts, o.world.here, days=200, priority=True)  # 3 persons
    HouseholdMemberFactory(request=family)
    HouseholdMemberFactory(request=family)
    gp_user = UserFactory(email=o.gps[0].email)
    MembershipFactory(cpts=o.cpts, user=gp_user, role="gp")
    client.force_login(gp_user)
    url = reverse("orientation:gp_households", kwargs={"cpts_slug": o.cpts.slug})
    page = " ".join(text(client.get(url)).split())
    assert "Places restantes ce mois-ci : 2 personnes (" in page
    assert f'data-household="{o.request.reference}"' in page  # two persons: fits
    assert family.reference not in page  # three persons, two places: not offered
    # taken anyway (a stale page): refused with the reason, the household that fits is taken
    response = client.post(url, {"request": [family.pk, o.request.pk]}, follow=True)
    page = " ".join(text(response).split())
    assert (
        f"{family.reference} : Ce foyer ne correspond pas à votre déclaration de disponibilité : "
        "foyer de 3 personnes pour 2 places restantes ce mois-ci "
        "(un foyer n'est pas séparé entre médecins)." in page
    )
    family.refresh_from_db()
    o.request.refresh_from_db()
    assert (family.status, o.request.status) == (Status.WAITING, Status.AWAITING_CHOICE)
    assert "Places restantes ce mois-ci : 0 personnes (" in " ".join(text(client.get(url)).split())


def test_gp_does_not_see_households_outside_their_declaration(client, o):
    o.gps[0].declarations.update(accepts_children_under_6=False)  # the household has a child
    gp_user = UserFactory(email=o.gps[0].email)
    MembershipFactory(cpts=o.cpts, user=gp_user, role="gp")
    client.force_login(gp_user)
    url = reverse("orientation:gp_households", kwargs={"cpts_slug": o.cpts.slug})
    assert o.request.reference not in text(client.get(url))
    client.post(url, {"request": [o.request.pk]})
    o.request.refresh_from_db()
    assert o.request.status == Status.WAITING


# --- the person -----------------------------------------------------------------------------


def test_person_sees_the_gps_and_chooses(client, o):
    created = o.ask(*o.gps[:3])
    for s in created:
        solicitation_answer(solicitation=s, accept=True, channel=AnswerChannel.LINK)
    followup = followup_path(o.request)
    assert "Voir les médecins et indiquer mon choix" in text(client.get(followup))
    token = followup.rstrip("/").split("/")[-1]
    url = reverse("orientation:patient_choice", kwargs={"token": token})
    page = text(client.get(url))
    assert o.gps[2].last_name in page and "03 21 44 55 03" in page
    bad = client.post(url, {"practitioner": o.gps[4].pk})  # did not accept
    assert bad.status_code == 400
    client.post(url, {"practitioner": o.gps[2].pk})
    o.request.refresh_from_db()
    assert (o.request.status, o.request.closed_reason) == (Status.CLOSED, "mt_found")
    assert Placement.objects.get().recorded_by == "patient"


def test_gp_without_account_takes_a_household_behind_their_survey_link(client, o):
    from accesmt.directory.survey import invitation_token, survey_campaign_launch

    campaign = survey_campaign_launch(cpts=o.cpts, title="Enquête", reminder_after_days=7)
    invitation = campaign.invitations.get(practitioner=o.gps[1])
    url = reverse("orientation:gp_households_link", kwargs={"token": invitation_token(invitation)})
    page = text(client.get(url))
    assert f'data-household="{o.request.reference}"' in page
    assert "Secret-Dupont" not in page
    client.post(url, {"request": [o.request.pk]})
    s = o.request.solicitations.get()
    assert (s.practitioner, s.origin, s.answer_channel) == (o.gps[1], "gp_pull", "link")
    bad = client.get(reverse("orientation:gp_households_link", kwargs={"token": "x:y:z"}))
    assert bad.status_code == 404 and "pas valide" in text(bad)
    o.cpts.is_active = False  # a CPTS closed on the platform: its links lead nowhere
    o.cpts.save()
    assert client.get(url).status_code == 404


def test_person_says_none_could_see_them_and_goes_back_to_the_queue(client, o):
    created = o.ask(*o.gps[:3])
    for s in created:
        solicitation_answer(solicitation=s, accept=True, channel=AnswerChannel.LINK)
    since = o.request.waiting_since
    token = followup_path(o.request).rstrip("/").split("/")[-1]
    url = reverse("orientation:patient_choice", kwargs={"token": token})
    assert "Aucun n'a pu me recevoir" in text(client.get(url))
    client.post(url, {"none": "1", "confirm": "1"})
    o.request.refresh_from_db()
    assert o.request.status == Status.WAITING and o.request.waiting_since == since
    line = o.request.transitions.order_by("-pk").first()
    assert line.by_patient and line.to_status == Status.WAITING
    assert OutboxMessage.objects.filter(topic="orientation.none_suited").count() == 1
    # The GPs already asked are not proposed again for this request.
    from accesmt.orientation.selectors import request_candidates

    rows, _ = request_candidates(o.request)
    assert [r.practitioner for r in rows] == o.gps[3:]
    # A second click changes nothing.
    client.post(url, {"none": "1", "confirm": "1"})
    assert OutboxMessage.objects.filter(topic="orientation.none_suited").count() == 1


def test_the_queue_shows_how_many_gps_agreed_and_are_awaited(coordinator_client, o):
    created = o.ask(*o.gps[:3])
    solicitation_answer(solicitation=created[0], accept=True, channel=AnswerChannel.LINK)
    page = text(
        coordinator_client.get(
            reverse("intake_staff:queue", kwargs={"cpts_slug": o.cpts.slug}) + "?status=proposing"
        )
    )
    assert o.request.reference in page
    assert "1 médecin d'accord, 2 sans réponse" in page


def test_the_gp_list_costs_the_same_queries_whatever_the_number_of_households(
    client, o, django_assert_max_num_queries
):
    from tests.worlds import waiting_request

    gp_user = UserFactory(email=o.gps[0].email)
    MembershipFactory(cpts=o.cpts, user=gp_user, role="gp")
    client.force_login(gp_user)
    url = reverse("orientation:gp_households", kwargs={"cpts_slug": o.cpts.slug})
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(8):
        waiting_request(o.cpts, o.world.here, north=0.5)
    with CaptureQueriesContext(connection) as many:
        page = text(client.get(url))
    assert page.count("data-household=") == 9
    assert len(many) == len(few)
