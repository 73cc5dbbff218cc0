"""The médecin traitant declared (issue 12, point 5): what the person and the GP receive when the
GP is found, the question weeks later (a job safe to run twice), the person's answer page, the
GP's and the coordinator's confirmation, and the indicator "déclaré" vs "trouvé" — over HTTP."""

import datetime
import html

import pytest
from django.urls import reverse
from django.utils import timezone

from accesmt.accounts.models import Role
from accesmt.notifications.models import OutboxMessage
from accesmt.orientation.models import (
    AnswerChannel,
    OrientationSettings,
    Placement,
    RecordedBy,
)
from accesmt.orientation.services import (
    placement_record,
    solicitation_answer,
    solicitation_token,
)
from accesmt.orientation.services.declarations import declarations_check
from tests.messages import link_in

pytestmark = pytest.mark.django_db


def chosen(o, gp_index=0, *, when=None):
    """GP `gp_index` asked, accepted; the person chose them (`when`, default now)."""
    [s] = o.ask(o.gps[gp_index])
    solicitation_answer(solicitation=s, accept=True, channel=AnswerChannel.LINK)
    placement = placement_record(
        request=o.request, practitioner=o.gps[gp_index], recorded_by=RecordedBy.PATIENT, now=when
    )
    return s, placement


def sent(topic):
    return list(OutboxMessage.objects.filter(topic=topic).order_by("channel"))


def declaration_url(client, o):
    [message] = sent("orientation.declaration_info")[:1]
    return link_in(message, "/suivi/")


def test_person_and_gp_are_told_how_to_declare_when_the_gp_is_found(o):
    s, placement = chosen(o)
    to_person = sent("orientation.declaration_info")
    assert {m.channel for m in to_person} == {"email", "sms"}
    for message in to_person:
        assert "cerfa n°12485" in message.body and "carte Vitale" in message.body
        assert "Secret-Dupont" not in message.body and "Jeanne" not in message.body
        assert link_in(message, "/suivi/", base="https://accesmt.example").endswith("/declaration/")
    email = next(m for m in to_person if m.channel == "email")
    assert "compte ameli" in email.body and "Déclaration de choix du médecin traitant" in email.body
    [to_gp] = sent("orientation.gp_chosen")
    assert to_gp.recipient == o.gps[0].email and o.request.reference in to_gp.body
    assert "cerfa n°12485" in to_gp.body and "Secret-Dupont" not in to_gp.body
    assert link_in(to_gp, "/orientation/") == reverse(
        "orientation:answer", kwargs={"token": link_in(to_gp, "/orientation/").split("/")[2]}
    )


def test_gp_confirms_the_declaration_from_their_page(client, o):
    s, placement = chosen(o)
    url = reverse("orientation:answer", kwargs={"token": solicitation_token(s)})
    page = client.get(url).content.decode()
    assert "La déclaration est faite" in page and "cerfa n°12485" in page
    assert client.post(url, {"choice": "declared"}).status_code == 302
    placement.refresh_from_db()
    assert placement.declared_by == "gp" and placement.declared_at is not None
    after = client.get(url).content.decode()
    assert "data-declared" in after and "La déclaration est faite" not in after


def test_another_gp_cannot_confirm_the_declaration(client, o):
    created = o.ask(*o.gps[:2])
    for s in created:
        solicitation_answer(solicitation=s, accept=True, channel=AnswerChannel.LINK)
    placement_record(request=o.request, practitioner=o.gps[0], recorded_by=RecordedBy.PATIENT)
    other = reverse("orientation:answer", kwargs={"token": solicitation_token(created[1])})
    assert "La déclaration est faite" not in client.get(other).content.decode()
    assert client.post(other, {"choice": "declared"}).status_code == 400
    assert Placement.objects.get().declared_at is None


def test_the_job_asks_once_after_the_delay_and_twice_run_sends_nothing_more(o):
    now = timezone.now()
    _, placement = chosen(o, when=now - datetime.timedelta(days=41))
    assert declarations_check(now=now) == 0  # 41 days < 6 weeks
    assert sent("orientation.declaration_check") == []
    later = now + datetime.timedelta(days=2)
    assert declarations_check(now=later) == 1
    questions = sent("orientation.declaration_check")
    assert {m.channel for m in questions} == {"email", "sms"}
    assert all(link_in(m, "/suivi/").endswith("/declaration/") for m in questions)
    assert "Secret-Dupont" not in questions[0].body
    assert declarations_check(now=later) == 0
    assert declarations_check(now=later + datetime.timedelta(days=30)) == 0
    assert len(sent("orientation.declaration_check")) == 2
    placement.refresh_from_db()
    assert placement.declaration_asked_at == later


def test_the_job_follows_the_cpts_setting_and_skips_declared_placements(o):
    OrientationSettings.objects.create(cpts=o.cpts, declaration_check_after_days=14)
    now = timezone.now()
    _, placement = chosen(o, when=now - datetime.timedelta(days=15))
    placement.declared_at, placement.declared_by = now, "gp"
    placement.save()
    assert declarations_check(now=now) == 0
    Placement.objects.filter(pk=placement.pk).update(declared_at=None, declared_by="")
    assert declarations_check(now=now) == 1


@pytest.mark.parametrize(
    ("answer", "declared_by", "coordination_told"),
    [("done", "patient", False), ("not_yet", "", False), ("gp_refused", "", True)],
)
def test_person_answers_on_their_page(client, o, answer, declared_by, coordination_told):
    chosen(o)
    url = declaration_url(client, o)
    page = html.unescape(client.get(url).content.decode())
    for label in ("Oui, c'est fait", "Pas encore", "Le médecin a refusé"):
        assert label in page
    response = client.post(url, {"answer": answer})
    assert response.status_code == 302
    placement = Placement.objects.get()
    assert placement.declaration_answer == answer and placement.declared_by == declared_by
    told = sent("orientation.declaration_refused")
    assert bool(told) is coordination_told
    if told:
        assert told[0].recipient == o.cpts.email and "Secret-Dupont" not in told[0].body
        client.post(url, {"answer": answer})  # said twice: told once
        assert len(sent("orientation.declaration_refused")) == 1


def test_answer_page_refuses_nonsense_and_bad_links(client, o):
    chosen(o)
    url = declaration_url(client, o)
    assert client.post(url, {"answer": "peut-être"}).status_code == 400
    assert Placement.objects.get().declaration_answer == ""
    assert client.get(url[:-15] + "abc/declaration/").status_code == 404


def test_nothing_to_declare_while_the_request_is_open(client, o):
    from accesmt.intake.services import followup_token

    url = reverse("orientation:declaration_answer", kwargs={"token": followup_token(o.request)})
    page = client.get(url).content.decode()
    assert "rien à déclarer" in page
    assert client.post(url, {"answer": "done"}).status_code == 200
    assert not Placement.objects.exists()


def test_coordinator_confirms_the_declaration_and_sees_its_state(client, o):
    chosen(o)
    client.force_login(o.coordinator)
    url = reverse(
        "orientation:request", kwargs={"cpts_slug": o.cpts.slug, "reference": o.request.reference}
    )
    assert "pas encore confirmée" in client.get(url).content.decode()
    client.post(url, {"action": "declared"})
    placement = Placement.objects.get()
    assert placement.declared_by == "coordinator"
    assert "Déclaration faite, confirmée le" in client.get(url).content.decode()


def test_indicator_declared_versus_found(client, o):
    from tests.reporting.helpers import page, table

    chosen(o)
    Placement.objects.update(declared_at=timezone.now(), declared_by="gp")
    today = timezone.localdate()
    rows = table(
        page(
            client,
            o.cpts,
            Role.COORDINATOR,
            section="resultats",
            periode="month",
            debut=today.replace(day=1).isoformat(),
        ),
        "outcomes.declared",
    )
    assert rows["foyers ayant trouvé un médecin traitant"][0] == 1
    assert rows["dont médecin traitant déclaré"][:2] == [1, 100.0]
