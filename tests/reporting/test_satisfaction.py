"""The satisfaction survey: who the job invites (once), the public page behind the signed link
(answered once, anonymous answers, clear pages for bad links), and its indicators."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accesmt.accounts.models import Role
from accesmt.intake.models import ClosedReason, Status
from accesmt.notifications.jobs import registered
from accesmt.notifications.models import OutboxMessage
from accesmt.reporting import satisfaction
from accesmt.reporting.models import (
    ReportingSettings,
    SatisfactionAnswer,
    SatisfactionInvitation,
)
from accesmt.reporting.satisfaction import satisfaction_answer, satisfaction_invite
from tests.accounts.factories import MembershipFactory
from tests.intake.factories import RequestFactory
from tests.messages import link_in
from tests.territory.factories import CPTSFactory

pytestmark = pytest.mark.django_db
ZONE = timezone.get_current_timezone()
NOW = datetime.datetime(2026, 6, 10, 12, tzinfo=ZONE)


@pytest.fixture
def cpts():
    cpts = CPTSFactory()
    ReportingSettings.objects.create(cpts=cpts, aci_contract_start=datetime.date(2025, 4, 1))
    return cpts


def closed(cpts, *, days_ago=2, reason=ClosedReason.MT_FOUND, **fields):
    return RequestFactory(
        cpts=cpts,
        status=Status.CLOSED,
        closed_reason=reason,
        closed_at=NOW - datetime.timedelta(days=days_ago),
        **fields,
    )


def survey_link(request) -> str:
    invitation = SatisfactionInvitation.objects.get(request=request)
    message = OutboxMessage.objects.filter(
        topic="reporting.satisfaction", channel="email", related_id=str(invitation.pk)
    ).get()
    return link_in(message, "/suivi/")


# --- the job -----------------------------------------------------------------------------------


def test_the_job_is_registered():
    assert registered()["reporting.satisfaction_invite"].func is satisfaction_invite


def test_invites_the_recent_mt_found_and_withdrawn_closings_once(cpts):
    found = closed(cpts, days_ago=2)
    withdrawn = closed(cpts, days_ago=13, reason=ClosedReason.WITHDRAWN)
    too_old = closed(cpts, days_ago=15)
    too_fresh = closed(cpts, days_ago=0.5)
    unreachable = closed(cpts, reason=ClosedReason.UNREACHABLE)
    moved = closed(cpts, reason=ClosedReason.MOVED_AWAY)
    anonymised = closed(cpts, anonymised_at=NOW)
    RequestFactory(cpts=cpts, status=Status.WAITING)

    assert satisfaction_invite(now=NOW) == 2
    invited = SatisfactionInvitation.objects.order_by("pk")
    assert [i.request for i in invited] == [withdrawn, found]
    assert [i.outcome for i in invited] == ["withdrawn", "mt_found"]
    assert {i.month for i in invited} == {datetime.date(2026, 5, 1), datetime.date(2026, 6, 1)}
    messages = OutboxMessage.objects.filter(topic="reporting.satisfaction")
    assert sorted(m.channel for m in messages) == ["email", "email", "sms", "sms"]
    sms = messages.filter(channel="sms").first()
    assert "/suivi/" in sms.body and len(sms.body) <= 320
    for left_out in (too_old, too_fresh, unreachable, moved, anonymised):
        assert not SatisfactionInvitation.objects.filter(request=left_out).exists()

    # a second run invites nobody again; two days later, only the one closed half a day before
    # the first run: not the request closed again since its invitation
    assert satisfaction_invite(now=NOW + datetime.timedelta(hours=1)) == 0
    found.closed_at = NOW
    found.save()
    assert satisfaction_invite(now=NOW + datetime.timedelta(days=2)) == 1
    assert SatisfactionInvitation.objects.filter(request=found).count() == 1
    assert SatisfactionInvitation.objects.latest("pk").request == too_fresh
    assert OutboxMessage.objects.filter(topic="reporting.satisfaction").count() == 6


def test_a_household_without_email_nor_mobile_gets_no_letter_but_is_counted(cpts):
    landline = closed(cpts, email="", phone="+33321000000")
    assert satisfaction_invite(now=NOW) == 0
    invitation = SatisfactionInvitation.objects.get(request=landline)
    assert invitation.sent_at is None
    assert not OutboxMessage.objects.filter(topic="reporting.satisfaction").exists()
    with pytest.raises(satisfaction.LinkError):  # no link was sent, none is valid
        satisfaction.invitation_from_token(satisfaction.invitation_token(invitation))


def test_deleting_the_request_keeps_the_invitation_for_the_response_rate(cpts):
    request = closed(cpts)
    satisfaction_invite(now=NOW)
    request.delete()
    invitation = SatisfactionInvitation.objects.get()
    assert invitation.request is None and invitation.cpts == cpts


# --- the page ------------------------------------------------------------------------------------


def test_the_person_answers_once_and_the_answer_is_not_linked_to_the_request(client, cpts):
    request = closed(cpts, reason=ClosedReason.WITHDRAWN)
    satisfaction_invite(now=NOW)
    link = survey_link(request)

    page = client.get(link)
    body = page.content.decode()
    assert page.status_code == 200
    assert body.count("<fieldset") == 3 and body.count("<legend>") == 3
    assert 'type="radio"' in body and "<script" not in body and "style=" not in body

    missing = client.post(link, {"ease": "easy", "comment": "x" * 1001})
    body = missing.content.decode()
    assert missing.status_code == 400
    assert 'id="id_delay-error"' in body and 'id="id_recommend-error"' in body
    assert "Choisissez une réponse." in body
    assert "1 000 caractères au plus" in body
    assert not SatisfactionAnswer.objects.exists()

    done = client.post(
        link,
        {"ease": "hard", "delay": "too_long", "recommend": "yes", "comment": " Merci ! "},
    )
    assert done.status_code == 302
    answer = SatisfactionAnswer.objects.get()
    assert (answer.cpts, answer.month, answer.outcome) == (
        cpts,
        datetime.date(2026, 6, 1),
        "withdrawn",
    )
    assert (answer.ease, answer.delay, answer.would_recommend, answer.comment) == (
        "hard",
        "too_long",
        True,
        "Merci !",
    )
    field_names = {f.name for f in SatisfactionAnswer._meta.get_fields()}
    assert field_names.isdisjoint({"request", "invitation", "created_at", "answered_at"})
    assert SatisfactionInvitation.objects.get().answered

    again = client.get(link)
    assert "Merci pour votre avis" in again.content.decode()
    assert "fieldset" not in again.content.decode()
    replay = client.post(link, {"ease": "easy", "delay": "short", "recommend": "no"})
    assert "Merci pour votre avis" in replay.content.decode()
    assert SatisfactionAnswer.objects.count() == 1


def test_expired_and_broken_links_get_a_clear_page(client, cpts, monkeypatch):
    request = closed(cpts)
    satisfaction_invite(now=NOW)
    link = survey_link(request)

    broken = client.get(link.replace("/avis/", "x/avis/"))
    assert broken.status_code == 404
    assert "Ce lien ne fonctionne pas" in broken.content.decode()

    monkeypatch.setattr(satisfaction, "LINK_LIFETIME", datetime.timedelta(seconds=-1))
    expired = client.get(link)
    assert expired.status_code == 404
    assert "Ce lien a expiré" in expired.content.decode()
    assert client.post(link, {"ease": "easy"}).status_code == 404


# --- the indicators ------------------------------------------------------------------------------


def answered(cpts, *, month, outcome="mt_found", answer=None, **fields):
    """An invitation for a closing of `month`, answered with `answer` (a dict) or not."""
    request = RequestFactory(cpts=cpts)
    invitation = SatisfactionInvitation.objects.create(
        cpts=cpts, request=request, outcome=outcome, month=month, sent_at=NOW, **fields
    )
    if answer is not None:
        satisfaction_answer(invitation=invitation, **answer)
    return invitation


HAPPY = {"ease": "very_easy", "delay": "reasonable", "would_recommend": True}
UNHAPPY = {"ease": "very_hard", "delay": "too_long", "would_recommend": False}


def rows_of(response, code):
    for result in response.context["results"]:
        if result["indicator"].code == code:
            return {row[0]: row[1:] for row in result["rows"]}
    raise AssertionError(code)


def section(client, cpts, role, **query):
    client.force_login(MembershipFactory(cpts=cpts, role=role).user)
    url = reverse(
        "reporting:indicators_section",
        kwargs={"cpts_slug": cpts.slug, "section_slug": "satisfaction"},
    )
    return client.get(url, query)


@pytest.fixture
def survey_year(cpts):
    """Contract year 2026-04-01 → 2027-03-31; previous one from 2025-04-01."""
    may, june = datetime.date(2026, 5, 1), datetime.date(2026, 6, 1)
    for _ in range(6):
        answered(cpts, month=may, answer=HAPPY)
    answered(cpts, month=june, answer={**UNHAPPY, "comment": "Trop long, sans nouvelles."})
    answered(cpts, month=june, outcome="withdrawn", answer={**HAPPY, "comment": "Bien."})
    answered(cpts, month=june, outcome="withdrawn", answer=UNHAPPY)
    for _ in range(3):
        answered(cpts, month=june)  # invited, no answer
    SatisfactionInvitation.objects.create(cpts=cpts, outcome="mt_found", month=june)  # unsent
    answered(cpts, month=datetime.date(2025, 7, 1), answer=UNHAPPY)  # previous year
    answered(cpts, month=datetime.date(2027, 4, 1), answer=HAPPY)  # next year
    answered(CPTSFactory(), month=may, answer=HAPPY)  # another CPTS


def test_coordinator_sees_every_figure_of_the_contract_year(client, cpts, survey_year):
    response = section(client, cpts, Role.COORDINATOR, periode="aci", debut="2026-09-01")
    assert response.status_code == 200
    rates = rows_of(response, "satisfaction.response")
    # mt_found: 6 May + 1 June answered + 3 unanswered = 10 sent, 7 answered; 1 unsent
    assert rates["médecin traitant trouvé"] == [10, 7, 70.0, 1]
    assert rates["demande retirée"] == [2, 2, 100.0, 0]
    assert rates["Total"] == [12, 9, 75.0, 1]
    ease = rows_of(response, "satisfaction.ease")
    assert ease["très facile"] == [7, 77.8, 0, 0.0]  # 7 of 9 answers; before: 0 of 1
    assert ease["très difficile"] == [2, 22.2, 1, 100.0]
    assert ease["plutôt facile"] == [0, 0.0, 0, 0.0]
    assert rows_of(response, "satisfaction.delay")["beaucoup trop long"][:2] == [2, 22.2]
    assert rows_of(response, "satisfaction.recommend")["oui"][:2] == [7, 77.8]
    comments = next(
        result["rows"]
        for result in response.context["results"]
        if result["indicator"].code == "satisfaction.comments"
    )
    assert sorted(comments) == [
        ["juin 2026", "demande retirée", "Bien."],
        ["juin 2026", "médecin traitant trouvé", "Trop long, sans nouvelles."],
    ]
    assert "Trop long, sans nouvelles." in response.content.decode()


def test_observer_sees_masked_figures_and_no_comment(client, cpts, survey_year):
    response = section(client, cpts, Role.OBSERVER, periode="aci", debut="2026-09-01")
    rates = rows_of(response, "satisfaction.response")
    assert rates["médecin traitant trouvé"] == [10, 7, 70.0, "< 5"]
    assert rates["demande retirée"] == ["< 5", "< 5", "—", 0]
    ease = rows_of(response, "satisfaction.ease")
    assert ease["très facile"] == [7, 77.8, 0, "—"]
    assert ease["très difficile"] == ["< 5", "—", "< 5", "—"]
    codes = [result["indicator"].code for result in response.context["results"]]
    assert "satisfaction.comments" not in codes
    body = response.content.decode()
    assert "sans nouvelles" not in body and "Bien." not in body


def test_a_household_settled_by_its_usual_gp_is_invited_as_an_mt_found():
    from accesmt.reporting.satisfaction import due_requests

    request = RequestFactory(
        status="closed",
        closed_reason="usual_gp",
        closed_at=NOW - datetime.timedelta(days=2),
    )
    assert request in due_requests(now=NOW)
    assert satisfaction_invite(now=NOW) >= 1
    invitation = SatisfactionInvitation.objects.get(request=request)
    assert invitation.outcome == "mt_found"


def test_comments_are_blanked_after_their_retention_period(settings):
    """ADR 0027: the free comment may name someone; the ticked answers stay for the figures."""
    from accesmt.notifications import jobs
    from accesmt.reporting.satisfaction import satisfaction_comments_blank

    settings.SATISFACTION_COMMENT_RETENTION_DAYS = 365
    cpts = CPTSFactory()
    now = timezone.now()
    today = timezone.localdate(now)

    def answer(days_ago):
        month = (today - datetime.timedelta(days=days_ago)).replace(day=1)
        return SatisfactionAnswer.objects.create(
            cpts=cpts,
            month=month,
            outcome="mt_found",
            ease="easy",
            delay="reasonable",
            would_recommend=True,
            comment="Merci au Dr Martin",
        )

    old, recent = answer(500), answer(100)
    assert satisfaction_comments_blank(now=now) == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.comment, old.outcome, old.would_recommend) == ("", "mt_found", True)
    assert recent.comment == "Merci au Dr Martin"
    assert satisfaction_comments_blank(now=now) == 0
    assert "reporting.satisfaction_comments_blank" in jobs.registered()
