"""The usual GP first (issue 12): a request naming the GP the person already sees proposes asking
them first on the orientation page, even without availability and beyond the usual distance;
their acceptance lets the person confirm, which closes the request "suivi habituel officialisé"
without using the GP's places; a refusal goes on with the normal flow."""

import html

import pytest
from django.urls import reverse

from accesmt.intake.models import ClosedReason, Status
from accesmt.intake.services import followup_token
from accesmt.notifications.models import OutboxMessage
from accesmt.orientation.models import Origin, Placement, Solicitation, SolicitationStatus
from accesmt.orientation.selectors import gp_month_counts
from accesmt.orientation.services import solicitation_token
from tests.directory.factories import PracticeSiteFactory, PractitionerFactory
from tests.reporting.helpers import page, table

pytestmark = pytest.mark.django_db
ASK_FIRST = "Demander d'abord au médecin que la personne consulte déjà : Dr Anne USUEL"


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def usual(o):
    """The GP the household already sees: no availability declared, practising in a commune of
    another CPTS (beyond the territory and the usual distance)."""
    gp = PractitionerFactory(first_name="Anne", last_name="USUEL", email="usuel@exemple.fr")
    PracticeSiteFactory(practitioner=gp, commune=o.world.there, latitude=None, longitude=None)
    o.request.usual_gp_rpps = gp.rpps
    o.request.save(update_fields=["usual_gp_rpps"])
    return gp


def orientation_url(o):
    return reverse(
        "orientation:request", kwargs={"cpts_slug": o.cpts.slug, "reference": o.request.reference}
    )


def ask_usual(client, o, gp):
    client.force_login(o.coordinator)
    return client.post(orientation_url(o), {"action": "ask_usual_gp", "practitioner": gp.pk})


def test_the_usual_gp_is_asked_first_even_without_availability(client, o, usual):
    client.force_login(o.coordinator)
    page_text = text(client.get(orientation_url(o)))
    assert ASK_FIRST in page_text
    assert "USUEL" not in page_text.split("Candidats")[1]  # not a candidate: no declaration
    ask_usual(client, o, usual)
    s = Solicitation.objects.get(request=o.request)
    assert s.practitioner == usual and s.origin == Origin.USUAL_GP and s.is_pending
    o.request.refresh_from_db()
    assert o.request.status == Status.PROPOSING
    mail = OutboxMessage.objects.get(recipient="usuel@exemple.fr")
    assert (
        "Cette personne vous consulte déjà ; accepteriez-vous de devenir son médecin traitant"
        in (mail.body)
    )
    assert "Secret-Dupont" not in mail.body + mail.subject  # no name of the person
    gp_page = text(
        client.get(reverse("orientation:answer", kwargs={"token": solicitation_token(s)}))
    )
    assert "Cette personne vous consulte déjà" in gp_page
    after = text(client.get(orientation_url(o)))
    assert ASK_FIRST not in after
    assert "médecin que la personne consulte déjà" in after  # the origin of the solicitation


def test_accepted_then_confirmed_closes_as_usual_gp_without_using_places(client, o, usual):
    ask_usual(client, o, usual)
    s = Solicitation.objects.get(request=o.request)
    client.logout()
    answer = reverse("orientation:answer", kwargs={"token": solicitation_token(s)})
    client.post(answer, {"choice": "accept"})
    o.request.refresh_from_db()
    assert o.request.status == Status.AWAITING_CHOICE
    told = OutboxMessage.objects.filter(
        recipient="foyer@exemple.fr", topic="orientation.usual_gp_accepted"
    )
    assert told.exists()
    assert "accepte de devenir votre médecin traitant" in told.first().body
    # acceptances of the usual GP are not reserved places for new patients
    assert gp_month_counts()[0].get(usual.pk, 0) == 0
    token = followup_token(o.request)
    choice_url = reverse("orientation:patient_choice", kwargs={"token": token})
    choice = text(client.get(choice_url))
    assert "Vous le consultez déjà" in choice
    client.post(choice_url, {"practitioner": usual.pk})
    o.request.refresh_from_db()
    assert o.request.status == Status.CLOSED
    assert o.request.closed_reason == ClosedReason.USUAL_GP
    assert Placement.objects.get(request=o.request).practitioner == usual
    taken, asked = gp_month_counts()
    assert taken.get(usual.pk, 0) == 0 and asked.get(usual.pk, 0) == 0
    # the coordination's indicator counts it, and the solved share counts it too
    section = {"section": "resultats", "periode": "month"}
    response = page(client, o.cpts, "coordinator", **section)
    assert table(response, "outcomes.usual_gp")["foyers"][0] == 1
    assert table(response, "outcomes.usual_gp")["personnes"][0] == 2
    assert table(response, "outcomes.solved")["médecin traitant trouvé"][0] == 1


def test_the_coordinator_may_confirm_on_the_persons_behalf(client, o, usual):
    ask_usual(client, o, usual)
    s = Solicitation.objects.get(request=o.request)
    client.post(
        orientation_url(o), {"action": "phone_answer", "solicitation": s.pk, "answer": "accept"}
    )
    client.post(orientation_url(o), {"action": "placement", "practitioner": usual.pk})
    o.request.refresh_from_db()
    assert o.request.closed_reason == ClosedReason.USUAL_GP


def test_declined_goes_on_with_the_normal_flow(client, o, usual):
    ask_usual(client, o, usual)
    s = Solicitation.objects.get(request=o.request)
    client.logout()
    answer = reverse("orientation:answer", kwargs={"token": solicitation_token(s)})
    client.post(answer, {"choice": "decline", "decline_reason": "full"})
    s.refresh_from_db()
    assert s.status == SolicitationStatus.DECLINED
    nearest = Solicitation.objects.exclude(pk=s.pk).get(request=o.request)
    assert nearest.practitioner == o.gps[0] and nearest.origin == Origin.NEXT_CANDIDATE
    o.request.refresh_from_db()
    assert o.request.status == Status.PROPOSING
    client.post(
        reverse("orientation:answer", kwargs={"token": solicitation_token(nearest)}),
        {"choice": "accept"},
    )
    choice_url = reverse("orientation:patient_choice", kwargs={"token": followup_token(o.request)})
    client.post(choice_url, {"practitioner": o.gps[0].pk})
    o.request.refresh_from_db()
    assert o.request.closed_reason == ClosedReason.MT_FOUND


def test_a_typed_name_lets_the_coordinator_find_the_gp(client, o):
    o.request.usual_gp_name = "Dr Martin, Liévin"
    o.request.save(update_fields=["usual_gp_name"])
    client.force_login(o.coordinator)
    page_text = text(client.get(orientation_url(o)))
    assert "Dr Martin, Liévin" in page_text and "Demander d'abord à ce médecin" in page_text
    ask_usual(client, o, o.gps[3])
    assert Solicitation.objects.get(request=o.request).origin == Origin.USUAL_GP
